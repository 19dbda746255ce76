"""The cluster collector against the sandbox: kmock's Kubernetes API and a real Prometheus.

The official `kubernetes` client talks HTTP to the emulator; the backfill talks to a real
Prometheus over kube-state-metrics history. Every expectation is worked out from the
world model (pods, node-group sizes and events, as they happened), not from the fake
API's code, so a mistake on either side shows. Parsing is tested first, on objects
shaped as the Kubernetes API documents them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from kubernetes import client as k8s
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from collectors.base import NullProgress, StreamResult, run_stream
from collectors.cluster import BackfillStream, PodHistoryStream, SnapshotStream, streams
from collectors.cluster_parse import (
    KEPT_REASONS,
    NO_GROUP,
    ParseError,
    PodLife,
    backfill_rows,
    history_horizon,
    history_rows,
    latest_scheduling_failures,
    node_group_of,
    oom_event_rows,
    parse_event,
    parse_node,
    parse_pod,
    parse_pod_life,
    parse_quantity,
    pod_requests,
    prometheus_label,
    sample_rows,
    team_of,
)
from collectors.retry import RetryPolicy
from collectors.sync import sync
from config.schema import Config
from db import models
from db.cluster_queries import cluster_frames
from db.migrate import upgrade
from db.session import make_engine
from metrics.cluster import NO_TEAM, team_usage
from metrics.weeks import widen
from sandbox.http import SandboxState
from sandbox.kube.api import KubeSandbox
from sandbox.world.generate import generate
from sandbox.world.model import World
from tests.prom import require_prometheus

END = dt.date(2025, 6, 30)  # the world's clock starts at 2025-06-30 00:00 UTC
END_AT = dt.datetime.combine(END, dt.time(), dt.UTC)
BUSY = dt.datetime(2025, 7, 18, 18, 0, tzinfo=dt.UTC)  # several GPU pods wait for capacity
PATTERNS = {"ds-*": "Research", "infra-*": "Infra", "platform-*": "Enablement"}
FAST = RetryPolicy(attempts=2, base_seconds=0.01, cap_seconds=0.05)
GIB = 1 << 30
HOUR = dt.timedelta(hours=1)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# ================================================================ parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500m", 0.5),
        ("2", 2.0),
        ("1.5", 1.5),
        ("2Gi", 2 * GIB),
        ("512Mi", 512 * 2**20),
        ("129M", 129e6),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("12e-3", 0.012),
        ("100k", 1e5),
        ("250n", 250e-9),
        ("1E", 1e18),  # exa, not an exponent
        (".5", 0.5),
        ("+2", 2.0),
        (3, 3.0),
    ],
)
def test_kubernetes_quantities_are_read_with_their_suffixes(text: Any, expected: float) -> None:
    assert parse_quantity(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text", ["lots", "1.2.3", "2GB", "1ki", "5 m", "", "NaN", "1e", None, True]
)
def test_malformed_quantities_are_refused(text: Any) -> None:
    with pytest.raises(ParseError):
        parse_quantity(text, "cpu")


def container(
    cpu: str | None = None, memory: str | None = None, gpu: str | None = None, **more: Any
) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("nvidia.com/gpu", gpu)) if v}
    return {"name": "c", "resources": {"requests": requests}, **more}


def test_a_pod_requests_the_larger_of_its_containers_and_its_biggest_init_container() -> None:
    spec = {
        "containers": [container("500m", "1Gi"), container("1", "1Gi", "1")],
        "initContainers": [
            container("2", "512Mi"),  # runs alone first: 2 cores > 1.5
            container("100m", "64Mi", restartPolicy="Always"),  # a sidecar: runs alongside
        ],
        "overhead": {"cpu": "250m"},
    }
    requests = pod_requests(spec)
    # cpu: max(0.5 + 1 + 0.1 sidecar, 2) + 0.25 overhead = 2.25
    assert requests["cpu"] == pytest.approx(2.25)
    # memory: max(1Gi + 1Gi + 64Mi, 512Mi) = 2Gi + 64Mi
    assert requests["memory"] == 2 * GIB + 64 * 2**20
    assert requests["nvidia.com/gpu"] == 1


def test_limits_stand_in_for_missing_requests() -> None:
    spec = {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": "2"}}}]}
    assert pod_requests(spec)["nvidia.com/gpu"] == 2


def pod(
    name: str,
    phase: str,
    *,
    ns: str = "ds-a",
    created: str = "2025-06-30T10:00:00Z",
    gpu: str | None = None,
    message: str | None = None,
    **status: Any,
) -> dict:
    conditions = []
    if message is not None:
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
            }
        )
    return {
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"uid-{name}",
            "creationTimestamp": created,
        },
        "spec": {"containers": [container("2", "4Gi", gpu)]},
        "status": {"phase": phase, "conditions": conditions, **status},
    }


def test_a_pending_pod_waits_since_its_creation_with_the_scheduler_s_message() -> None:
    state = parse_pod(pod("p", "Pending", gpu="1", message="0/3 nodes are available"))
    assert state.pending_since == utc("2025-06-30T10:00:00")
    assert state.condition_message == "0/3 nodes are available"
    assert (state.cpu, state.memory, state.gpu) == (2.0, 4 * GIB, 1.0)


def test_a_pod_with_a_malformed_quantity_is_refused_with_the_field_named() -> None:
    raw = pod("p", "Running")
    raw["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "lots"
    with pytest.raises(ParseError, match=r"spec\.containers\[0\]\.resources\.requests\.cpu"):
        parse_pod(raw)


def test_samples_sum_running_pods_and_report_the_longest_wait_with_its_latest_reason() -> None:
    pods = [
        parse_pod(pod("a", "Running", gpu="1")),
        parse_pod(pod("b", "Running")),
        parse_pod(pod("c", "Pending", gpu="1", created="2025-06-30T09:00:00Z", message="cond")),
        parse_pod(pod("d", "Pending", created="2025-06-30T11:00:00Z")),
        parse_pod(pod("e", "Succeeded")),
    ]
    events = [
        parse_event(
            event("e1", "FailedScheduling", "c", last="2025-06-30T09:01:00Z", message="old")
        ),
        parse_event(
            event("e2", "FailedScheduling", "c", last="2025-06-30T09:30:00Z", message="new")
        ),
    ]
    at = utc("2025-06-30T12:00:00")
    rows = sample_rows(at, ["ds-a", "scratch"], pods, latest_scheduling_failures(events), PATTERNS)
    ds, scratch = rows
    assert (ds["cpu_requested"], ds["memory_requested"], ds["gpu_requested"]) == (4.0, 8 * GIB, 1.0)
    assert (ds["pods_running"], ds["pods_pending"], ds["gpu_pods_pending"]) == (2, 2, 1)
    assert ds["oldest_pending_since"] == utc("2025-06-30T09:00:00")
    assert ds["pending_reason"] == "new"  # the latest FailedScheduling, not the condition
    assert ds["team"] == "Research"
    assert scratch["team"] is None and scratch["pods_running"] == 0  # listed, not dropped


def event(uid: str, reason: str, name: str, *, last: str, message: str = "m", **more: Any) -> dict:
    return {
        "metadata": {"name": f"{name}.{uid}", "namespace": "ds-a", "uid": uid},
        "involvedObject": {"kind": "Pod", "name": name, "namespace": "ds-a"},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "firstTimestamp": "2025-06-30T09:00:00Z",
        "lastTimestamp": last,
        **more,
    }


def test_an_events_api_event_is_read_from_event_time_and_its_series() -> None:
    raw = event("u", "FailedScheduling", "p", last="", firstTimestamp=None)
    raw["eventTime"] = "2025-06-30T09:00:00.123456Z"
    raw["series"] = {"count": 4, "lastObservedTime": "2025-06-30T09:40:00.000000Z"}
    state = parse_event(raw)
    assert state.first == dt.datetime(2025, 6, 30, 9, 0, 0, 123456, tzinfo=dt.UTC)
    assert state.last == utc("2025-06-30T09:40:00")


def test_an_oom_killed_container_becomes_one_event_with_a_stable_uid() -> None:
    terminated = {"terminated": {"reason": "OOMKilled", "finishedAt": "2025-06-30T10:30:00Z"}}
    raw = pod(
        "p",
        "Running",
        containerStatuses=[{"name": "main", "lastState": terminated, "state": {"running": {}}}],
    )
    rows = oom_event_rows(parse_pod(raw), PATTERNS)
    again = oom_event_rows(parse_pod(raw), PATTERNS)
    assert [(r["reason"], r["at"], r["team"]) for r in rows] == [
        ("OOMKilled", utc("2025-06-30T10:30:00"), "Research")
    ]
    assert rows[0]["uid"] == again[0]["uid"]


def test_node_groups_come_from_the_configured_label_then_eks_then_karpenter() -> None:
    labels = {"eks.amazonaws.com/nodegroup": "gpu", "karpenter.sh/nodepool": "pool", "team": "x"}
    assert node_group_of(labels) == "gpu"
    assert node_group_of({"karpenter.sh/nodepool": "pool"}) == "pool"
    assert node_group_of(labels, "team") == "x"
    assert node_group_of({}) == NO_GROUP
    node = parse_node(
        {
            "metadata": {"name": "n", "labels": {"node.kubernetes.io/instance-type": "g5.xlarge"}},
            "status": {"capacity": {"nvidia.com/gpu": "4", "cpu": "8"}},
        }
    )
    assert (node.group, node.instance_type, node.gpu) == (NO_GROUP, "g5.xlarge", 4)


def test_namespaces_take_the_team_of_the_first_matching_glob() -> None:
    patterns = {"ds-infra-*": "Infra", "ds-*": "Research"}
    assert team_of("ds-infra-logs", patterns) == "Infra"
    assert team_of("ds-nlp", patterns) == "Research"
    assert team_of("kube-system", patterns) is None


def test_prometheus_history_fills_every_existing_namespace_and_rejects_broken_series() -> None:
    t1, t2 = 1751270400, 1751274000  # 2025-06-30 08:00 and 09:00 UTC
    results = {
        "namespaces": [
            {"metric": {"namespace": "ds-a"}, "values": [[t1, "1"], [t2, "1"]]},
            {"metric": {"namespace": "scratch"}, "values": [[t1, "1"], [t2, "1"]]},
        ],
        "requested": [
            {"metric": {"namespace": "ds-a", "resource": "cpu"}, "values": [[t1, "2.5"]]},
            {"metric": {"namespace": "ds-a", "resource": "nvidia_com_gpu"}, "values": [[t1, "1"]]},
        ],
        "phases": [
            {"metric": {"namespace": "ds-a", "phase": "Running"}, "values": [[t1, "2"], [t2, "0"]]},
            {"metric": {"namespace": "ds-a", "phase": "Pending"}, "values": [[t2, "1"]]},
        ],
        "gpu_pending": [{"metric": {"namespace": "ds-a"}, "values": [[t2, "1"]]}],
        "node_labels": [
            {
                "metric": {
                    "node": "n1",
                    prometheus_label("eks.amazonaws.com/nodegroup"): "gpu",
                    prometheus_label("node.kubernetes.io/instance-type"): "g5.xlarge",
                },
                "values": [[t1, "1"], [t2, "1"]],
            },
            {"metric": {"node": "n2"}, "values": "not a list"},
        ],
        "node_gpus": [{"metric": {"node": "n1"}, "values": [[t1, "1"], [t2, "1"]]}],
    }
    chunk = backfill_rows(results, PATTERNS)
    got = {(r["at"].hour, r["namespace"]): r for r in chunk.samples}
    assert set(got) == {(8, "ds-a"), (8, "scratch"), (9, "ds-a"), (9, "scratch")}
    assert (got[8, "ds-a"]["cpu_requested"], got[8, "ds-a"]["gpu_requested"]) == (2.5, 1.0)
    assert got[9, "ds-a"]["cpu_requested"] == 0.0  # nothing running at 09:00
    assert (got[9, "ds-a"]["pods_pending"], got[9, "ds-a"]["gpu_pods_pending"]) == (1, 1)
    assert got[9, "scratch"]["team"] is None and got[9, "scratch"]["pods_running"] == 0
    assert [(r["node_group"], r["instance_type"], r["count"], r["gpu"]) for r in chunk.nodes] == [
        ("gpu", "g5.xlarge", 1, 1)
    ] * 2
    assert [r.key for r in chunk.rejects] == ["prometheus node_labels"]


# ================================================================ the world, as it happened


def world_samples(world: World, t: dt.datetime) -> dict[str, dict[str, Any]]:
    """Each namespace at `t`: what its running pods request, who waits since when and why."""
    namespaces = ["default", "kube-system", *world.cluster.namespaces]
    out = {
        ns: {
            "cpu_requested": 0.0,
            "memory_requested": 0.0,
            "gpu_requested": 0.0,
            "pods_running": 0,
            "pods_pending": 0,
            "gpu_pods_pending": 0,
            "oldest_pending_since": None,
            "oldest_pending_pod": None,
        }
        for ns in namespaces
    }
    for p in world.cluster.pods:
        if not (p.created <= t and (p.ended is None or t < p.ended)):
            continue  # not yet created, or finished (finished pods are deleted)
        row = out[p.namespace]
        if p.scheduled is not None and p.scheduled <= t:
            row["cpu_requested"] += p.cpu
            row["memory_requested"] += p.memory
            row["gpu_requested"] += p.gpu
            row["pods_running"] += 1
        else:
            row["pods_pending"] += 1
            row["gpu_pods_pending"] += int(p.gpu > 0)
            if row["oldest_pending_since"] is None or p.created < row["oldest_pending_since"]:
                row["oldest_pending_since"], row["oldest_pending_pod"] = p.created, p.name
    return out


def world_nodes(world: World, t: dt.datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """(node group, instance type) -> (nodes, GPUs per node) at `t`, from the group sizes."""
    latest: dict[str, Any] = {}
    for change in sorted(world.cluster.node_groups, key=lambda c: c.at):
        if change.at <= t:
            latest[change.node_group] = change
    return {
        (c.node_group, c.instance_type): (c.count, c.gpu_per_node)
        for c in latest.values()
        if c.count
    }


def latest_failure(world: World, ns: str, pod_name: str, t: dt.datetime) -> str | None:
    messages = [
        e.message
        for e in sorted(world.cluster.events, key=lambda e: e.at)
        if e.reason == "FailedScheduling" and e.namespace == ns and e.name == pod_name and e.at <= t
    ]
    return messages[-1] if messages else None


def world_event_uids(world: World, since: dt.datetime, until: dt.datetime) -> set[str]:
    """Events the API shows at some moment in [since, until]: each lives an hour."""
    return {
        e.uid
        for e in world.cluster.events
        if since - dt.timedelta(hours=1) < e.at <= until and e.reason in KEPT_REASONS
    }


def world_oom_kills(world: World, since: dt.datetime, until: dt.datetime) -> set[tuple]:
    """(namespace, pod, end) of the batch pods killed for memory that the API lists at some
    moment in [since, until]: a finished pod stays listed until its Job's TTL (14 days)."""
    ttl = dt.timedelta(days=14)
    return {
        (p.namespace, p.name, p.ended)
        for p in world.cluster.pods
        if p.termination_reason == "OOMKilled"
        and p.ended is not None
        and p.ended <= until
        and since < p.ended + ttl
    }


