"""The Kubernetes collector: live snapshots of the cluster, and the history before them.

`snapshot` (every run): lists namespaces, nodes, pods and events through the official
`kubernetes` client and stores, at the run's time rounded down to the minute, one
sample per namespace, node counts per (node group, instance type), and the events
worth keeping. The API server forgets events after about an hour, so each snapshot
keeps the new ones; upserts on the event's uid make the overlap between two runs
harmless. Its cursor is the sample time.

`prometheus_backfill` (when `prometheus_url` is set): the same samples and node counts
at whole hours, from kube-state-metrics series through `query_range`, for the time
before the first snapshot, back to a horizon (90 days by default). One page per chunk
of days, newest first; the cursor is the earliest hour written, so an interrupted
backfill resumes where it stopped and a finished one costs nothing.

`pod_history` (always; it matters where there is no Prometheus, or before its horizon):
the same hourly samples rebuilt from the pods the API still lists, for the time before
the first observed sample (snapshot or Prometheus). A pod holds its requests from its
`status.startTime` until its containers' `finishedAt`; finished pods leave the API
oldest first (a Job's `ttlSecondsAfterFinished`, the pod garbage collector), so the
hours since the earliest end still listed are complete, back to `days` at most. Nobody
records who was pending then: those columns are null (not known). It reads the pod list
the snapshot took in the same sync, one page per chunk of days, newest first, with the
same cursor as the backfill; it never overwrites an observed sample.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import requests
import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from collectors.base import Bookmark, Page, Progress, Reject, Source, Stream
from collectors.cluster_parse import (
    KEPT_REASONS,
    Chunk,
    EventState,
    NodeState,
    ParseError,
    PodLife,
    PodState,
    Snapshot,
    backfill_rows,
    event_row,
    excerpt,
    history_horizon,
    history_rows,
    latest_scheduling_failures,
    node_rows,
    object_key,
    oom_event_rows,
    parse_event,
    parse_namespace,
    parse_namespace_created,
    parse_node,
    parse_pod,
    parse_pod_life,
    sample_rows,
)
from collectors.cluster_parse import PROMETHEUS_QUERIES as QUERIES
from collectors.retry import ApiError, Retrying, RetryPolicy
from config.redaction import shorten
from config.schema import ClusterSource, Config
from db import models
from db.sync import clear_cluster_instants, earliest_cluster_sample
from db.upsert import upsert

DEFAULT_TIMEOUT = 30.0  # seconds without a byte before a request counts as hung
PAGE_SIZE = 500  # objects per list request (the API server's `limit`)
BACKFILL_DAYS = 90
HISTORY_DAYS = 90  # how far back pod_history rebuilds at most, like the backfill
CHUNK_DAYS = 7  # one page of backfill: 7 x 24 hourly steps per query
HOUR = dt.timedelta(hours=1)


class KubeApiError(ApiError):
    """A Kubernetes API answer other than 2xx."""


def _message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        body = None
    text = str((body.get("message") if isinstance(body, Mapping) else None) or exc.reason or "")
    return shorten(text.splitlines()[0], 300) if text else ""  # whole words: secrets stay whole


def client_configuration(source: ClusterSource) -> k8s.Configuration:
    """How to reach the cluster: API URL and token, in-cluster service account, or kubeconfig.

    A configuration of our own, never the client's global default, so two clients (tests,
    threads) never share credentials by accident.
    """
    configuration = k8s.Configuration()
    if source.api_url:
        configuration.host = source.api_url.rstrip("/")
        if source.token is not None:
            configuration.api_key = {"BearerToken": source.token.reveal()}
            configuration.api_key_prefix = {"BearerToken": "Bearer"}
        configuration.verify_ssl = source.verify_ssl
    elif source.in_cluster:
        k8s_config.load_incluster_config(client_configuration=configuration)
    else:
        path = os.path.expanduser(source.kubeconfig) if source.kubeconfig else None
        try:
            k8s_config.load_kube_config(
                config_file=path,
                context=source.context,
                client_configuration=configuration,
                persist_config=False,
            )
        except (k8s_config.ConfigException, OSError) as exc:
            # The client's message names neither the file nor the context it tried.
            where = path or os.environ.get("KUBECONFIG") or "~/.kube/config"
            context = f", context {source.context!r}" if source.context else ""
            raise ValueError(
                f"sources.cluster: cannot use the kubeconfig {where}{context}: {exc}"
            ) from exc
    # One retry layer only: ours, which says every wait out loud.
    configuration.retries = 0
    return configuration


class KubeApi:
    """The cluster's lists as raw JSON through the official client.

    Raw JSON (`_preload_content=False`) rather than the client's models: a model fails the
    whole list on one malformed object, where we want that object as a reject and the
    rest stored.
    """

    LISTS = {
        "namespaces": "list_namespace",
        "nodes": "list_node",
        "pods": "list_pod_for_all_namespaces",
        "events": "list_event_for_all_namespaces",
    }

    def __init__(
        self,
        source: ClusterSource,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        page_size: int = PAGE_SIZE,
        progress: Progress | None = None,
    ) -> None:
        self.configuration = client_configuration(source)
        self.api_client = k8s.ApiClient(self.configuration)
        self.core = k8s.CoreV1Api(self.api_client)
        self.timeout, self.page_size = timeout, page_size
        self.retrying = Retrying(
            "Kubernetes API", retry, progress.note if progress is not None else None
        )
        self.requests = 0
        self.listed: dict[str, list[Any]] = {}  # the last whole list of each kind

    def recent(self, what: str) -> list[Any]:
        """The list of `what` this client took last (one sync builds one client), else a new one."""
        return self.listed[what] if what in self.listed else self.list(what)

    def close(self) -> None:
        self.api_client.close()

    def _page(self, what: str, token: str | None) -> dict[str, Any]:
        method = getattr(self.core, self.LISTS[what])
        path = f"/api/v1/{what}"

        def once() -> dict[str, Any]:
            self.requests += 1
            try:
                response = method(
                    limit=self.page_size,
                    _continue=token,
                    _preload_content=False,
                    _request_timeout=(min(10.0, self.timeout), self.timeout),
                )
                data = response.data
            except ApiException as exc:
                text = f"HTTP {exc.status} from GET {path}: {_message(exc)}".rstrip(": ")
                raise KubeApiError(exc.status, text, exc.headers) from None
            except urllib3.exceptions.HTTPError as exc:
                raise requests.exceptions.ConnectionError(
                    f"cannot reach the Kubernetes API at {self.configuration.host}: "
                    f"{type(exc).__name__}"
                ) from None
            try:
                body = json.loads(data)
            except ValueError:
                raise KubeApiError(None, f"GET {path} answered something other than JSON") from None
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise KubeApiError(None, f"GET {path} answered no list of items")
            return body

        return self.retrying(once)

    def list(self, what: str) -> list[Any]:
        """Every object of a kind, page by page (`limit` / `continue`).

        A continue token that expired (410 Gone, after some minutes) restarts the list
        once: the snapshot must be of one moment, not stitched from two.
        """
        for attempt in range(2):
            items: list[Any] = []
            token: str | None = None
            try:
                while True:
                    body = self._page(what, token)
                    items.extend(body["items"])
                    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                    token = meta.get("continue") or None
                    if not token:
                        self.listed[what] = items
                        return items
            except KubeApiError as exc:
                if exc.status_code != 410 or token is None or attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def take_requests(self) -> int:
        count, self.requests = self.requests, 0
        return count


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(second=0, microsecond=0)


def _parsed(
    objects: Sequence[Any], parse: Callable[[Any], Any], what: str, rejects: list[Reject]
) -> list[Any]:
    out = []
    for raw in objects:
        try:
            out.append(parse(raw))
        except ParseError as exc:
            key = object_key(raw)
            rejects.append(Reject(f"{what} {key}" if key else what, str(exc), excerpt(raw)))
    return out


class SnapshotStream(Stream):
    """One live sample of the whole cluster per run: one page, cursor = the sample time.

    Its records are the namespaces' samples; the node counts and the events worth keeping
    of the same moment are stored with them.
    """

    source = "cluster"
    name = "snapshot"
    table = models.ClusterSample
    primary_key = ("at", "namespace")
    cursor_field = "at"

    def __init__(
        self,
        api: KubeApi,
        source: ClusterSource,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.api, self.settings, self.clock = api, source, clock

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        at = _minute(self.clock())
        raw = {what: self.api.list(what) for what in ("namespaces", "nodes", "pods", "events")}
        rejects: list[Reject] = []
        patterns = self.settings.namespaces
        namespaces: list[str] = _parsed(raw["namespaces"], parse_namespace, "namespace", rejects)
        nodes: list[NodeState] = _parsed(
            raw["nodes"],
            lambda r: parse_node(r, self.settings.node_group_label),
            "node",
            rejects,
        )
        pods: list[PodState] = _parsed(raw["pods"], parse_pod, "pod", rejects)
        events: list[EventState] = _parsed(raw["events"], parse_event, "event", rejects)
        snapshot = Snapshot(
            samples=sample_rows(at, namespaces, pods, latest_scheduling_failures(events), patterns),
            nodes=node_rows(at, nodes),
            events=[event_row(e, patterns) for e in events if e.reason in KEPT_REASONS]
            + [row for pod in pods for row in oom_event_rows(pod, patterns)],
            objects=sum(len(v) for v in raw.values()),
        )
        yield Page(
            rows=snapshot,
            rejects=rejects,
            cursor=at,
            items=snapshot.objects,
            requests=self.api.take_requests(),
        )

    def write(self, session: Session, page: Page) -> int:
        snapshot: Snapshot = page.rows
        instants = {row["at"] for row in snapshot.samples} | {row["at"] for row in snapshot.nodes}
        # A second run in the same minute replaces that minute's sample whole, so a node
        # group or namespace gone in between does not linger.
        clear_cluster_instants(session, instants)
        self.store(session, snapshot.samples)
        upsert(session, models.ClusterNode, snapshot.nodes, ["at", "node_group", "instance_type"])
        events = list({row["uid"]: row for row in snapshot.events}.values())
        upsert(session, models.ClusterEvent, events, ["uid"])
        return len(snapshot.samples) + len(snapshot.nodes) + len(events)


class PrometheusError(ApiError):
    """A Prometheus answer other than success, with the server's own reason."""


