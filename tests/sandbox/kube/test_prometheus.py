"""The sandbox's Prometheus: the world's cluster history backfilled into a real server and queried.

The server tests need Debian's `prometheus` (`tests.prom.require_prometheus`: skipped
without it, failed under CI); the OpenMetrics text and the look-up of the programs do not.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from sandbox.kube.objects import is_running, live_pods
from sandbox.kube.prometheus import PrometheusSandbox, missing_binaries, openmetrics
from sandbox.world.generate import generate
from sandbox.world.model import Cluster, NodeGroupChange, Pod, World
from tests.prom import require_prometheus
from tests.sandbox.kube.worlds import cluster_world

T0 = dt.datetime(2025, 6, 2, 0, 0, tzinfo=dt.UTC)
GPU_RUNNING = (
    'sum by (namespace) (kube_pod_container_resource_requests{resource="nvidia_com_gpu"}'
    ' * on (namespace, pod) group_left () (kube_pod_status_phase{phase="Running"} == 1))'
)
GPU_PENDING = GPU_RUNNING.replace('"Running"', '"Pending"')
NODES_PER_GROUP = (
    "count by (label_eks_amazonaws_com_nodegroup, label_karpenter_sh_nodepool) (kube_node_labels)"
)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def hand_world() -> World:
    """Pods whose hourly state is worked out by hand in the tests below."""
    pods = [
        # a: runs 0:40-3:30, so at hours 1, 2, 3
        Pod("ds-a", "train-a", at(0.5), at(0.67), at(3.5), 4.0, 16 << 30, 1, "gpu-1", "gpu-a10"),
        # b: pends 1:10-2:20 (hour 2), then runs from 2:20 on (hours 3, 4, 5)
        Pod("ds-a", "train-b", at(1.17), at(2.33), None, 8.0, 32 << 30, 2, "gpu-2", "gpu-a10"),
        # c: created on the hour but scheduled a minute later: pending at 0, running at 1, gone at 2
        Pod("ds-b", "train-c", at(0), at(0.02), at(2), 4.0, 16 << 30, 1, "gpu-2", "gpu-a10"),
        Pod("infra-x", "prometheus-x", at(0), at(0), None, 0.5, 1 << 30, 0, "cpu-1", "cpu-general"),
    ]
    cluster = Cluster(
        namespaces={"ds-a": "Research", "ds-b": "Research", "infra-x": "Infra"},
        node_groups=[
            NodeGroupChange(T0, "cpu-general", "m5.2xlarge", 1, 0),
            NodeGroupChange(T0, "gpu-a10", "g5.12xlarge", 2, 4),
        ],
        pods=pods,
    )
    return cluster_world(cluster, T0, at(5), at(24))


def query_range(
    prom: PrometheusSandbox, query: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, dict[str, float]]:
    """{hour: {first label value (or the group): value}} from /api/v1/query_range at 1-hour steps."""
    response = requests.get(
        f"{prom.url}/api/v1/query_range",
        params={"query": query, "start": start.timestamp(), "end": end.timestamp(), "step": "3600"},
        timeout=30,
    )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", body
    out: dict[dt.datetime, dict[str, float]] = {}
    for series in body["data"]["result"]:
        key = ",".join(series["metric"].values())
        for t, value in series["values"]:
            out.setdefault(dt.datetime.fromtimestamp(t, dt.UTC), {})[key] = float(value)
    return out


@pytest.fixture(scope="module")
def hand_prometheus() -> Iterator[PrometheusSandbox]:
    require_prometheus()
    with PrometheusSandbox(hand_world(), start=T0, end=at(5)) as prom:
        yield prom


def test_gpus_requested_by_running_pods_per_namespace_at_each_hour(
    hand_prometheus: PrometheusSandbox,
) -> None:
    got = query_range(hand_prometheus, GPU_RUNNING, T0, at(5))
    assert got == {
        # hour 0: train-c still pending, nothing runs
        at(1): {"ds-a": 1, "ds-b": 1},  # train-a 1, train-c 1
        at(2): {"ds-a": 1},  # train-a 1; train-b pends; train-c ended at 2:00 sharp
        at(3): {"ds-a": 3},  # train-a 1 + train-b 2
        at(4): {"ds-a": 2},  # train-b 2 (train-a ended at 3:30)
        at(5): {"ds-a": 2},
    }
    pending = query_range(hand_prometheus, GPU_PENDING, T0, at(5))
    assert pending == {at(0): {"ds-b": 1}, at(2): {"ds-a": 2}}


def test_cpu_requests_and_node_capacity_carry_kube_state_metrics_units(
    hand_prometheus: PrometheusSandbox,
) -> None:
    cpu = query_range(
        hand_prometheus,
        'sum by (namespace) (kube_pod_container_resource_requests{resource="cpu", unit="core"})',
        at(2),
        at(2),
    )
    assert cpu == {at(2): {"ds-a": 12.0, "infra-x": 0.5}}  # train-a 4 + pending train-b 8
    memory = query_range(
        hand_prometheus,
        'sum(kube_pod_container_resource_requests{resource="memory", unit="byte"})',
        at(4),
        at(4),
    )
    assert memory == {at(4): {"": float((32 << 30) + (1 << 30))}}  # train-b + prometheus-x
    gpus = query_range(
        hand_prometheus,
        'sum by (label_eks_amazonaws_com_nodegroup) (kube_node_status_capacity{resource="nvidia_com_gpu",'
        ' unit="integer"} * on (node) group_left (label_eks_amazonaws_com_nodegroup) kube_node_labels)',
        at(1),
        at(1),
    )
    assert gpus == {at(1): {"gpu-a10": 8.0}}  # two g5.12xlarge with 4 GPUs each
    nodes = query_range(hand_prometheus, NODES_PER_GROUP, at(1), at(1))
    assert nodes == {at(1): {"gpu-a10": 2.0, "cpu-general": 1.0}}


def test_a_pods_series_exist_only_while_it_lives(hand_prometheus: PrometheusSandbox) -> None:
    # train-a is created at 0:30 and ends at 3:30: sampled at 1, 2 and 3, one series per phase.
    phases = query_range(hand_prometheus, 'count(kube_pod_status_phase{pod="train-a"})', T0, at(5))
    assert phases == {at(h): {"": 5.0} for h in (1, 2, 3)}
    running = query_range(
        hand_prometheus, 'kube_pod_status_phase{pod="train-b", phase="Running"}', T0, at(5)
    )
    assert {t: list(row.values()) for t, row in running.items()} == {
        at(2): [0.0],  # pending at 2:00
        at(3): [1.0],
        at(4): [1.0],
        at(5): [1.0],
    }


def test_the_programs_are_looked_up_on_the_path_given(tmp_path) -> None:
    assert missing_binaries(str(tmp_path)) == ["prometheus", "promtool"]
    program = tmp_path / "prometheus"
    program.write_text("#!/bin/sh\n")
    assert missing_binaries(str(tmp_path)) == ["prometheus", "promtool"]  # not executable
    program.chmod(0o755)
    assert missing_binaries(str(tmp_path)) == ["promtool"]


def test_a_missing_prometheus_is_reported_by_name_and_the_sandbox_says_how_to_install_it(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert missing_binaries() == ["prometheus", "promtool"]
    with pytest.raises(RuntimeError, match=r"prometheus and promtool not found.*apt-get install"):
        PrometheusSandbox(hand_world()).start()


def test_openmetrics_ends_with_eof_and_names_the_real_families() -> None:
    text = openmetrics(hand_world(), T0, at(2))
    assert text.endswith("# EOF\n")
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert families >= {
        "kube_pod_container_resource_requests",
        "kube_pod_status_phase",
        "kube_node_labels",
        "kube_node_status_capacity",
    }
    assert 'resource="nvidia_com_gpu"' in text and 'unit="integer"' in text


# --- a generated world's month -------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_prometheus() -> Iterator[tuple[World, PrometheusSandbox]]:
    require_prometheus()
    world = generate(1, "tiny", end=dt.date(2025, 6, 30))
    with PrometheusSandbox(world, days=30) as prom:
        yield world, prom


def test_a_tiny_worlds_month_matches_the_world_hour_by_hour(
    tiny_prometheus: tuple[World, PrometheusSandbox],
) -> None:
    world, prom = tiny_prometheus
    end = world.clock
    start = end - dt.timedelta(days=30)
    running = query_range(prom, GPU_RUNNING, start, end)
    nodes = query_range(prom, NODES_PER_GROUP, start, end)
    hour = start
    checked = 0
    while hour <= end:
        live = live_pods(world.cluster.pods, hour)
        expected: Counter[str] = Counter()
        for p in live:
            if p.gpu and is_running(p, hour):
                expected[p.namespace] += p.gpu
        assert running.get(hour, {}) == dict(expected), hour
        groups = {c.node_group: c.count for c in world.cluster.node_groups if c.at <= hour}
        assert nodes[hour] == groups, hour
        checked += bool(expected)
        hour += dt.timedelta(hours=1)
    assert checked > 50  # the month had GPU work to compare
    assert prom.timings["backfill"] < 20, prom.timings