def stored_oom_kills(engine: Engine) -> set[tuple]:
    e = models.ClusterEvent
    with engine.connect() as conn:
        rows = conn.execute(select(e.namespace, e.name, e.at).where(e.reason == "OOMKilled"))
        return {tuple(row) for row in rows}


# ================================================================ the database, as stored


def stored_samples(engine: Engine, at: dt.datetime) -> dict[str, models.ClusterSample]:
    with engine.connect() as conn:
        rows = conn.execute(select(models.ClusterSample).where(models.ClusterSample.at == at))
        return {row.namespace: row for row in rows}


def stored_nodes(engine: Engine, at: dt.datetime) -> dict[tuple[str, str], tuple[int, int]]:
    n = models.ClusterNode
    with engine.connect() as conn:
        rows = conn.execute(select(n.node_group, n.instance_type, n.count, n.gpu).where(n.at == at))
        return {(g, t): (c, gpu) for g, t, c, gpu in rows}


def assert_sample_equals_world(
    engine: Engine, world: World, t: dt.datetime, *, reasons: bool = True, since: bool = True
) -> None:
    stored = stored_samples(engine, t)
    expected = world_samples(world, t)
    assert set(stored) == set(expected)
    for ns, want in expected.items():
        got = stored[ns]
        assert got.team == (world.cluster.namespaces.get(ns) or None), ns
        assert got.cpu_requested == pytest.approx(want["cpu_requested"]), ns
        assert got.memory_requested == pytest.approx(want["memory_requested"]), ns
        assert got.gpu_requested == pytest.approx(want["gpu_requested"]), ns
        got_counts = (got.pods_running, got.pods_pending, got.gpu_pods_pending)
        assert got_counts == (
            want["pods_running"],
            want["pods_pending"],
            want["gpu_pods_pending"],
        ), ns
        if since:
            assert got.oldest_pending_since == want["oldest_pending_since"], ns
        if reasons and want["oldest_pending_pod"] is not None:
            reason = latest_failure(world, ns, want["oldest_pending_pod"], t)
            if reason is not None:
                assert got.pending_reason == reason, ns
    assert stored_nodes(engine, t) == world_nodes(world, t)


