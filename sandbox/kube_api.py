"""The sandbox's Kubernetes API: kmock's in-memory emulator, filled from the world by the official client.

`KubeSandbox` runs `kmock.KubernetesEmulator` on 127.0.0.1 in a background thread and
writes the cluster's live state as of the world's clock into it through the
`kubernetes` client, as a controller would: namespaces, nodes, running and pending
pods, and the events of the last hour (real events expire after about an hour).
When the sandbox clock moves it creates, patches and deletes objects so a second
sync sees what changed in between.

kmock 0.8 serves lists, reads, writes and watches from memory but has gaps that a
collector meets; `_Emulator` fills the ones that matter here (see `KMOCK_GAPS`).
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import datetime as dt
import json
import re
import secrets
import socket
import threading
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock
import yaml
from kmock._internal import rendering
from kubernetes import client as k8s

from sandbox.http import LOOPBACK, SandboxState
from sandbox.world.model import Cluster, ClusterEvent, Pod, World

# The CPU pool is provisioned by Karpenter (its nodes carry karpenter.sh/nodepool and no EKS
# node-group label); the GPU group is an EKS managed node group scaled by cluster-autoscaler.
KARPENTER_POOLS = frozenset({"cpu-general"})
EVENT_TTL = dt.timedelta(hours=1)  # the API server's default --event-ttl
REGION = "eu-west-1"
CONTAINER = "main"

KMOCK_GAPS = (
    "kmock 0.8 cannot parse /api/v1/namespaces[/name] (it reads 'namespaces' as the namespaced "
    "path prefix); _Emulator routes those paths itself",
    "lists ignore labelSelector, fieldSelector, limit and continue; _Emulator applies them",
    "lists carry no kind/apiVersion and resourceVersion '...'; _Emulator fills them",
    "watches ignore timeoutSeconds; _Emulator ends them after it, and filters by selectors",
    "watches replay every object as ADDED whatever resourceVersion is asked (no 410 Gone, "
    "no bookmarks)",
    "no authentication; _Emulator checks the bearer token",
    "no fault injection; _Emulator plays the sandbox's 'kube' faults (429, 5xx, slow, hang)",
    "every request and deleted object is kept (for test assertions) and scanned on each request, "
    "so a long-lived server slows down linearly; _Emulator forgets them once answered",
    "a list of a resource never created is a 404; KubeSandbox declares its resources",
    "objects get no uid, resourceVersion or creationTimestamp; KubeSandbox sets them",
)


@dataclass(frozen=True, slots=True)
class Shape:
    cpu: int  # vCPUs
    memory: int  # bytes
    pods: int  # the VPC CNI's max pods


_GI = 1 << 30
INSTANCE_SHAPES = {
    "m5.xlarge": Shape(4, 16 * _GI, 58),
    "m5.2xlarge": Shape(8, 32 * _GI, 58),
    "m5.4xlarge": Shape(16, 64 * _GI, 234),
    "g5.xlarge": Shape(4, 16 * _GI, 58),
    "g5.2xlarge": Shape(8, 32 * _GI, 58),
    "g5.12xlarge": Shape(48, 192 * _GI, 234),
    "p4d.24xlarge": Shape(96, 1152 * _GI, 737),
}
DEFAULT_SHAPE = Shape(8, 32 * _GI, 58)


# --- the world's cluster as objects at one moment -------------------------------------------


@dataclass(slots=True)
class NodeSpan:
    """One node's life: the world records node-group sizes, pods' nodes and node events."""

    name: str
    group: str
    instance_type: str
    gpu: int
    start: dt.datetime
    end: dt.datetime | None = None

    def alive(self, t: dt.datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    @property
    def shape(self) -> Shape:
        return INSTANCE_SHAPES.get(self.instance_type, DEFAULT_SHAPE)


def node_spans(cluster: Cluster) -> list[NodeSpan]:
    """Every node the cluster ever had, named as its pods and events name it.

    The group sizes are the truth. A node with a RegisteredNode event joins then (its group
    is the one that grew at that moment); a node known only from its pods joins when its
    group next needs one, earliest-used first; a RemovingNode event ends it. Where names
    fall short of a group's size, stand-in nodes fill it; where they exceed it, the newest leave.
    """
    changes = sorted(cluster.node_groups, key=lambda c: c.at)
    grew: dict[dt.datetime, list[str]] = defaultdict(list)
    size: dict[str, int] = defaultdict(int)
    for c in changes:
        if c.count > size[c.node_group]:
            grew[c.at].append(c.node_group)
        size[c.node_group] = c.count
    registered: dict[str, dt.datetime] = {}
    removed: dict[str, dt.datetime] = {}
    for e in sorted(cluster.events, key=lambda e: e.at):
        if e.kind == "Node" and e.reason == "RegisteredNode":
            registered.setdefault(e.name, e.at)
        elif e.kind == "Node" and e.reason == "RemovingNode":
            removed.setdefault(e.name, e.at)
    first_use: dict[str, tuple[dt.datetime, str]] = {}
    for p in cluster.pods:
        if p.node and p.node_group and p.scheduled is not None:
            use = (p.scheduled, p.node_group)
            first_use[p.node] = min(first_use.get(p.node, use), use)
    groups = {c.node_group: c for c in changes}
    spans: dict[str, list[NodeSpan]] = defaultdict(list)
    for name, at in registered.items():
        group = first_use[name][1] if name in first_use else next(iter(grew.get(at, ())), None)
        if group in groups:
            c = groups[group]
            spans[group].append(
                NodeSpan(name, group, c.instance_type, c.gpu_per_node, at, removed.get(name))
            )
    waiting: dict[str, list[str]] = defaultdict(list)  # known only from pods, by first use
    for name, (_, group) in sorted(first_use.items(), key=lambda item: item[1]):
        if name not in registered:
            waiting[group].append(name)
    for c in changes:
        members = spans[c.node_group]
        live = [s for s in members if s.alive(c.at)]
        for k in range(len(live), c.count):
            pool = waiting[c.node_group]
            name = pool.pop(0) if pool else _stand_in_name(c.node_group, c.at, k)
            end = removed.get(name)
            members.append(NodeSpan(name, c.node_group, c.instance_type, c.gpu_per_node, c.at, end))
        for s in sorted(live, key=lambda s: (s.start, s.name))[c.count :]:
            s.end = c.at
    return [s for members in spans.values() for s in members if s.end is None or s.end > s.start]


def _stand_in_name(group: str, at: dt.datetime, k: int) -> str:
    n = uuid.uuid5(uuid.NAMESPACE_URL, f"node/{group}/{at.isoformat()}/{k}").int
    return f"ip-10-1-{n % 250 + 1}-{n // 250 % 250 + 1}.{REGION}.compute.internal"


def live_pods(pods: Iterable[Pod], t: dt.datetime) -> list[Pod]:
    """Pods that exist at `t`: created and not yet ended (finished pods are deleted at once)."""
    return [p for p in pods if p.created <= t and (p.ended is None or t < p.ended)]


def is_running(pod: Pod, t: dt.datetime) -> bool:
    return pod.scheduled is not None and pod.scheduled <= t


def node_labels(
    span: NodeSpan, karpenter_pools: Collection[str] = KARPENTER_POOLS
) -> dict[str, str]:
    zone = f"{REGION}{'abc'[uuid.uuid5(uuid.NAMESPACE_URL, span.name).int % 3]}"
    labels = {
        "kubernetes.io/hostname": span.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": span.instance_type,
        "beta.kubernetes.io/instance-type": span.instance_type,
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": zone,
    }
    if span.group in karpenter_pools:
        labels |= {"karpenter.sh/nodepool": span.group, "karpenter.sh/capacity-type": "on-demand"}
    else:
        labels |= {
            "eks.amazonaws.com/nodegroup": span.group,
            "eks.amazonaws.com/capacityType": "ON_DEMAND",
        }
    if span.gpu:
        labels["nvidia.com/gpu.present"] = "true"
    return labels


def node_resources(span: NodeSpan) -> tuple[dict[str, str], dict[str, str]]:
    """Capacity and allocatable as the kubelet reports them (system reservations taken off)."""
    shape = span.shape
    memory_ki = shape.memory * 97 // 100 >> 10
    capacity = {
        "cpu": str(shape.cpu),
        "memory": f"{memory_ki}Ki",
        "pods": str(shape.pods),
        "ephemeral-storage": "104845292Ki",
    }
    allocatable = {
        "cpu": f"{shape.cpu * 1000 - 90 - 10 * shape.cpu}m",
        "memory": f"{memory_ki - (255 + 11 * shape.pods) * 1024}Ki",
        "pods": str(shape.pods),
        "ephemeral-storage": "95551679760",
    }
    if span.gpu:
        capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(span.gpu)
    return capacity, allocatable


def quantity_cpu(cores: float) -> str:
    return str(int(cores)) if float(cores).is_integer() else f"{round(cores * 1000)}m"


def quantity_memory(size: int) -> str:
    for suffix, shift in (("Gi", 30), ("Mi", 20), ("Ki", 10)):
        if size and size % (1 << shift) == 0:
            return f"{size >> shift}{suffix}"
    return str(size)


def k8s_time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def k8s_micro_time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def object_uid(kind: str, *names: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join((kind, *names))))


# --- the emulator ------------------------------------------------------------------------------

_NAMESPACE_PATH = re.compile(r"/api/v1/namespaces(?:/([^/]+)(/status|/finalize)?)?/?")
_NAMESPACES_ALIAS = "teamtide-sandbox-namespaces"  # a plural kmock parses, mapped back below
NAMESPACES = kmock.resource("", "v1", "namespaces")
RESOURCES = {
    "v1/namespaces": ("Namespace", False),
    "v1/nodes": ("Node", False),
    "v1/pods": ("Pod", True),
    "v1/events": ("Event", True),
}
FILLER_HEADER = "X-Teamtide-Sandbox-Filler"
_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return aiohttp.web.json_response(body, status=code)


@attrs.define(kw_only=True)
class _Emulator(kmock.KubernetesEmulator):
    """kmock's emulator plus what a collector needs of a real API server (`KMOCK_GAPS`)."""

    token: str | None = None
    revision: int = 1  # the cluster's resourceVersion, bumped by each write
    state: SandboxState | None = None  # whose "kube" faults to play and requests to count
    filler_key: str = ""  # KubeSandbox's own writes carry it and meet no faults

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        filler = bool(self.filler_key) and raw_request.headers.get(FILLER_HEADER) == self.filler_key
        faulty = None if filler else await self._play_faults(raw_request)
        authorization = raw_request.headers.get("Authorization")
        if self.token is not None and authorization != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        if faulty is not None:
            return faulty
        match = _NAMESPACE_PATH.fullmatch(raw_request.path)
        if match is not None:
            name = match.group(1)
            path = f"/api/v1/{_NAMESPACES_ALIAS}" + (f"/{name}" if name else "")
            url = raw_request.rel_url.with_path(path).with_query(raw_request.rel_url.query)
            raw_request = raw_request.clone(rel_url=url)
        if self._errors:
            self._errors[-1].clear()  # kmock keeps every failed request's error for assertions
        return await super().__call__(raw_request)

    async def _play_faults(
        self, raw_request: aiohttp.web.BaseRequest
    ) -> aiohttp.web.Response | None:
        """The sandbox's fault knobs for service "kube", as `FaultMiddleware` plays them.

        Only this event loop consumes them, and it must not wait for `state.lock`: the clock
        holds that lock while KubeSandbox writes through this very loop.
        """
        state = self.state
        if state is None:
            return None
        state.requests["kube"] += 1
        state.requests[f"kube {raw_request.path}"] += 1
        faults = state.faults["kube"]
        hang, burst = faults.hang_next > 0, faults.error_burst > 0
        if hang:
            faults.hang_next -= 1
        if burst:
            faults.error_burst -= 1
        every = faults.rate_limit_every
        if hang:
            await asyncio.sleep(faults.hang_seconds)
        if faults.slow_seconds:
            await asyncio.sleep(faults.slow_seconds)
        if burst:
            return _status(
                faults.error_status,
                "InternalError",
                "the server is currently unable to handle the request",
            )
        if every > 0 and state.requests["kube"] % every == 0:
            response = _status(429, "TooManyRequests", "Too many requests, please try again later.")
            response.headers["Retry-After"] = str(faults.retry_after_seconds)
            return response
        return None

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if request.resource is not None and request.resource.plural == _NAMESPACES_ALIAS:
            # kmock matches reactions against its request log by identity: swap the logged one too.
            fixed = attrs.evolve(request, resource=NAMESPACES)
            self._requests[:] = [fixed if r is request else r for r in self._requests]
            request = fixed
        try:
            return await super()._handle(request)
        finally:
            # kmock logs every request and every deleted object for assertions, and scans both
            # on each request: a long-lived server would slow down with every call it answered.
            self._requests[:] = [r for r in self._requests if r is not request]
            if request.action == kmock.action.DELETE and request.resource is not None:
                key = (request.resource, request.namespace, request.name)
                async with self._lock:
                    if key in self._objects and self._objects[key].deleted:
                        del self._objects[key]

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        payload = await super()._serve_list(request)
        assert isinstance(payload, dict) and request.resource is not None
        try:
            labels = _label_selector(request.params.get("labelSelector", ""))
            fields = _field_selector(request.params.get("fieldSelector", ""))
            start = _continue_from(request.params.get("continue", ""))
            limit = int(request.params.get("limit") or 0)
        except ValueError as e:
            raise kmock.KubernetesError(400, "BadRequest", str(e)) from e
        items = sorted(
            (i for i in payload["items"] if _selected(i, labels, fields)), key=_object_key
        )
        if start:
            items = items[bisect.bisect_right([_object_key(i) for i in items], start) :]
        metadata: dict[str, Any] = {"resourceVersion": str(self.revision)}
        if limit and len(items) > limit:
            rest = len(items) - limit
            items = items[:limit]
            token = json.dumps({"v": "meta.k8s.io/v1", "start": _object_key(items[-1])})
            metadata |= {
                "continue": base64.urlsafe_b64encode(token.encode()).decode(),
                "remainingItemCount": rest,
            }
        kind = RESOURCES.get(f"v1/{request.resource.plural}", ("", True))[0]
        return {"kind": f"{kind}List", "apiVersion": "v1", "metadata": metadata, "items": items}

    async def _serve_watch(self, request: rendering.Request) -> AsyncIterator[rendering.Payload]:
        labels = _label_selector(request.params.get("labelSelector", ""))
        fields = _field_selector(request.params.get("fieldSelector", ""))
        timeout = float(request.params.get("timeoutSeconds") or 0) or None
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        events = aiter(super()._serve_watch(request))
        while True:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return
            try:
                event = await asyncio.wait_for(anext(events), remaining)
            except (TimeoutError, StopAsyncIteration):
                return
            if isinstance(event, dict) and not _selected(event.get("object", {}), labels, fields):
                continue
            yield event