class PrometheusApi:
    """Prometheus' HTTP API (`/api/v1/query_range`) through `requests`, retried when transient."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        progress: Progress | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout
        self.retrying = Retrying(
            "Prometheus", retry, progress.note if progress is not None else None, what="query"
        )
        self.session = session or requests.Session()
        self.requests = 0

    def query_range(
        self, query: str, start: dt.datetime, end: dt.datetime, step_seconds: int
    ) -> list[Any]:
        """The `matrix` result of a range query, evaluated at start, start + step, ... <= end."""
        params = {
            "query": query,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": str(step_seconds),
        }

        def once() -> list[Any]:
            self.requests += 1
            response = self.session.get(
                f"{self.url}/api/v1/query_range", params=params, timeout=self.timeout
            )
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code != 200 or not isinstance(body, dict):
                error = body.get("error") if isinstance(body, dict) else None
                raise PrometheusError(
                    response.status_code,
                    f"HTTP {response.status_code} from Prometheus query_range: "
                    f"{error or response.reason}",
                    response.headers,
                )
            if body.get("status") != "success":
                raise PrometheusError(None, f"Prometheus query_range failed: {body.get('error')}")
            data = body.get("data")
            if not isinstance(data, dict) or data.get("resultType") != "matrix":
                raise PrometheusError(None, "Prometheus query_range answered no matrix")
            result = data.get("result")
            return result if isinstance(result, list) else []

        return self.retrying(once)

    def take_requests(self) -> int:
        count, self.requests = self.requests, 0
        return count


def backfill_chunk(
    prometheus: PrometheusApi,
    first: dt.datetime,
    last: dt.datetime,
    patterns: Mapping[str, str],
    group_label: str | None,
) -> Chunk:
    """Samples and node counts at every whole hour from `first` to `last` (inclusive)."""
    step = int(HOUR.total_seconds())
    results = {
        name: prometheus.query_range(query, first, last, step) for name, query in QUERIES.items()
    }
    return backfill_rows(results, patterns, group_label)


def _hour_floor(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _hour_ceil(moment: dt.datetime) -> dt.datetime:
    floor = _hour_floor(moment)
    return floor if floor == moment else floor + HOUR


class HourlyHistory(Stream):
    """Whole hours of cluster samples before the first observed one, newest chunk first.

    Sorted, backwards: the cursor is each stored chunk's start, the earliest hour covered
    so far, so an interrupted run resumes where it stopped. A subclass says where its hours
    come from (`pages`); the chunking is the same for every history.
    """

    source = "cluster"
    table = models.ClusterSample
    primary_key = ("at", "namespace")
    cursor_field = "at"

    def __init__(
        self,
        client: Any,
        engine: Engine,
        source: ClusterSource,
        *,
        days: float,
        chunk_days: float = CHUNK_DAYS,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client, self.engine, self.settings = client, engine, source
        self.days, self.chunk = days, dt.timedelta(days=chunk_days)
        self.clock = clock

    def _earliest_observed(self) -> dt.datetime | None:
        # observed samples only: hours rebuilt from pods give way to any observed history
        with self.engine.connect() as conn:
            return earliest_cluster_sample(conn, observed=True)

    def _chunks(
        self, upper: dt.datetime, lower: dt.datetime
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """(first, last) whole hour of each chunk of the hours h with lower <= h < upper."""
        while upper > lower:
            start = max(lower, _hour_ceil(upper - self.chunk))
            last = _hour_ceil(upper) - HOUR  # the latest whole hour before `upper`
            if last >= start:
                yield start, last
            upper = start


class BackfillStream(HourlyHistory):
    """Hourly history from Prometheus for the time before the first live sample: from the
    earliest observed sample (or now, on a full sync) back to `days` before now."""

    name = "prometheus_backfill"

    def __init__(self, prometheus: PrometheusApi, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("days", BACKFILL_DAYS)
        super().__init__(prometheus, *args, **kwargs)

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        now = self.clock().astimezone(dt.UTC)
        lower = _hour_ceil(now - dt.timedelta(days=self.days))
        if bookmark.position is not None:
            upper = bookmark.position
        else:
            earliest = None if bookmark.full else self._earliest_observed()
            upper = earliest or now
        for start, last in self._chunks(upper, lower):
            chunk = backfill_chunk(
                self.client, start, last, self.settings.namespaces, self.settings.node_group_label
            )
            yield Page(
                rows=chunk,
                rejects=chunk.rejects,
                cursor=start,
                items=len(chunk.samples),
                requests=self.client.take_requests(),
            )

    def write(self, session: Session, page: Page) -> int:
        chunk = page.rows
        self.store(session, chunk.samples)
        upsert(session, models.ClusterNode, chunk.nodes, ["at", "node_group", "instance_type"])
        return len(chunk.samples) + len(chunk.nodes)


class PodHistoryStream(HourlyHistory):
    """Hourly history rebuilt from the pods the API still lists, before the first observed sample.

    From the earliest observed sample (or the cursor, the earliest hour already rebuilt,
    when that is earlier) back to the history's horizon: the earliest end of a finished
    pod still listed, and at most `days` before now. Pods it cannot read are set aside as
    rejects with the first page; a run with nothing to rebuild writes nothing, rejects
    included (every scheduled run would repeat them).
    """

    name = "pod_history"

    def __init__(self, api: KubeApi, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("days", HISTORY_DAYS)
        super().__init__(api, *args, **kwargs)

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        now = self.clock().astimezone(dt.UTC)
        # never over an observed sample, never twice
        upper = self._earliest_observed() or now
        if bookmark.position is not None:
            upper = min(upper, bookmark.position)
        lower = _hour_ceil(now - dt.timedelta(days=self.days))
        if upper <= lower:
            return
        rejects: list[Reject] = []
        lives: list[PodLife] = _parsed(self.client.recent("pods"), parse_pod_life, "pod", rejects)
        horizon = history_horizon(lives)
        if horizon is not None:
            lower = max(lower, _hour_ceil(horizon))
        if horizon is None or upper <= lower:
            return
        namespaces = dict(
            _parsed(self.client.recent("namespaces"), parse_namespace_created, "namespace", rejects)
        )
        for start, last in self._chunks(upper, lower):
            rows = history_rows(start, last, namespaces, lives, self.settings.namespaces)
            yield Page(
                rows=rows,
                rejects=rejects,
                cursor=start,
                items=len(rows),
                requests=self.client.take_requests(),
            )
            rejects = []  # set aside once, with the first page


def streams(
    config: Config,
    engine: Engine,
    progress: Progress,
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    timeout: float = DEFAULT_TIMEOUT,
    retry: RetryPolicy = RetryPolicy(),
    page_size: int = PAGE_SIZE,
    backfill_days: float = BACKFILL_DAYS,
    history_days: float = HISTORY_DAYS,
    chunk_days: float = CHUNK_DAYS,
) -> list[Stream]:
    """The cluster streams: the live snapshot, (with `prometheus_url`) the backfill, then
    the history rebuilt from pods for whatever time is still before them."""
    source = config.sources.cluster
    if source is None:
        raise ValueError("sources.cluster is not configured in the org file")
    api = KubeApi(source, timeout=timeout, retry=retry, page_size=page_size, progress=progress)
    found: list[Stream] = [SnapshotStream(api, source, clock=clock)]
    if source.prometheus_url:
        prometheus = PrometheusApi(
            source.prometheus_url, timeout=timeout, retry=retry, progress=progress
        )
        found.append(
            BackfillStream(
                prometheus, engine, source, days=backfill_days, chunk_days=chunk_days, clock=clock
            )
        )
    found.append(
        PodHistoryStream(api, engine, source, days=history_days, chunk_days=chunk_days, clock=clock)
    )
    return found


SOURCE = Source("cluster", streams, clocked=True)