# ================================================================ fixtures


@pytest.fixture
def kube() -> Iterator[KubeSandbox]:
    """A fresh world's cluster behind kmock's emulator (each test moves its clock)."""
    state = SandboxState(world=generate(1, "tiny", end=END))
    with KubeSandbox(state) as sandbox:
        yield sandbox


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'teamtide.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def cluster_config(**cluster: Any) -> Config:
    return Config.model_validate({"sources": {"cluster": {"namespaces": PATTERNS, **cluster}}})


def by_url(kube: KubeSandbox, **more: Any) -> Config:
    return cluster_config(api_url=kube.api_url, token=kube.token, **more)


def clock_of(kube: KubeSandbox) -> Any:
    return lambda: kube.state.world.clock


def snapshot(engine: Engine, kube: KubeSandbox, config: Config | None = None) -> StreamResult:
    found = streams(
        config or by_url(kube), engine, NullProgress(), clock=clock_of(kube), retry=FAST
    )
    stream = next(s for s in found if isinstance(s, SnapshotStream))
    [result] = run_stream(engine, stream, now=clock_of(kube))
    return result


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def event_uids(engine: Engine) -> list[str]:
    """The uids of the stored events the API served (not those read off a pod's containers)."""
    e = models.ClusterEvent
    with engine.connect() as conn:
        return list(conn.scalars(select(e.uid).where(e.reason != "OOMKilled")))


