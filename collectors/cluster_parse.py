"""Kubernetes objects (raw API JSON) turned into teamtide's cluster rows: pure, no I/O.

A live snapshot becomes one `cluster_samples` row per namespace (what its running pods
request, how many pods wait and since when, and why), `cluster_nodes` rows per
(node group, instance type), and the `cluster_events` worth keeping. Objects are read
as the API server's JSON rather than the client's models, so one malformed object
becomes a reject instead of failing the whole list.

The pods the API still lists also tell the past (`parse_pod_life`, `history_rows`): a
pod holds its requests from its `status.startTime` until its last container's
`finishedAt`, so every whole hour since the earliest finish still listed can be rebuilt
(`history_horizon`), except who was pending then, which no listed object records.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from collectors.base import Reject
from collectors.parsing import ParseError, optional_time, parse_time
from db.models import POD_HISTORY, PROMETHEUS_BACKFILL, SNAPSHOT

GPU = "nvidia.com/gpu"
# Node-group labels in order of preference when the org file names none: EKS managed node
# groups, Karpenter node pools (v1, then the v1beta provisioner), eksctl, GKE, AKS.
NODE_GROUP_LABELS = (
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "karpenter.sh/provisioner-name",
    "alpha.eksctl.io/nodegroup-name",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
)
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
NO_GROUP = "(none)"  # a node carrying none of the node-group labels
UNKNOWN_TYPE = "(unknown)"

# Event reasons kept: capacity and scheduling (scheduler, cluster-autoscaler, Karpenter),
# nodes joining and leaving (node controller, kubelet), and pods killed for memory or
# evicted. Everything else (pulls, probes, restarts) is noise for the infra toil signal.
KEPT_REASONS = frozenset(
    {
        "FailedScheduling",
        "TriggeredScaleUp",
        "NotTriggerScaleUp",
        "ScaleDown",
        "ScaleDownEmpty",
        "FailedToScaleUpGroup",
        "ScaledUpGroup",
        "RegisteredNode",
        "RemovingNode",
        "DeletingNode",
        "NodeNotReady",
        "OOMKilling",
        "OOMKilled",
        "SystemOOM",
        "Evicted",
        "Preempted",
        "EvictionThresholdMet",
        "DisruptionLaunching",
        "DisruptionTerminating",
    }
)

# Kubernetes' quantity grammar (k8s.io/apimachinery resource.Quantity): a signed decimal,
# then a binary suffix (Ki..Ei), a decimal exponent (e3, E-2) or a decimal SI suffix.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|[eE](?P<exponent>[+-]?\d+)|(?P<si>[numkMGTPE]?))"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_SI = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
EXCERPT_CHARS = 400


def parse_quantity(value: Any, what: str = "quantity") -> float:
    """A Kubernetes quantity (`500m`, `2Gi`, `1e3`, `1.5`, or a JSON number) as a float."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"{what} is not a quantity: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ParseError(f"{what} is not a quantity: {value!r}")
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ParseError(f"{what} is not a Kubernetes quantity: {value!r}")
    number = Decimal(match["number"])  # exact: 0.1 x 1000 stays 100, not 100.00000000000001
    if match["binary"]:
        number *= Decimal(1024) ** _BINARY[match["binary"]]
    elif match["exponent"] is not None:
        number = number.scaleb(int(match["exponent"]))
    else:
        number = number.scaleb(_SI[match["si"]])
    return float(number)


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParseError(f"{what} is not an object: {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{what} is not a list: {type(value).__name__}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ParseError(f"{what} is missing or not text: {value!r}")
    return value


def team_of(namespace: str | None, patterns: Mapping[str, str]) -> str | None:
    """The team of the first namespace glob that matches (org-file order); None when none does."""
    if namespace is None:
        return None
    for pattern, team in patterns.items():
        if fnmatch.fnmatchcase(namespace, pattern):
            return team or None
    return None


# ---------------------------------------------------------------- pods


@dataclass(frozen=True)
class PodState:
    namespace: str
    name: str
    uid: str | None
    phase: str
    cpu: float  # cores the scheduler reserves for it
    memory: float  # bytes
    gpu: float
    created: dt.datetime
    pending_since: dt.datetime | None  # set while Pending
    condition_message: str | None  # PodScheduled=False's message, while Pending
    oom_kills: tuple[tuple[str, dt.datetime], ...] = ()  # (container, finishedAt)


def _requests(container: Any, what: str) -> dict[str, float]:
    resources = _mapping(_mapping(container, what).get("resources"), f"{what}.resources")
    requests = dict(_mapping(resources.get("requests"), f"{what}.resources.requests"))
    # The API server copies limits into missing requests; older objects may not show it.
    for name, limit in _mapping(resources.get("limits"), f"{what}.resources.limits").items():
        requests.setdefault(name, limit)
    return {
        name: parse_quantity(requests[name], f"{what}.resources.requests.{name}")
        for name in ("cpu", "memory", GPU)
        if name in requests
    }


def pod_requests(spec: Mapping[str, Any]) -> dict[str, float]:
    """What the scheduler reserves: max(sum of containers, largest init container) + overhead.

    Init containers run one after the other before the app containers, so the pod needs
    the larger of the two; restartable init containers (sidecars) run alongside and add
    to both.
    """
    totals = dict.fromkeys(("cpu", "memory", GPU), 0.0)
    sidecars = dict.fromkeys(totals, 0.0)
    init_peak = dict.fromkeys(totals, 0.0)
    for k, container in enumerate(_list(spec.get("containers"), "spec.containers")):
        for name, amount in _requests(container, f"spec.containers[{k}]").items():
            totals[name] += amount
    for k, container in enumerate(_list(spec.get("initContainers"), "spec.initContainers")):
        amounts = _requests(container, f"spec.initContainers[{k}]")
        sidecar = isinstance(container, Mapping) and container.get("restartPolicy") == "Always"
        for name, amount in amounts.items():
            if sidecar:
                sidecars[name] += amount
            else:
                init_peak[name] = max(init_peak[name], sidecars[name] + amount)
    overhead = _mapping(spec.get("overhead"), "spec.overhead")
    out = {}
    for name in totals:
        extra = parse_quantity(overhead[name], f"spec.overhead.{name}") if name in overhead else 0
        out[name] = max(totals[name] + sidecars[name], init_peak[name]) + extra
    return out


def _oom_kills(status: Mapping[str, Any]) -> tuple[tuple[str, dt.datetime], ...]:
    """Containers whose current or last run ended OOMKilled: the kubelet emits no event for it."""
    kills = []
    for key in ("initContainerStatuses", "containerStatuses"):
        for k, cs in enumerate(_list(status.get(key), f"status.{key}")):
            cs = _mapping(cs, f"status.{key}[{k}]")
            for state_key in ("state", "lastState"):
                state = _mapping(cs.get(state_key), f"status.{key}[{k}].{state_key}")
                ended = _mapping(
                    state.get("terminated"), f"status.{key}[{k}].{state_key}.terminated"
                )
                if ended.get("reason") == "OOMKilled" and ended.get("finishedAt"):
                    at = parse_time(ended["finishedAt"], f"status.{key}[{k}] finishedAt")
                    kills.append((str(cs.get("name") or k), at))
    return tuple(dict.fromkeys(kills))


def parse_pod(raw: Any) -> PodState:
    pod = _mapping(raw, "pod")
    meta = _mapping(pod.get("metadata"), "metadata")
    spec = _mapping(pod.get("spec"), "spec")
    status = _mapping(pod.get("status"), "status")
    namespace = _text(meta.get("namespace"), "metadata.namespace")
    name = _text(meta.get("name"), "metadata.name")
    created = parse_time(meta.get("creationTimestamp"), "metadata.creationTimestamp")
    phase = status.get("phase") if isinstance(status.get("phase"), str) else "Unknown"
    requests = pod_requests(spec)
    pending_since, message = None, None
    if phase == "Pending":
        pending_since = created
        for k, cond in enumerate(_list(status.get("conditions"), "status.conditions")):
            cond = _mapping(cond, f"status.conditions[{k}]")
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                message = cond.get("message") if isinstance(cond.get("message"), str) else None
    uid = meta.get("uid") if isinstance(meta.get("uid"), str) else None
    return PodState(
        namespace,
        name,
        uid,
        phase,
        requests["cpu"],
        requests["memory"],
        requests[GPU],
        created,
        pending_since,
        message,
        _oom_kills(status),
    )


# ---------------------------------------------------------------- pod lifetimes, for history


@dataclass(frozen=True)
class PodLife:
    """When a pod held its requests: from `started` to `finished` (None: it still does)."""

    namespace: str
    name: str
    cpu: float
    memory: float
    gpu: float
    started: dt.datetime | None  # status.startTime: None while it never ran
    finished: dt.datetime | None  # its last container's end; None: still running, or never ran

    def holds_at(self, t: dt.datetime) -> bool:
        return (
            self.started is not None
            and self.started <= t
            and (self.finished is None or t < self.finished)
        )


FINISHED_PHASES = ("Succeeded", "Failed")


def _container_times(status: Mapping[str, Any]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """(startedAt, finishedAt) of every container run the status records, current and last."""
    starts, ends = [], []
    for key in ("initContainerStatuses", "containerStatuses"):
        for k, cs in enumerate(_list(status.get(key), f"status.{key}")):
            cs = _mapping(cs, f"status.{key}[{k}]")
            for state_key in ("state", "lastState"):
                state = _mapping(cs.get(state_key), f"status.{key}[{k}].{state_key}")
                where = f"status.{key}[{k}].{state_key}"
                for phase in ("running", "terminated"):
                    part = _mapping(state.get(phase), f"{where}.{phase}")
                    began = optional_time(part.get("startedAt"), f"{where}.{phase}.startedAt")
                    if began is not None:
                        starts.append(began)
                ended = _mapping(state.get("terminated"), f"{where}.terminated")
                end = optional_time(ended.get("finishedAt"), f"{where}.terminated.finishedAt")
                if end is not None:
                    ends.append(end)
    return starts, ends


def parse_pod_life(raw: Any) -> PodLife:
    """A pod's requests and when it held them, from what the API still shows of it.

    It holds them from `status.startTime` (the kubelet took it: its node reserves them;
    the first container start when the pod does not say). A pod that finished (Succeeded,
    Failed) held them until its last container's `finishedAt`; where no container end is
    recorded (an evicted pod's runtime forgets it) until its Ready condition turned False.
    A finished pod that ran but says neither is refused: its hours cannot be placed.
    """
    pod = _mapping(raw, "pod")
    meta = _mapping(pod.get("metadata"), "metadata")
    status = _mapping(pod.get("status"), "status")
    namespace = _text(meta.get("namespace"), "metadata.namespace")
    name = _text(meta.get("name"), "metadata.name")
    requests = pod_requests(_mapping(pod.get("spec"), "spec"))
    phase = status.get("phase") if isinstance(status.get("phase"), str) else "Unknown"
    starts, ends = _container_times(status)
    started = optional_time(status.get("startTime"), "status.startTime") or min(
        starts, default=None
    )
    finished = None
    if phase in FINISHED_PHASES and started is not None:
        finished = max(ends, default=None)
        if finished is None:
            for k, cond in enumerate(_list(status.get("conditions"), "status.conditions")):
                cond = _mapping(cond, f"status.conditions[{k}]")
                if cond.get("type") == "Ready" and cond.get("status") == "False":
                    finished = optional_time(
                        cond.get("lastTransitionTime"),
                        f"status.conditions[{k}].lastTransitionTime",
                    )
        if finished is None:
            raise ParseError(
                f"a {phase} pod that ran records no end: no container finishedAt "
                "and no Ready=False lastTransitionTime"
            )
        finished = max(finished, started)
    elif phase == "Running" and started is None:
        raise ParseError("a Running pod without status.startTime or a container start")
    return PodLife(
        namespace, name, requests["cpu"], requests["memory"], requests[GPU], started, finished
    )


def history_horizon(lives: Iterable[PodLife]) -> dt.datetime | None:
    """Since when the listed pods tell the whole story: the earliest end still listed.

    Finished pods leave the API oldest first (a Job's TTL after its end, the pod garbage
    collector by age), so every pod that held requests at a moment after the earliest
    end still listed is itself still listed. None: no finished pod is listed, so nothing
    says how far back the record goes.
    """
    return min((life.finished for life in lives if life.finished is not None), default=None)


def history_rows(
    first: dt.datetime,
    last: dt.datetime,
    namespaces: Mapping[str, dt.datetime | None],
    lives: Sequence[PodLife],
    patterns: Mapping[str, str],
) -> list[dict[str, Any]]:
    """A sample per whole hour from `first` to `last` (inclusive) and existing namespace.

    `namespaces` maps each namespace to its creation (None: always there); a namespace
    only a pod names counts as always there. At hour h a pod counts when it held its
    requests then (`PodLife.holds_at`). Pending pods left no trace in what the API still
    lists, so the pending columns are None (not known), never 0.
    """
    hours = int((last - first) // dt.timedelta(hours=1)) + 1
    if hours <= 0:
        return []
    created = dict(namespaces)
    for life in lives:
        created.setdefault(life.namespace, None)
    names = sorted(created)
    index = {ns: k for k, ns in enumerate(names)}
    # +value at the first hour a pod holds its requests, -value at the first it no longer does
    steps = np.zeros((4, len(names), hours + 1))
    first_s = first.timestamp()

    def hour_at_or_after(moment: dt.datetime) -> int:
        return min(max(math.ceil((moment.timestamp() - first_s) / 3600), 0), hours)

    for life in lives:
        if life.started is None:
            continue
        lo = hour_at_or_after(life.started)
        hi = hours if life.finished is None else hour_at_or_after(life.finished)
        if hi <= lo:
            continue
        k = index[life.namespace]
        for column, value in enumerate((life.cpu, life.memory, life.gpu, 1.0)):
            steps[column, k, lo] += value
            steps[column, k, hi] -= value
    totals = np.cumsum(steps, axis=2)[:, :, :hours]
    rows = []
    for h in range(hours):
        at = first + dt.timedelta(hours=h)
        for ns in names:
            since = created[ns]
            if since is not None and since > at:
                continue
            k = index[ns]
            row = sample_rows(at, [ns], [], {}, patterns, POD_HISTORY)[0]
            # sums of + and - steps: round off the floating-point residue of a 0.1 + 0.2
            row["cpu_requested"] = round(float(totals[0, k, h]), 6)
            row["memory_requested"] = float(round(totals[1, k, h]))
            row["gpu_requested"] = round(float(totals[2, k, h]), 6)
            row["pods_running"] = round(totals[3, k, h])
            row["pods_pending"] = row["gpu_pods_pending"] = None
            rows.append(row)
    return rows


def parse_namespace_created(raw: Any) -> tuple[str, dt.datetime | None]:
    """A namespace's name and creation time (None when the API leaves it out)."""
    meta = _mapping(_mapping(raw, "namespace").get("metadata"), "metadata")
    created = optional_time(meta.get("creationTimestamp"), "metadata.creationTimestamp")
    return _text(meta.get("name"), "metadata.name"), created


# ---------------------------------------------------------------- nodes and namespaces


@dataclass(frozen=True)
class NodeState:
    name: str
    group: str
    instance_type: str
    gpu: int


def node_group_of(labels: Mapping[str, Any], configured: str | None = None) -> str:
    for label in (configured, *NODE_GROUP_LABELS):
        if label and isinstance(labels.get(label), str) and labels[label]:
            return labels[label]
    return NO_GROUP


def parse_node(raw: Any, group_label: str | None = None) -> NodeState:
    node = _mapping(raw, "node")
    meta = _mapping(node.get("metadata"), "metadata")
    labels = _mapping(meta.get("labels"), "metadata.labels")
    capacity = _mapping(_mapping(node.get("status"), "status").get("capacity"), "status.capacity")
    gpu = parse_quantity(capacity[GPU], f"status.capacity.{GPU}") if GPU in capacity else 0.0
    instance = next(
        (labels[k] for k in INSTANCE_TYPE_LABELS if isinstance(labels.get(k), str) and labels[k]),
        UNKNOWN_TYPE,
    )
    return NodeState(
        _text(meta.get("name"), "metadata.name"),
        node_group_of(labels, group_label),
        instance,
        round(gpu),
    )


def parse_namespace(raw: Any) -> str:
    meta = _mapping(_mapping(raw, "namespace").get("metadata"), "metadata")
    return _text(meta.get("name"), "metadata.name")


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class EventState:
    uid: str
    first: dt.datetime  # first occurrence: the row's `at`
    last: dt.datetime  # latest occurrence: which FailedScheduling message is current
    namespace: str | None
    kind: str | None
    name: str | None
    reason: str | None
    message: str | None
    type: str | None


def parse_event(raw: Any) -> EventState:
    """A core/v1 Event, whether written through core/v1 or events.k8s.io/v1 (`series`)."""
    event = _mapping(raw, "event")
    meta = _mapping(event.get("metadata"), "metadata")
    involved = _mapping(event.get("involvedObject"), "involvedObject")
    series = _mapping(event.get("series"), "series")
    first = (
        optional_time(event.get("firstTimestamp"), "firstTimestamp")
        or optional_time(event.get("eventTime"), "eventTime")
        or optional_time(event.get("lastTimestamp"), "lastTimestamp")
        or parse_time(meta.get("creationTimestamp"), "metadata.creationTimestamp")
    )
    last = (
        optional_time(series.get("lastObservedTime"), "series.lastObservedTime")
        or optional_time(event.get("lastTimestamp"), "lastTimestamp")
        or first
    )

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) and value else None

    return EventState(
        _text(meta.get("uid"), "metadata.uid"),
        first,
        max(first, last),
        text(involved.get("namespace")) or text(meta.get("namespace")),
        text(involved.get("kind")),
        text(involved.get("name")),
        text(event.get("reason")),
        text(event.get("message")),
        text(event.get("type")),
    )


def event_row(event: EventState, patterns: Mapping[str, str]) -> dict[str, Any]:
    return {
        "uid": event.uid,
        "at": event.first,
        "namespace": event.namespace,
        "team": team_of(event.namespace, patterns),
        "kind": event.kind,
        "name": event.name,
        "reason": event.reason,
        "message": event.message,
        "type": event.type,
    }


def oom_event_rows(pod: PodState, patterns: Mapping[str, str]) -> list[dict[str, Any]]:
    """A container's OOMKilled end as an event row, with a uid stable across samples."""
    rows = []
    for container, at in pod.oom_kills:
        key = f"{pod.uid or pod.namespace + '/' + pod.name}/{container}/{at.isoformat()}"
        rows.append(
            {
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"teamtide/oomkilled/{key}")),
                "at": at,
                "namespace": pod.namespace,
                "team": team_of(pod.namespace, patterns),
                "kind": "Pod",
                "name": pod.name,
                "reason": "OOMKilled",
                "message": f"container {container} was OOMKilled",
                "type": "Warning",
            }
        )
    return rows