def _object_key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace') or ''}/{meta.get('name', '')}"


def _continue_from(token: str) -> str:
    if not token:
        return ""
    try:
        return str(json.loads(base64.urlsafe_b64decode(token.encode()))["start"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"continue key is not valid: {e}") from e


_SET_TERM = re.compile(r"\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*")


def _label_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """Equality- and set-based terms as (key, op, values); op is =, !=, in, notin, exists, !exists."""
    terms: list[tuple[str, str, set[str]]] = []
    for part in re.split(r",(?![^(]*\))", text):
        if not part.strip():
            continue
        if m := _SET_TERM.fullmatch(part):
            terms.append((m[1], m[2], {v.strip() for v in m[3].split(",") if v.strip()}))
        elif "!=" in part:
            key, value = part.split("!=", 1)
            terms.append((key.strip(), "!=", {value.strip()}))
        elif "=" in part:
            key, value = part.replace("==", "=").split("=", 1)
            terms.append((key.strip(), "=", {value.strip()}))
        elif part.strip().startswith("!"):
            terms.append((part.strip()[1:].strip(), "!exists", set()))
        elif re.fullmatch(r"[\w./-]+", part.strip()):
            terms.append((part.strip(), "exists", set()))
        else:
            raise ValueError(f"unable to parse requirement: {part!r}")
    return terms


def _field_selector(text: str) -> list[tuple[str, bool, str]]:
    """Terms as (dotted field path, wanted equal, value)."""
    terms = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        negate = "!=" in part
        field, sep, value = part.replace("!=", "=").replace("==", "=").partition("=")
        if not sep:
            raise ValueError(f"invalid selector: {part!r}")
        terms.append((field.strip(), not negate, value.strip()))
    return terms


def _field(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _selected(
    obj: dict[str, Any],
    labels: list[tuple[str, str, set[str]]],
    fields: list[tuple[str, bool, str]],
) -> bool:
    have = obj.get("metadata", {}).get("labels") or {}
    for key, op, values in labels:
        ok = {
            "=": key in have and have[key] in values,
            "!=": have.get(key) not in values,
            "in": key in have and have[key] in values,
            "notin": have.get(key) not in values,
            "exists": key in have,
            "!exists": key not in have,
        }[op]
        if not ok:
            return False
    return all((_field(obj, path) == value) == equal for path, equal, value in fields)


class _EmulatorThread:
    """The emulator's aiohttp server on its own event loop, in a daemon thread."""

    def __init__(self, emulator: _Emulator) -> None:
        self.emulator = emulator
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((LOOPBACK, 0))
        self.port: int = self.socket.getsockname()[1]
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name="sandbox-kube", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(10) or self.error is not None:
            raise RuntimeError(f"the sandbox Kubernetes API did not start: {self.error!r}")

    def stop(self) -> None:
        if self.loop is not None and self.stopping is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stopping.set)
        if self.thread.ident is not None:
            self.thread.join(timeout=10)
        self.socket.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as e:  # reported to start(); a daemon thread has nobody else to tell
            self.error = e
            self.ready.set()

    async def _serve(self) -> None:
        self.loop, self.stopping = asyncio.get_running_loop(), asyncio.Event()
        async with self.emulator:
            runner = aiohttp.web.ServerRunner(aiohttp.web.Server(self.emulator), access_log=None)
            await runner.setup()
            await aiohttp.web.SockSite(runner, self.socket).start()
            self.ready.set()
            try:
                await self.stopping.wait()
            finally:
                await runner.cleanup()


# --- the sandbox -------------------------------------------------------------------------------


class KubeSandbox:
    """The world's cluster behind a real Kubernetes client, following the sandbox clock.

    Use as a context manager. It listens to `state`'s clock, so `SandboxState.advance`
    brings the emulator up to date before it returns; `sync_to` does it by hand. Faults set
    for service "kube" (`state.set_faults("kube", ...)`) hit every client but its own writes,
    and `state.requests` counts the requests under "kube".
    """

    def __init__(
        self,
        state: SandboxState,
        *,
        require_token: bool = True,
        karpenter_pools: Collection[str] = KARPENTER_POOLS,
    ) -> None:
        self.state = state
        self.token = state.tokens["kube"]
        self.karpenter_pools = frozenset(karpenter_pools)
        self.emulator = _Emulator(
            token=self.token if require_token else None,
            state=state,
            filler_key=secrets.token_hex(16),
        )
        for key, (kind, namespaced) in RESOURCES.items():
            self.emulator.resources[key] = kmock.ResourceInfo(
                kind=kind, namespaced=namespaced, singular=kind.lower(), verbs=_VERBS
            )
        self.server = _EmulatorThread(self.emulator)
        self.api_url = f"http://{LOOPBACK}:{self.server.port}"
        self._api: k8s.CoreV1Api | None = None
        self._prepare(state.world)
        self._namespaces: set[str] = set()
        self._nodes: set[str] = set()
        self._pods: dict[tuple[str, str], bool] = {}  # -> running
        self._events: set[tuple[str, str]] = set()
        self._synced: dt.datetime | None = None

    def _prepare(self, world: World) -> None:
        cluster = world.cluster
        self.spans = sorted(node_spans(cluster), key=lambda s: s.start)
        self.pods = sorted(cluster.pods, key=lambda p: p.created)
        self._created = [p.created for p in self.pods]
        self.events = sorted(cluster.events, key=lambda e: e.at)
        self._event_times = [e.at for e in self.events]
        self._pod_uid = {
            (p.namespace, p.name): object_uid("pod", p.namespace, p.name) for p in self.pods
        }
        self._unschedulable: dict[tuple[str, str], list[ClusterEvent]] = defaultdict(list)
        for e in self.events:
            if e.kind == "Pod" and e.reason == "FailedScheduling":
                self._unschedulable[e.namespace, e.name].append(e)

    # -- life cycle

    def start(self) -> KubeSandbox:
        try:
            self.server.start()
            filler = k8s.ApiClient(self.configuration())
            filler.set_default_header(FILLER_HEADER, self.emulator.filler_key)
            self._api = k8s.CoreV1Api(filler)
            with self.state.lock:
                self.sync_to(self.state.world.clock)
                self.state.clock_listeners.append(self._on_advance)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        with self.state.lock:
            if self._on_advance in self.state.clock_listeners:
                self.state.clock_listeners.remove(self._on_advance)
        if self._api is not None:
            self._api.api_client.close()
            self._api = None
        self.server.stop()

    def __enter__(self) -> KubeSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_advance(self, before: dt.datetime, to: dt.datetime) -> None:
        self.sync_to(to)

    # -- how a client connects

    def configuration(self) -> k8s.Configuration:
        """A client configuration for the sandbox by URL (what `kubeconfig` writes, in memory)."""
        config = k8s.Configuration(host=self.api_url)
        config.api_key = {"BearerToken": self.token}
        config.api_key_prefix = {"BearerToken": "Bearer"}
        return config

    def kubeconfig(self, path: str | Path) -> Path:
        """Write a kubeconfig whose context `sandbox` reaches this API with the bearer token."""
        path = Path(path)
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": self.api_url}}],
            "users": [{"name": "teamtide-bot", "user": {"token": self.token}}],
            "contexts": [
                {"name": "sandbox", "context": {"cluster": "sandbox", "user": "teamtide-bot"}}
            ],
            "current-context": "sandbox",
            "preferences": {},
        }
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    # -- keeping the emulator at the clock

    def sync_to(self, clock: dt.datetime) -> None:
        """Create, patch and delete objects so the API shows the cluster as it is at `clock`."""
        api = self._api
        if api is None:
            raise RuntimeError("start the KubeSandbox before syncing it")
        if self._synced is not None and clock < self._synced:
            raise ValueError(f"the cluster only moves forward ({clock} < {self._synced})")
        world = self.state.world
        for ns in ["default", "kube-system", *world.cluster.namespaces]:
            if ns not in self._namespaces:
                api.create_namespace(self._namespace_body(ns, world.start))
                self._namespaces.add(ns)
        nodes = {s.name: s for s in self.spans if s.alive(clock)}
        for name, span in nodes.items():
            if name not in self._nodes:
                api.create_node(self._node_body(span))
                self._nodes.add(name)
        self._sync_pods(api, clock)
        self._sync_events(api, clock)
        for name in sorted(self._nodes - nodes.keys()):
            api.delete_node(name)
            self._nodes.discard(name)
        self._synced = clock

    def _sync_pods(self, api: k8s.CoreV1Api, clock: dt.datetime) -> None:
        live = {
            (p.namespace, p.name): p
            for p in live_pods(self.pods[: bisect.bisect_right(self._created, clock)], clock)
        }
        for key in sorted(self._pods.keys() - live.keys()):
            api.delete_namespaced_pod(key[1], key[0], grace_period_seconds=0)
            del self._pods[key]
        for key, pod in live.items():
            running = is_running(pod, clock)
            if key not in self._pods:
                api.create_namespaced_pod(pod.namespace, self._pod_body(pod, clock))
            elif running and not self._pods[key]:
                body = self._pod_body(pod, clock)
                patch = {
                    "metadata": {"resourceVersion": self._revision()},
                    "spec": body["spec"],
                    "status": body["status"],
                }
                api.patch_namespaced_pod_status(pod.name, pod.namespace, patch)
            self._pods[key] = running

    def _sync_events(self, api: k8s.CoreV1Api, clock: dt.datetime) -> None:
        lo = bisect.bisect_right(self._event_times, clock - EVENT_TTL)
        hi = bisect.bisect_right(self._event_times, clock)
        fresh = {(e.namespace, self._event_name(e)): e for e in self.events[lo:hi]}
        for key in sorted(self._events - fresh.keys()):
            api.delete_namespaced_event(key[1], key[0])
            self._events.discard(key)
        for key, event in fresh.items():
            if key not in self._events:
                api.create_namespaced_event(event.namespace, self._event_body(event))
                self._events.add(key)

    # -- object bodies

    def _revision(self) -> str:
        self.emulator.revision += 1
        return str(self.emulator.revision)

    def _meta(self, name: str, uid: str, created: dt.datetime, **more: Any) -> dict[str, Any]:
        meta = {
            "name": name,
            "uid": uid,
            "resourceVersion": self._revision(),
            "creationTimestamp": k8s_time(created),
        }
        return meta | more

    def _namespace_body(self, ns: str, created: dt.datetime) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": self._meta(
                ns, object_uid("namespace", ns), created, labels={"kubernetes.io/metadata.name": ns}
            ),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    def _node_body(self, span: NodeSpan) -> dict[str, Any]:
        capacity, allocatable = node_resources(span)
        labels = node_labels(span, self.karpenter_pools)
        zone = labels["topology.kubernetes.io/zone"]
        instance = f"i-0{uuid.uuid5(uuid.NAMESPACE_URL, span.name).hex[:16]}"
        ip = span.name.split(".")[0].removeprefix("ip-").replace("-", ".")
        spec: dict[str, Any] = {"providerID": f"aws:///{zone}/{instance}"}
        if span.gpu:
            spec["taints"] = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
        ready = k8s_time(span.start + dt.timedelta(seconds=40))
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": self._meta(
                span.name, object_uid("node", span.name), span.start, labels=labels
            ),
            "spec": spec,
            "status": {
                "capacity": capacity,
                "allocatable": allocatable,
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                        "lastHeartbeatTime": ready,
                        "lastTransitionTime": ready,
                    }
                ],
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": span.name},
                ],
                "nodeInfo": {
                    "architecture": "amd64",
                    "operatingSystem": "linux",
                    "osImage": "Amazon Linux 2",
                    "kernelVersion": "5.10.220-209.869.amzn2.x86_64",
                    "containerRuntimeVersion": "containerd://1.7.11",
                    "kubeletVersion": "v1.29.3-eks-ae9a62a",
                    "kubeProxyVersion": "v1.29.3-eks-ae9a62a",
                    "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, span.name).hex,
                    "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_OID, span.name)),
                    "bootID": str(uuid.uuid5(uuid.NAMESPACE_X500, span.name)),
                },
            },
        }

    def _pod_body(self, pod: Pod, clock: dt.datetime) -> dict[str, Any]:
        requests = {"cpu": quantity_cpu(pod.cpu), "memory": quantity_memory(pod.memory)}
        limits: dict[str, str] = {"memory": quantity_memory(pod.memory)}
        if pod.gpu:
            requests["nvidia.com/gpu"] = limits["nvidia.com/gpu"] = str(pod.gpu)
        app = pod.name.rsplit("-", 1)[0]
        spec: dict[str, Any] = {
            "containers": [
                {
                    "name": CONTAINER,
                    "image": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{app}:latest",
                    "resources": {"requests": requests, "limits": limits},
                }
            ],
            "restartPolicy": "Never" if pod.gpu else "OnFailure",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
            "priority": 0,
        }
        if pod.gpu:
            spec["tolerations"] = [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ]
        created = k8s_time(pod.created)
        if is_running(pod, clock):
            assert pod.scheduled is not None
            started = k8s_time(pod.scheduled)
            ready = k8s_time(pod.scheduled + dt.timedelta(seconds=8))
            spec["nodeName"] = pod.node
            host_ip = (pod.node or "").split(".")[0].removeprefix("ip-").replace("-", ".")
            suffix = uuid.UUID(self._pod_uid[pod.namespace, pod.name]).int
            status: dict[str, Any] = {
                "phase": "Running",
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
                    {"type": "Initialized", "status": "True", "lastTransitionTime": started},
                    {"type": "ContainersReady", "status": "True", "lastTransitionTime": ready},
                    {"type": "Ready", "status": "True", "lastTransitionTime": ready},
                ],
                "hostIP": host_ip,
                "podIP": f"10.0.{suffix % 250 + 1}.{suffix // 250 % 250 + 1}",
                "startTime": started,
                "containerStatuses": [
                    {
                        "name": CONTAINER,
                        "ready": True,
                        "restartCount": 0,
                        "started": True,
                        "image": spec["containers"][0]["image"],
                        "imageID": "",
                        "state": {"running": {"startedAt": ready}},
                    }
                ],
                "qosClass": "Burstable",
            }
        else:
            failures = [
                e for e in self._unschedulable.get((pod.namespace, pod.name), []) if e.at <= clock
            ]
            message = (
                failures[-1].message
                if failures
                else "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
            )
            status = {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": message,
                        "lastTransitionTime": created,
                        "lastProbeTime": None,
                    }
                ],
                "qosClass": "Burstable",
            }
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": self._meta(
                pod.name,
                self._pod_uid[pod.namespace, pod.name],
                pod.created,
                namespace=pod.namespace,
                labels={"app.kubernetes.io/name": app},
            ),
            "spec": spec,
            "status": status,
        }

    @staticmethod
    def _event_name(event: ClusterEvent) -> str:
        return f"{event.name}.{uuid.UUID(event.uid).hex[-16:]}"

    def _event_body(self, event: ClusterEvent) -> dict[str, Any]:
        involved: dict[str, Any] = {"kind": event.kind, "name": event.name, "apiVersion": "v1"}
        if event.kind == "Pod":
            involved |= {"namespace": event.namespace}
            involved["uid"] = self._pod_uid.get(
                (event.namespace, event.name), object_uid("pod", event.namespace, event.name)
            )
        elif event.kind == "Node":
            involved["uid"] = object_uid("node", event.name)
        component = _EVENT_SOURCES.get(event.reason, "kubelet")
        at = k8s_time(event.at)
        source: dict[str, str] = {"component": component}
        if event.kind == "Node":
            source["host"] = event.name
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": self._meta(
                self._event_name(event), event.uid, event.at, namespace=event.namespace
            ),
            "involvedObject": involved,
            "reason": event.reason,
            "message": event.message,
            "type": event.type,
            "count": 1,
            "firstTimestamp": at,
            "lastTimestamp": at,
            "eventTime": k8s_micro_time(event.at),
            "source": source,
            "reportingComponent": component,
            "reportingInstance": source.get("host", f"{component}-{REGION}"),
        }


_EVENT_SOURCES = {
    "FailedScheduling": "default-scheduler",
    "Scheduled": "default-scheduler",
    "TriggeredScaleUp": "cluster-autoscaler",
    "NotTriggerScaleUp": "cluster-autoscaler",
    "ScaleDown": "cluster-autoscaler",
    "RegisteredNode": "node-controller",
    "RemovingNode": "node-controller",
    "OOMKilling": "kernel-monitor",
    "Evicted": "kubelet",
}