# ================================================================ the live snapshot


def test_a_snapshot_equals_the_emulator_s_cluster_namespaces_nodes_pending_pods_and_events(
    engine: Engine, kube: KubeSandbox
) -> None:
    kube.state.advance(BUSY)
    result = snapshot(engine, kube)
    assert result.error is None and result.rejects == 0
    world = kube.state.world
    assert_sample_equals_world(engine, world, BUSY)
    waiting = world_samples(world, BUSY)
    assert sum(row["gpu_pods_pending"] for row in waiting.values()) >= 3  # the test has teeth
    assert set(event_uids(engine)) == world_event_uids(world, BUSY, BUSY)
    # every container killed for memory, read off the finished pods still listed
    assert stored_oom_kills(engine) == world_oom_kills(world, BUSY, BUSY) != set()
    with engine.connect() as conn:
        e = models.ClusterEvent
        teams = dict(conn.execute(select(e.uid, e.team).where(e.reason != "OOMKilled")).all())
    by_uid = {e.uid: e for e in world.cluster.events}
    assert {uid: by_uid[uid].namespace.startswith("ds-") for uid in teams} == {
        uid: team == "Research" for uid, team in teams.items()
    }
    with Session(engine) as session:
        state = session.scalars(select(models.SyncState)).one()
    assert state.cursor == BUSY.isoformat() and state.last_error is None


def test_a_second_snapshot_keeps_the_new_events_once_and_follows_the_clock(
    engine: Engine, kube: KubeSandbox
) -> None:
    # 50 minutes apart: one event seen by both, one only by each (expired, then new)
    first, second = utc("2025-07-08T11:30:00"), utc("2025-07-08T12:20:00")
    kube.state.advance(first)
    snapshot(engine, kube)
    kube.state.advance(second)
    result = snapshot(engine, kube)
    assert result.error is None
    world = kube.state.world
    uids = event_uids(engine)
    assert len(uids) == len(set(uids))  # events seen by both snapshots are stored once
    assert set(uids) == world_event_uids(world, first, second)
    assert stored_oom_kills(engine) == world_oom_kills(world, first, second)
    seen_first, seen_second = (world_event_uids(world, t, t) for t in (first, second))
    assert seen_first & seen_second and seen_first - seen_second and seen_second - seen_first
    assert_sample_equals_world(engine, world, first)
    assert_sample_equals_world(engine, world, second)
    assert world_samples(world, first) != world_samples(world, second)  # the clock moved things


def test_the_same_minute_sampled_twice_is_stored_once(engine: Engine, kube: KubeSandbox) -> None:
    kube.state.advance(BUSY)
    snapshot(engine, kube)
    snapshot(engine, kube)
    assert count(engine, models.ClusterSample) == len(world_samples(kube.state.world, BUSY))
    assert count(engine, models.ClusterNode) == len(world_nodes(kube.state.world, BUSY))


def test_unmatched_namespaces_are_stored_with_no_team(engine: Engine, kube: KubeSandbox) -> None:
    snapshot(engine, kube)
    stored = stored_samples(engine, kube.state.world.clock)
    assert {ns for ns, row in stored.items() if row.team is None} == {
        "default",
        "kube-system",
        "scratch",
    }


def test_a_malformed_pod_ends_in_sync_rejects_and_everything_else_loads(
    engine: Engine, kube: KubeSandbox
) -> None:
    api = k8s.CoreV1Api(k8s.ApiClient(kube.configuration()))
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "broken",
            "namespace": "ds-vision",
            "uid": "0b0e0e0e-0000-4000-8000-000000000001",
            "creationTimestamp": "2025-06-29T23:00:00Z",
        },
        "spec": {"containers": [{"name": "main", "resources": {"requests": {"cpu": "lots"}}}]},
        "status": {"phase": "Running"},
    }
    api.create_namespaced_pod("ds-vision", body)
    api.api_client.close()
    result = snapshot(engine, kube)
    assert (result.error, result.rejects) == (None, 1)
    with Session(engine) as session:
        reject = session.scalars(select(models.SyncReject)).one()
    assert (reject.source, reject.stream, reject.key) == (
        "cluster",
        "snapshot",
        "pod ds-vision/broken",
    )
    assert "'lots'" in reject.reason and "cpu" in reject.reason
    assert reject.payload is not None and "lots" in reject.payload
    assert_sample_equals_world(engine, kube.state.world, kube.state.world.clock)


def test_a_kubeconfig_and_its_context_reach_the_cluster(
    sqlite_engine: Engine, kube: KubeSandbox, tmp_path: Path
) -> None:
    path = kube.kubeconfig(tmp_path / "kubeconfig")
    result = snapshot(sqlite_engine, kube, cluster_config(kubeconfig=str(path), context="sandbox"))
    assert result.error is None
    assert_sample_equals_world(sqlite_engine, kube.state.world, kube.state.world.clock)