def latest_scheduling_failures(events: Iterable[EventState]) -> dict[tuple[str, str], str]:
    """(namespace, pod name) -> the message of its latest FailedScheduling event."""
    latest: dict[tuple[str, str], EventState] = {}
    for e in events:
        if e.reason != "FailedScheduling" or e.kind != "Pod" or not e.namespace or not e.name:
            continue
        key = (e.namespace, e.name)
        if key not in latest or e.last >= latest[key].last:
            latest[key] = e
    return {key: e.message or "" for key, e in latest.items()}


# ---------------------------------------------------------------- the snapshot


@dataclass
class Snapshot:
    """What one live sample stores: rows per table, plus how many objects it read."""

    samples: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    objects: int = 0


def sample_rows(
    at: dt.datetime,
    namespaces: Iterable[str],
    pods: Sequence[PodState],
    failures: Mapping[tuple[str, str], str],
    patterns: Mapping[str, str],
    origin: str = SNAPSHOT,
) -> list[dict[str, Any]]:
    """One row per namespace (those listed, plus any a pod names): zeros where nothing runs."""
    rows: dict[str, dict[str, Any]] = {}

    def row(ns: str) -> dict[str, Any]:
        if ns not in rows:
            rows[ns] = {
                "at": at,
                "namespace": ns,
                "team": team_of(ns, patterns),
                "cpu_requested": 0.0,
                "memory_requested": 0.0,
                "gpu_requested": 0.0,
                "pods_running": 0,
                "pods_pending": 0,
                "gpu_pods_pending": 0,
                "oldest_pending_since": None,
                "pending_reason": None,
                "origin": origin,
            }
        return rows[ns]

    for ns in namespaces:
        row(ns)
    for pod in sorted(pods, key=lambda p: (p.namespace, p.pending_since or p.created, p.name)):
        r = row(pod.namespace)
        if pod.phase == "Running":
            r["cpu_requested"] += pod.cpu
            r["memory_requested"] += pod.memory
            r["gpu_requested"] += pod.gpu
            r["pods_running"] += 1
        elif pod.phase == "Pending":
            r["pods_pending"] += 1
            r["gpu_pods_pending"] += int(pod.gpu > 0)
            # pods come oldest-pending first: the namespace reports its longest wait and why
            if r["oldest_pending_since"] is None:
                r["oldest_pending_since"] = pod.pending_since
                r["pending_reason"] = (
                    failures.get((pod.namespace, pod.name)) or pod.condition_message
                )
    return [rows[ns] for ns in sorted(rows)]


