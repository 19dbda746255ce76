"""kmock's emulator made into what a collector needs of a real API server (`KMOCK_GAPS`), and its thread."""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import re
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import rendering

from sandbox.http import LOOPBACK, SandboxState

KMOCK_GAPS = (
    "kmock 0.8 cannot parse /api/v1/namespaces[/name] (it reads 'namespaces' as the namespaced "
    "path prefix); Emulator routes those paths itself",
    "lists ignore labelSelector, fieldSelector, limit and continue; Emulator applies them",
    "lists carry no kind/apiVersion and resourceVersion '...'; Emulator fills them",
    "watches ignore timeoutSeconds; Emulator ends them after it, and filters by selectors",
    "watches replay every object as ADDED whatever resourceVersion is asked (no 410 Gone, "
    "no bookmarks)",
    "no authentication; Emulator checks the bearer token",
    "no fault injection; Emulator plays the sandbox's 'kube' faults (429, 5xx, slow, hang)",
    "every request and deleted object is kept (for test assertions) and scanned on each request, "
    "so a long-lived server slows down linearly; Emulator forgets them once answered",
    "a list of a resource never created is a 404; KubeSandbox declares its resources",
    "objects get no uid, resourceVersion or creationTimestamp; KubeSandbox sets them",
)


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
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


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
class Emulator(kmock.KubernetesEmulator):
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
        resource = raw_request.path.rstrip("/").rsplit("/", 1)[-1]
        if resource in faults.forbid.split():
            return _status(
                403,
                "Forbidden",
                f'{resource} is forbidden: User "system:serviceaccount:teamtide:teamtide" '
                f'cannot list resource "{resource}" in API group "" at the cluster scope',
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


class EmulatorThread:
    """The emulator's aiohttp server on its own event loop, in a daemon thread."""

    def __init__(self, emulator: Emulator) -> None:
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