def test_a_wrong_token_is_recorded_as_the_stream_s_error_without_the_token(
    sqlite_engine: Engine, kube: KubeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMTIDE_TEST_KUBE_TOKEN", "not-the-token")
    config = cluster_config(api_url=kube.api_url, token="${TEAMTIDE_TEST_KUBE_TOKEN}")
    [outcome] = sync(sqlite_engine, config, only=["cluster"])
    assert outcome.failed
    assert [r.stream for r in outcome.results] == ["snapshot", "pod_history"]
    for result in outcome.results:
        assert result.error is not None and "HTTP 401" in result.error
        assert "not-the-token" not in result.error
    assert count(sqlite_engine, models.ClusterSample) == 0


def test_teamtide_sync_runs_the_cluster_source(sqlite_engine: Engine, kube: KubeSandbox) -> None:
    [outcome] = sync(sqlite_engine, by_url(kube), only=["cluster"], now=clock_of(kube))
    assert not outcome.failed, outcome
    # no Prometheus: the snapshot, then the history rebuilt from the pods it listed
    assert [r.stream for r in outcome.results] == ["snapshot", "pod_history"]
    assert outcome.results[0].rows > 0 and outcome.results[1].rows > 0
    assert outcome.results[1].requests == 0  # it reads the snapshot's lists, not the API
    assert len(stored_samples(sqlite_engine, END_AT)) == len(
        world_samples(kube.state.world, END_AT)
    )


# ================================================================ the history rebuilt from pods

T8 = utc("2025-06-30T08:00:00")


def hours_after(moment: dt.datetime, hours: float) -> str:
    return (moment + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def terminated(finished: str | None, started: str | None = None, **more: Any) -> dict:
    return {"terminated": {"exitCode": 0, "startedAt": started, "finishedAt": finished, **more}}


def test_a_finished_pod_held_its_requests_from_its_start_time_to_its_last_container_s_end() -> None:
    raw = pod(
        "a",
        "Succeeded",
        gpu="1",
        startTime=hours_after(T8, 0),
        initContainerStatuses=[{"name": "init", "state": terminated(hours_after(T8, 0.1))}],
        containerStatuses=[
            {"name": "c", "state": terminated(hours_after(T8, 2.5), hours_after(T8, 0.1))},
            {"name": "d", "state": terminated(hours_after(T8, 2), hours_after(T8, 0.1))},
        ],
    )
    life = parse_pod_life(raw)
    assert (life.started, life.finished) == (T8, T8 + dt.timedelta(hours=2.5))
    assert (life.cpu, life.memory, life.gpu) == (2.0, 4 * GIB, 1.0)
    assert life.holds_at(T8) and life.holds_at(T8 + dt.timedelta(hours=2))
    assert not life.holds_at(T8 + dt.timedelta(hours=2.5))


def test_an_evicted_pod_whose_container_end_is_lost_ends_when_it_stopped_being_ready() -> None:
    # As the kubelet leaves it: the runtime forgot the container, the pod says why.
    lost = terminated(None, None, exitCode=137, reason="ContainerStatusUnknown")
    raw = pod(
        "e",
        "Failed",
        startTime=hours_after(T8, 0),
        reason="Evicted",
        containerStatuses=[{"name": "c", "state": lost}],
    )
    raw["status"]["conditions"] = [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": hours_after(T8, 0)},
        {"type": "Ready", "status": "False", "lastTransitionTime": hours_after(T8, 3)},
    ]
    assert parse_pod_life(raw).finished == T8 + dt.timedelta(hours=3)


def test_a_finished_pod_with_no_recorded_end_is_refused_and_one_that_never_ran_counts_nothing() -> (
    None
):
    with pytest.raises(ParseError, match="records no end"):
        parse_pod_life(pod("x", "Succeeded", startTime=hours_after(T8, 0)))
    never = parse_pod_life(pod("y", "Failed", reason="OutOfcpu"))  # refused by its node
    assert (never.started, never.finished) == (None, None) and not never.holds_at(T8)


def test_a_running_pod_holds_its_requests_from_its_start_on() -> None:
    running = parse_pod_life(pod("r", "Running", startTime=hours_after(T8, 0)))
    assert (running.started, running.finished) == (T8, None)
    # no startTime: the first container start stands in; neither: the pod is refused
    state = {"running": {"startedAt": hours_after(T8, 1)}}
    late = parse_pod_life(pod("s", "Running", containerStatuses=[{"name": "c", "state": state}]))
    assert late.started == T8 + dt.timedelta(hours=1)
    with pytest.raises(ParseError, match="startTime"):
        parse_pod_life(pod("t", "Running"))


def test_history_rows_count_each_pod_at_the_whole_hours_it_held_its_requests() -> None:
    lives = [
        PodLife("ds-a", "a", 2.0, GIB, 1.0, T8, T8 + dt.timedelta(hours=2.5)),  # at 8, 9, 10
        PodLife("ds-a", "b", 0.5, GIB, 0.0, T8 + dt.timedelta(hours=1.25), None),  # 10, 11, 12
        PodLife("ds-a", "never", 9.0, GIB, 1.0, None, None),
    ]
    late = T8 + dt.timedelta(hours=2.5)
    namespaces = {"ds-a": None, "scratch": late}  # scratch exists from 10:30 on
    rows = history_rows(T8, T8 + dt.timedelta(hours=4), namespaces, lives, PATTERNS)
    got = {(r["at"].hour, r["namespace"]): r for r in rows}
    assert set(got) == {(h, "ds-a") for h in range(8, 13)} | {(11, "scratch"), (12, "scratch")}
    assert [got[h, "ds-a"]["cpu_requested"] for h in range(8, 13)] == [2.0, 2.0, 2.5, 0.5, 0.5]
    assert [got[h, "ds-a"]["gpu_requested"] for h in range(8, 13)] == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert [got[h, "ds-a"]["pods_running"] for h in range(8, 13)] == [1, 1, 2, 1, 1]
    assert got[10, "ds-a"]["memory_requested"] == 2 * GIB
    for row in rows:  # nobody can say who was pending then: unknown, not zero
        assert (row["pods_pending"], row["gpu_pods_pending"]) == (None, None)
        assert row["origin"] == "pod_history" and row["oldest_pending_since"] is None
    assert got[8, "ds-a"]["team"] == "Research" and got[11, "scratch"]["team"] is None
    assert history_horizon(lives) == T8 + dt.timedelta(hours=2.5)
    assert history_horizon(lives[1:]) is None  # no finished pod: no sign of how far back


def history(
    engine: Engine, kube: KubeSandbox, *, chunk_days: float = 7, **options: Any
) -> StreamResult:
    found = streams(
        by_url(kube), engine, NullProgress(), clock=clock_of(kube), retry=FAST,
        chunk_days=chunk_days,
    )  # fmt: skip
    stream = next(s for s in found if isinstance(s, PodHistoryStream))
    [result] = run_stream(engine, stream, now=clock_of(kube), **options)
    return result


TTL = dt.timedelta(days=14)  # the sandbox's Jobs: ttlSecondsAfterFinished


def world_horizon(world: World, t: dt.datetime) -> dt.datetime:
    """The earliest end of a finished batch pod the API still lists at `t`."""
    return min(
        p.ended
        for p in world.cluster.pods
        if p.workload == "Job" and p.scheduled is not None and p.ended is not None
        and p.scheduled < p.ended <= t < p.ended + TTL
    )  # fmt: skip


def ceil_hour(moment: dt.datetime) -> dt.datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + dt.timedelta(hours=1)


def test_the_history_rebuilds_every_hour_since_the_earliest_end_still_listed(
    engine: Engine, kube: KubeSandbox
) -> None:
    world = kube.state.world
    snapshot(engine, kube)
    result = history(engine, kube)
    assert result.error is None and result.rejects == 0
    first = ceil_hour(world_horizon(world, END_AT))
    assert END_AT - first > dt.timedelta(days=13)
    hours = [first + dt.timedelta(hours=h) for h in range((END_AT - first) // HOUR)]
    assert stored_hours(engine) == [*hours, END_AT]  # then the live sample
    for hour in hours:
        stored, expected = stored_samples(engine, hour), world_samples(world, hour)
        assert set(stored) == set(expected), hour
        for ns, want in expected.items():
            got = stored[ns]
            assert got.cpu_requested == pytest.approx(want["cpu_requested"]), (hour, ns)
            assert got.memory_requested == pytest.approx(want["memory_requested"]), (hour, ns)
            assert got.gpu_requested == pytest.approx(want["gpu_requested"]), (hour, ns)
            assert got.pods_running == want["pods_running"], (hour, ns)
            assert (got.pods_pending, got.gpu_pods_pending, got.origin) == (
                None,
                None,
                "pod_history",
            )
    busy = sum(world_samples(world, h)["ds-vision"]["gpu_requested"] for h in hours)
    assert busy > 0  # the test has teeth
    with Session(engine) as session:
        state = session.scalars(
            select(models.SyncState).where(models.SyncState.stream == "pod_history")
        ).one()
    assert state.cursor == first.isoformat()


def planted(
    world: World, begin: dt.datetime, end: dt.datetime, team: str | None = None
) -> dict[str, tuple[float, float, float]]:
    """What the plan gives a team (every team: None) between `begin` and `end`, computed
    exactly from each pod's running time (scheduled to ended): per resource ("gpu", "cpu"),
    (resource-hours, the sum of what each pod requests, the sum of its squares)."""
    out = {"gpu": [0.0, 0.0, 0.0], "cpu": [0.0, 0.0, 0.0]}
    for p in world.cluster.pods:
        if p.scheduled is None:
            continue
        if team is not None and (team_of(p.namespace, PATTERNS) or NO_TEAM) != team:
            continue
        hours = (min(p.ended or end, end) - max(p.scheduled, begin)) / HOUR
        if hours <= 0:
            continue
        for what, amount in (("gpu", float(p.gpu)), ("cpu", p.cpu)):
            sums = out[what]
            sums[0] += amount * hours
            sums[1] += amount
            sums[2] += amount * amount
    return {what: (sums[0], sums[1], sums[2]) for what, sums in out.items()}


def test_rebuilt_gpu_and_cpu_hours_agree_with_the_planted_cluster_per_team_week(
    sqlite_engine: Engine, kube: KubeSandbox
) -> None:
    """Per team and ISO week, the hours rebuilt from pods against the plan's, exactly computed.

    The tolerance. A sample stands for its whole hour, so a pod is counted from the first
    whole hour at or after its start to the first at or after its end: its counted time
    is off by (ceil(end) - end) - (ceil(start) - start), strictly between -1 and +1 hour.
    So a team-week can be off by less than the sum, over its pods, of what each requests
    (GPUs, cores) times one hour: that bound holds always. The two fractions are
    independent and uniform, so a pod's error has mean 0 and variance 1/6 h²: over the
    whole span the totals must agree within three standard deviations,
    3 * sqrt(sum of requests² / 6) resource-hours (a 0.3% chance to fail for a random
    world; this one is fixed).
    """
    world = kube.state.world
    snapshot(sqlite_engine, kube)
    history(sqlite_engine, kube)
    first = ceil_hour(world_horizon(world, END_AT))
    teams = ["Research", "Infra", "Enablement"]
    window = widen(first.date(), END - dt.timedelta(days=1))
    with sqlite_engine.connect() as conn:
        frames = cluster_frames(conn, window.start.to_pydatetime(), window.end.to_pydatetime())
    usage = team_usage(frames["cluster_samples"], window, END_AT, teams)
    print(f"\nrebuilt from {first:%Y-%m-%d %H:%M} to {END_AT:%Y-%m-%d %H:%M} UTC")
    print(f"{'week':10} {'team':10} {'GPU-h':>8} {'planted':>8} {'bound':>6} "
          f"{'CPU-h':>8} {'planted':>8} {'bound':>6}")  # fmt: skip
    for monday in window.weeks:
        begin = max(dt.datetime.combine(monday, dt.time(), dt.UTC), first)
        end = min(dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), dt.UTC), END_AT)
        for team in [*teams, NO_TEAM]:
            plan = planted(world, begin, end, team)
            row = usage[(usage["team"] == team) & (usage["week"] == monday)].iloc[0]
            (gpu, gpu_bound, _), (cpu, cpu_bound, _) = plan["gpu"], plan["cpu"]
            print(f"{monday!s:10} {team:10} {row['gpu_hours']:8.1f} {gpu:8.1f} {gpu_bound:6.1f} "
                  f"{row['cpu_hours']:8.1f} {cpu:8.1f} {cpu_bound:6.1f}")  # fmt: skip
            assert abs(row["gpu_hours"] - gpu) <= gpu_bound, (team, monday)
            assert abs(row["cpu_hours"] - cpu) <= cpu_bound, (team, monday)
            assert np.isnan(row["gpu_pending_pod_hours"])  # not known, not zero
    whole = planted(world, first, END_AT)
    for what in ("gpu", "cpu"):
        hours, _, squares = whole[what]
        rebuilt = float(usage[f"{what}_hours"].sum())
        sd = (squares / 6) ** 0.5
        print(f"{what.upper()}-hours over the span: rebuilt {rebuilt:.1f}, planted {hours:.1f} "
              f"({(rebuilt - hours) / hours:+.2%}; {(rebuilt - hours) / sd:+.2f} sd, sd {sd:.1f} h)")  # fmt: skip
        assert hours > 0 and abs(rebuilt - hours) <= 3 * sd


def test_an_interrupted_history_resumes_from_its_cursor_and_a_finished_one_costs_nothing(
    sqlite_engine: Engine, kube: KubeSandbox, tmp_path: Path
) -> None:
    snapshot(sqlite_engine, kube)
    pages = iter(range(100))
    stopped = history(sqlite_engine, kube, chunk_days=3, should_stop=lambda: next(pages) >= 1)
    assert stopped.stopped and stopped.pages == 1
    assert len(stored_hours(sqlite_engine)) == 3 * 24 + 1  # the newest three days, and now
    resumed = history(sqlite_engine, kube, chunk_days=3)
    assert resumed.pages >= 4 and resumed.error is None
    whole = make_engine(f"sqlite:///{tmp_path / 'whole.db'}")
    upgrade(whole)
    snapshot(whole, kube)
    history(whole, kube, chunk_days=3)

    def table(engine: Engine) -> pd.DataFrame:
        with engine.connect() as conn:
            frames = cluster_frames(conn, END_AT - dt.timedelta(days=30), END_AT)
        return frames["cluster_samples"].sort_values(["at", "namespace"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(sqlite_engine), table(whole))
    whole.dispose()
    again = history(sqlite_engine, kube, chunk_days=3)
    assert (again.pages, again.requests, again.rows, again.error) == (0, 0, 0, None)


def test_the_history_stops_before_the_first_observed_sample_and_never_overwrites_it(
    sqlite_engine: Engine, kube: KubeSandbox
) -> None:
    observed = END_AT - dt.timedelta(days=3)  # as if Prometheus had the last three days
    row = sample_rows(observed, ["ds-vision"], [], {}, PATTERNS, "prometheus_backfill")[0]
    with Session(sqlite_engine) as session, session.begin():
        session.execute(models.ClusterSample.__table__.insert(), [dict(row, cpu_requested=99.0)])
    history(sqlite_engine, kube)
    hours = stored_hours(sqlite_engine)
    assert hours[-1] == observed and hours[-2] == observed - HOUR
    kept = stored_samples(sqlite_engine, observed)["ds-vision"]
    assert (kept.cpu_requested, kept.origin) == (99.0, "prometheus_backfill")


def test_a_malformed_finished_pod_is_set_aside_and_the_rest_rebuilt(
    sqlite_engine: Engine, kube: KubeSandbox
) -> None:
    api = k8s.CoreV1Api(k8s.ApiClient(kube.configuration()))
    body = pod("broken", "Succeeded", ns="ds-vision", startTime="2025-06-25T10:00:00Z")
    body["metadata"]["uid"] = "0b0e0e0e-0000-4000-8000-000000000002"
    api.create_namespaced_pod("ds-vision", body)
    api.api_client.close()
    snapshot(sqlite_engine, kube)
    result = history(sqlite_engine, kube)
    assert (result.error, result.rejects) == (None, 1) and result.rows > 0
    with Session(sqlite_engine) as session:
        reject = session.scalars(
            select(models.SyncReject).where(models.SyncReject.stream == "pod_history")
        ).one()
    assert reject.key == "pod ds-vision/broken" and "records no end" in reject.reason
    first = ceil_hour(world_horizon(kube.state.world, END_AT))
    assert stored_hours(sqlite_engine)[0] == first


def test_without_a_finished_pod_listed_nothing_is_rebuilt(sqlite_engine: Engine) -> None:
    # Jobs cleaned up the moment they end: no finished pod says how far back the record goes.
    state = SandboxState(world=generate(1, "tiny", end=END))
    with KubeSandbox(state, finished_ttl=dt.timedelta(0)) as kube:
        snapshot(sqlite_engine, kube)
        result = history(sqlite_engine, kube)
    assert (result.pages, result.rows, result.error) == (0, 0, None)
    assert stored_hours(sqlite_engine) == [END_AT]


def test_without_prometheus_on_path_the_sandbox_serves_none_and_a_sync_rebuilds_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collectors.org import prepare_database
    from config.load import load_config
    from db.cluster_queries import cluster_history
    from sandbox.stack import SandboxStack

    monkeypatch.setenv("PATH", str(tmp_path))  # a laptop without Debian's prometheus
    world = generate(1, "tiny", end=END)
    with SandboxStack(world) as stack:
        assert stack.prometheus is None
        path = stack.write_config(tmp_path / "teamtide.yaml", f"sqlite:///{tmp_path / 'db'}")
        config = load_config(path)
        assert config.sources.cluster is not None and config.sources.cluster.prometheus_url is None
        engine, _ = prepare_database(config)
        [outcome] = sync(engine, config, only=["cluster"], now=lambda: world.clock)
    assert not outcome.failed, outcome
    assert [r.stream for r in outcome.results] == ["snapshot", "pod_history"]
    with engine.connect() as conn:
        history = cluster_history(conn)
    engine.dispose()
    assert history["first_observed"] == history["first_snapshot"] == END_AT
    assert history["first_rebuilt"] == ceil_hour(world_horizon(world, END_AT))
    assert history["last_rebuilt"] == END_AT - HOUR


# ================================================================ the Prometheus backfill

BACKFILL_DAYS = 3
HAND_CHECKED = [  # hours the world makes interesting: GPU pods waiting, a quiet weekend
    utc("2025-06-27T02:00:00"),
    utc("2025-06-27T17:00:00"),
    utc("2025-06-28T08:00:00"),
    utc("2025-06-29T23:00:00"),
]


@pytest.fixture(scope="module")
def prometheus() -> Iterator[tuple[World, str]]:
    """A real Prometheus over the last days of the world's kube-state-metrics history."""
    from sandbox.kube.prometheus import PrometheusSandbox

    require_prometheus()
    world = generate(1, "tiny", end=END)  # never advanced: the backfill reads the past
    with PrometheusSandbox(world, days=BACKFILL_DAYS) as server:
        yield world, server.url


def backfill(engine: Engine, world: World, url: str, **options: Any) -> list[StreamResult]:
    config = cluster_config(api_url="http://127.0.0.1:9", prometheus_url=url)
    found = streams(
        config,
        engine,
        NullProgress(),
        clock=lambda: world.clock,
        retry=FAST,
        backfill_days=BACKFILL_DAYS,
        chunk_days=1,
    )
    stream = next(s for s in found if isinstance(s, BackfillStream))
    return run_stream(engine, stream, now=lambda: world.clock, **options)


def stored_hours(engine: Engine) -> list[dt.datetime]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(models.ClusterSample.at).distinct()))


def test_the_backfill_writes_the_world_s_hourly_history(
    engine: Engine, prometheus: tuple[World, str]
) -> None:
    world, url = prometheus
    [result] = backfill(engine, world, url)
    assert result.error is None and result.rejects == 0
    assert result.pages == BACKFILL_DAYS  # one page per day
    first = world.clock - dt.timedelta(days=BACKFILL_DAYS)
    assert stored_hours(engine) == [
        first + dt.timedelta(hours=h) for h in range(24 * BACKFILL_DAYS)
    ]
    for hour in HAND_CHECKED:
        assert_sample_equals_world(engine, world, hour, reasons=False, since=False)
    waiting = world_samples(world, HAND_CHECKED[1])
    assert sum(row["gpu_pods_pending"] for row in waiting.values()) >= 2  # the test has teeth
    with Session(engine) as session:
        state = session.scalars(select(models.SyncState)).one()
    assert state.cursor == first.isoformat()


def test_the_backfill_s_hours_integrate_to_the_world_s_gpu_hours(
    engine: Engine, prometheus: tuple[World, str]
) -> None:
    world, url = prometheus
    backfill(engine, world, url)
    week = widen(dt.date(2025, 6, 23), dt.date(2025, 6, 29))
    with engine.connect() as conn:
        frames = cluster_frames(conn, week.start.to_pydatetime(), week.end.to_pydatetime())
    usage = team_usage(frames["cluster_samples"], week, world.clock, ["Research"])
    research = usage[usage["team"] == "Research"].iloc[0]
    # every backfilled hour holds for one hour: the sum over the hours of the world's GPUs
    hours = [world.clock - dt.timedelta(hours=h) for h in range(1, 24 * BACKFILL_DAYS + 1)]
    gpus = sum(
        row["gpu_requested"]
        for h in hours
        for ns, row in world_samples(world, h).items()
        if ns.startswith("ds-")
    )
    waits = sum(
        row["gpu_pods_pending"]
        for h in hours
        for ns, row in world_samples(world, h).items()
        if ns.startswith("ds-")
    )
    assert research["gpu_hours"] == pytest.approx(gpus) and gpus > 0
    assert research["gpu_pending_pod_hours"] == pytest.approx(waits) and waits > 0


def test_an_interrupted_backfill_resumes_from_its_cursor_and_ends_as_an_uninterrupted_one(
    sqlite_engine: Engine, prometheus: tuple[World, str], tmp_path: Path
) -> None:
    world, url = prometheus
    pages = iter(range(100))
    [stopped] = backfill(sqlite_engine, world, url, should_stop=lambda: next(pages) >= 1)
    assert stopped.stopped and stopped.pages == 1
    assert len(stored_hours(sqlite_engine)) == 24  # the newest day
    [resumed] = backfill(sqlite_engine, world, url)
    assert resumed.pages == BACKFILL_DAYS - 1
    whole = make_engine(f"sqlite:///{tmp_path / 'whole.db'}")
    upgrade(whole)
    backfill(whole, world, url)

    def table(engine: Engine) -> pd.DataFrame:
        with engine.connect() as conn:
            frames = cluster_frames(conn, world.clock - dt.timedelta(days=9), world.clock)
        return frames["cluster_samples"].sort_values(["at", "namespace"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(sqlite_engine), table(whole))
    whole.dispose()
    [again] = backfill(sqlite_engine, world, url)
    assert (again.pages, again.requests, again.error) == (0, 0, None)  # done: costs nothing


def test_the_backfill_stops_at_the_first_live_sample(
    sqlite_engine: Engine, prometheus: tuple[World, str], kube: KubeSandbox
) -> None:
    world, url = prometheus
    assert kube.state.world.clock == world.clock
    snapshot(sqlite_engine, kube)
    backfill(sqlite_engine, world, url)
    hours = stored_hours(sqlite_engine)
    assert hours[-1] == world.clock  # the live sample
    assert hours[-2] == world.clock - dt.timedelta(hours=1)  # the newest backfilled hour
    assert len(hours) == 24 * BACKFILL_DAYS + 1
    assert_sample_equals_world(sqlite_engine, world, world.clock)


def test_prometheus_history_replaces_the_hours_rebuilt_from_pods(
    sqlite_engine: Engine, prometheus: tuple[World, str], kube: KubeSandbox
) -> None:
    world, url = prometheus
    snapshot(sqlite_engine, kube)
    history(sqlite_engine, kube)  # as before Prometheus was configured: two weeks rebuilt
    [result] = backfill(sqlite_engine, world, url)
    assert result.error is None
    observed_from = world.clock - dt.timedelta(days=BACKFILL_DAYS)
    s = models.ClusterSample
    with sqlite_engine.connect() as conn:
        pairs = conn.execute(select(s.at, s.origin).distinct()).all()
    before = {origin for at, origin in pairs if at < observed_from}
    after = {origin for at, origin in pairs if observed_from <= at < world.clock}
    assert (before, after) == ({"pod_history"}, {"prometheus_backfill"})
    for hour in HAND_CHECKED:  # Prometheus knows who waited: the pending counts are back
        assert_sample_equals_world(sqlite_engine, world, hour, reasons=False, since=False)