def node_rows(at: dt.datetime, nodes: Iterable[NodeState]) -> list[dict[str, Any]]:
    """Nodes counted per (node group, instance type); `gpu` is GPUs per node (the largest)."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for node in nodes:
        key = (node.group, node.instance_type)
        row = groups.setdefault(
            key,
            {"at": at, "node_group": key[0], "instance_type": key[1], "count": 0, "gpu": 0},
        )
        row["count"] += 1
        row["gpu"] = max(row["gpu"], node.gpu)
    return [groups[key] for key in sorted(groups)]


def object_key(raw: Any) -> str | None:
    """`namespace/name` (or `name`) of an object, for a reject; None when it has neither."""
    meta = raw.get("metadata") if isinstance(raw, Mapping) else None
    if not isinstance(meta, Mapping):
        return None
    name, ns = meta.get("name"), meta.get("namespace")
    if not isinstance(name, str):
        return None
    return f"{ns}/{name}" if isinstance(ns, str) and ns else name


def excerpt(raw: Any) -> str:
    """Enough of an object to see why it was set aside: identity, and the parts we read."""
    if not isinstance(raw, Mapping):
        return json.dumps(raw, default=str)[:EXCERPT_CHARS]
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), Mapping) else {}
    shown: dict[str, Any] = {
        "kind": raw.get("kind"),
        "metadata": {k: meta.get(k) for k in ("namespace", "name", "uid", "creationTimestamp")},
    }
    spec = raw.get("spec")
    if isinstance(spec, Mapping) and isinstance(spec.get("containers"), list):
        shown["resources"] = [
            c.get("resources") if isinstance(c, Mapping) else c for c in spec["containers"]
        ]
    status = raw.get("status")
    if isinstance(status, Mapping):
        shown["status"] = {k: status[k] for k in ("phase", "capacity") if k in status}
    for key in ("reason", "firstTimestamp", "lastTimestamp", "eventTime"):
        if key in raw:
            shown[key] = raw[key]
    return json.dumps(shown, default=str, ensure_ascii=False)[:EXCERPT_CHARS]


# ---------------------------------------------------------------- Prometheus history

# kube-state-metrics series (v2 names: `resource` and `unit` labels, resource names with
# `.` and `/` made `_`). A pod counts where its phase series says Running (or Pending);
# `max by (namespace, pod)` folds the duplicates that several kube-state-metrics replicas
# or a pod's re-created uid leave. Requests are the containers' (init containers are
# exported apart and left out: they rarely hold resources for long).
_RUNNING = 'max by (namespace, pod) (kube_pod_status_phase{phase="Running"}) == 1'
_PENDING = 'max by (namespace, pod) (kube_pod_status_phase{phase="Pending"}) == 1'
PROMETHEUS_QUERIES: dict[str, str] = {
    "namespaces": 'count by (namespace) (kube_namespace_status_phase{phase="Active"} == 1)',
    "requested": (
        "sum by (namespace, resource) ("
        'kube_pod_container_resource_requests{resource=~"cpu|memory|nvidia_com_gpu"}'
        f" * on (namespace, pod) group_left () ({_RUNNING}))"
    ),
    "phases": 'sum by (namespace, phase) (kube_pod_status_phase{phase=~"Running|Pending"})',
    "gpu_pending": (
        "count by (namespace) ("
        "(max by (namespace, pod) "
        '(kube_pod_container_resource_requests{resource="nvidia_com_gpu"}) > 0)'
        f" and on (namespace, pod) ({_PENDING}))"
    ),
    "pending_since": (
        f"min by (namespace) (kube_pod_created * on (namespace, pod) group_left () ({_PENDING}))"
    ),
    "node_labels": "kube_node_labels",
    "node_gpus": 'max by (node) (kube_node_status_capacity{resource="nvidia_com_gpu"})',
}
_REQUESTED_COLUMNS = {
    "cpu": "cpu_requested",
    "memory": "memory_requested",
    "nvidia_com_gpu": "gpu_requested",
}
_PHASE_COLUMNS = {"Running": "pods_running", "Pending": "pods_pending"}


def prometheus_label(label: str) -> str:
    """A Kubernetes label as kube-state-metrics names it: `label_` + non-alphanumerics as `_`."""
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)


@dataclass
class Chunk:
    """The rows of one backfill page, and the series that could not be read."""

    samples: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


def _points(
    name: str, series_list: Sequence[Any], rejects: list[Reject]
) -> Iterator[tuple[Mapping[str, str], dt.datetime, float]]:
    """(labels, moment, value) of every finite point of a `matrix` result."""
    for series in series_list:
        try:
            labels = _mapping(_mapping(series, "series").get("metric"), "metric")
            points = []
            for point in _list(series.get("values"), "values"):
                if not isinstance(point, list) or len(point) != 2:
                    raise ParseError(f"a point is not [time, value]: {point!r}")
                value = float(point[1])
                if math.isfinite(value):
                    points.append((dt.datetime.fromtimestamp(float(point[0]), dt.UTC), value))
        except (ParseError, ValueError, TypeError) as exc:
            shown = json.dumps(series, default=str)[:EXCERPT_CHARS]
            rejects.append(Reject(f"prometheus {name}", f"unreadable series: {exc}", shown))
            continue
        for moment, value in points:
            yield labels, moment, value


def backfill_rows(
    results: Mapping[str, Sequence[Any]],
    patterns: Mapping[str, str],
    group_label: str | None = None,
) -> Chunk:
    """Rows per hour from the `PROMETHEUS_QUERIES` results (name -> matrix result).

    Every namespace that exists at an hour gets a row, zeros where nothing ran, so a
    namespace going quiet reads as zero rather than as its last busy hour.
    """
    chunk = Chunk()
    rows: dict[tuple[dt.datetime, str], dict[str, Any]] = {}

    def row(at: dt.datetime, ns: str) -> dict[str, Any]:
        key = (at, ns)
        if key not in rows:
            rows[key] = sample_rows(at, [ns], [], {}, patterns, PROMETHEUS_BACKFILL)[0]
        return rows[key]

    def each(name: str) -> Iterator[tuple[Mapping[str, str], dt.datetime, float]]:
        for labels, at, value in _points(name, results.get(name, ()), chunk.rejects):
            ns = labels.get("namespace")
            if isinstance(ns, str) and ns:
                yield labels, at, value

    for _labels, at, _value in each("namespaces"):
        row(at, str(_labels["namespace"]))
    for labels, at, value in each("requested"):
        column = _REQUESTED_COLUMNS.get(str(labels.get("resource")))
        if column:
            row(at, str(labels["namespace"]))[column] = value
    for labels, at, value in each("phases"):
        column = _PHASE_COLUMNS.get(str(labels.get("phase")))
        if column:
            row(at, str(labels["namespace"]))[column] = round(value)
    for labels, at, value in each("gpu_pending"):
        row(at, str(labels["namespace"]))["gpu_pods_pending"] = round(value)
    for labels, at, value in each("pending_since"):
        row(at, str(labels["namespace"]))["oldest_pending_since"] = dt.datetime.fromtimestamp(
            value, dt.UTC
        )
    chunk.samples = [rows[key] for key in sorted(rows)]

    gpus: dict[tuple[dt.datetime, str], int] = {}
    for labels, at, value in _points("node_gpus", results.get("node_gpus", ()), chunk.rejects):
        gpus[at, str(labels.get("node"))] = round(value)
    group_labels = [prometheus_label(k) for k in (group_label, *NODE_GROUP_LABELS) if k]
    type_labels = [prometheus_label(k) for k in INSTANCE_TYPE_LABELS]
    seen: dict[dt.datetime, dict[str, NodeState]] = {}
    for labels, at, _value in _points("node_labels", results.get("node_labels", ()), chunk.rejects):
        name = labels.get("node")
        if not isinstance(name, str) or not name:
            continue
        group = next((labels[k] for k in group_labels if labels.get(k)), NO_GROUP)
        instance = next((labels[k] for k in type_labels if labels.get(k)), UNKNOWN_TYPE)
        seen.setdefault(at, {})[name] = NodeState(name, group, instance, gpus.get((at, name), 0))
    chunk.nodes = [r for at in sorted(seen) for r in node_rows(at, seen[at].values())]
    return chunk
