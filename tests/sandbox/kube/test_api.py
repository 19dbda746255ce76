"""The sandbox's Kubernetes API (kmock), read over real HTTP by the official `kubernetes` client."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import config, watch
from kubernetes.client import ApiClient, Configuration, CoreV1Api
from kubernetes.client.exceptions import ApiException

from sandbox.http import SandboxState
from sandbox.kube.api import KubeSandbox
from sandbox.kube.objects import EVENT_TTL, FINISHED_POD_TTL, live_pods, node_spans
from sandbox.world.generate import generate
from sandbox.world.model import Cluster, ClusterEvent, NodeGroupChange, Pod, World
from tests.sandbox.kube.worlds import cluster_world

T0 = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)  # a Monday morning
CLOCK = T0 + dt.timedelta(hours=1, minutes=30)
CPU_NODE, GPU_1, GPU_2 = "cpu-node-1", "gpu-node-1", "gpu-node-2"
GROUP_LABEL, POOL_LABEL = "eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool"
UNSCHEDULABLE = (
    "0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint."
)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def hand_world() -> World:
    """Two node groups; a GPU pod waits for a second GPU node, which joins, serves it and leaves.

    At the clock (T0+1:30): etl and train-a run, train-b pends; the last hour holds the
    FailedScheduling and TriggeredScaleUp of train-b, not the OOM kill of T0+0:20.
    """
    pods = [
        Pod("infra-x", "etl-aaaaa", at(0.1), at(0.11), None, 0.5, 1 << 30, 0, CPU_NODE, "cpu-general"),
        Pod("ds-a", "train-a-bbbbb", at(0.5), at(0.51), at(3), 4.0, 16 << 30, 1, GPU_1, "gpu-a10"),
        Pod("ds-a", "train-b-ccccc", at(1), at(2.1), at(4), 6.0, 24 << 30, 1, GPU_2, "gpu-a10"),
        Pod("ds-a", "notebook-ddddd", at(2.5), at(2.51), None, 1.5, 3 << 30, 0, CPU_NODE, "cpu-general"),
    ]  # fmt: skip
    events = [
        ClusterEvent("00000000-0000-4000-8000-000000000001", at(0.33), "default", "Node", CPU_NODE,
                     "OOMKilling", "Memory cgroup out of memory: Killed process 4242 (python)", "Warning"),
        ClusterEvent("00000000-0000-4000-8000-000000000002", at(1) + dt.timedelta(seconds=1), "ds-a",
                     "Pod", "train-b-ccccc", "FailedScheduling", UNSCHEDULABLE, "Warning"),
        ClusterEvent("00000000-0000-4000-8000-000000000003", at(1) + dt.timedelta(seconds=12), "ds-a",
                     "Pod", "train-b-ccccc", "TriggeredScaleUp",
                     "pod triggered scale-up: [{eks-gpu-a10 1->2 (max: 2)}]"),
        ClusterEvent("00000000-0000-4000-8000-000000000004", at(2), "default", "Node", GPU_2,
                     "RegisteredNode", f"Node {GPU_2} event: Registered Node {GPU_2} in Controller"),
        ClusterEvent("00000000-0000-4000-8000-000000000005", at(5), "default", "Node", GPU_2,
                     "RemovingNode", f"Node {GPU_2} event: Removing Node {GPU_2} from Controller"),
    ]  # fmt: skip
    cluster = Cluster(
        namespaces={"ds-a": "Research", "infra-x": "Infra"},
        node_groups=[
            NodeGroupChange(T0, "cpu-general", "m5.2xlarge", 1, 0),
            NodeGroupChange(T0, "gpu-a10", "g5.2xlarge", 1, 1),
            NodeGroupChange(at(2), "gpu-a10", "g5.2xlarge", 2, 1),
            NodeGroupChange(at(5), "gpu-a10", "g5.2xlarge", 1, 1),
        ],
        pods=pods,
        events=events,
    )
    return cluster_world(cluster, T0, CLOCK, at(24))


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(hand_world())


@pytest.fixture
def kube(state: SandboxState) -> Iterator[KubeSandbox]:
    with KubeSandbox(state) as running:
        yield running


@pytest.fixture
def api(kube: KubeSandbox, tmp_path: Path) -> Iterator[CoreV1Api]:
    """The client as the collector builds it: from a kubeconfig file and the `sandbox` context."""
    client = config.new_client_from_config(
        config_file=str(kube.kubeconfig(tmp_path / "kubeconfig")), context="sandbox"
    )
    yield CoreV1Api(client)
    client.close()


def pods_by_name(api: CoreV1Api) -> dict[str, object]:
    return {p.metadata.name: p for p in api.list_pod_for_all_namespaces().items}


def test_client_lists_every_namespace_of_the_world_and_the_system_ones(api: CoreV1Api) -> None:
    names = {ns.metadata.name for ns in api.list_namespace().items}
    assert names == {"ds-a", "infra-x", "default", "kube-system"}
    assert api.read_namespace("ds-a").status.phase == "Active"


def test_nodes_carry_their_group_instance_type_and_gpu_capacity(api: CoreV1Api) -> None:
    nodes = {n.metadata.name: n for n in api.list_node().items}
    assert set(nodes) == {CPU_NODE, GPU_1}  # gpu-node-2 joins at T0+2:00
    gpu, cpu = nodes[GPU_1], nodes[CPU_NODE]
    assert gpu.metadata.labels[GROUP_LABEL] == "gpu-a10" and POOL_LABEL not in gpu.metadata.labels
    assert gpu.metadata.labels["node.kubernetes.io/instance-type"] == "g5.2xlarge"
    assert gpu.status.capacity["nvidia.com/gpu"] == "1"
    assert gpu.status.allocatable["nvidia.com/gpu"] == "1"
    assert gpu.status.capacity["cpu"] == "8"
    # The CPU pool is Karpenter's: its nodes name a node pool instead of an EKS node group.
    assert (
        cpu.metadata.labels[POOL_LABEL] == "cpu-general" and GROUP_LABEL not in cpu.metadata.labels
    )
    assert "nvidia.com/gpu" not in cpu.status.capacity
    assert {c.type: c.status for c in gpu.status.conditions} == {"Ready": "True"}


def test_pods_show_requests_phase_node_and_start_time(api: CoreV1Api) -> None:
    pods = pods_by_name(api)
    assert set(pods) == {"etl-aaaaa", "train-a-bbbbb", "train-b-ccccc"}  # notebook comes at 2:30
    train = pods["train-a-bbbbb"]
    assert train.metadata.namespace == "ds-a" and train.status.phase == "Running"
    assert train.spec.node_name == GPU_1
    assert train.spec.containers[0].resources.requests == {
        "cpu": "4",
        "memory": "16Gi",
        "nvidia.com/gpu": "1",
    }
    assert train.status.start_time == at(0.51).replace(microsecond=0)
    assert train.metadata.creation_timestamp == at(0.5)
    etl = pods["etl-aaaaa"]
    assert etl.spec.containers[0].resources.requests == {"cpu": "500m", "memory": "1Gi"}
    assert etl.spec.node_name == CPU_NODE


def test_a_pending_pod_is_unschedulable_with_the_schedulers_message(api: CoreV1Api) -> None:
    pending = api.read_namespaced_pod("train-b-ccccc", "ds-a")
    assert pending.status.phase == "Pending" and pending.spec.node_name is None
    assert pending.status.start_time is None
    (scheduled,) = pending.status.conditions
    assert (scheduled.type, scheduled.status, scheduled.reason) == (
        "PodScheduled",
        "False",
        "Unschedulable",
    )
    assert scheduled.message == UNSCHEDULABLE


def test_events_of_the_last_hour_name_their_object(api: CoreV1Api) -> None:
    events = api.list_event_for_all_namespaces().items
    # The OOM kill at 0:20 is more than an hour before the clock (1:30): expired.
    assert sorted(e.reason for e in events) == ["FailedScheduling", "TriggeredScaleUp"]
    failed = next(e for e in events if e.reason == "FailedScheduling")
    pod = api.read_namespaced_pod("train-b-ccccc", "ds-a")
    obj = failed.involved_object
    assert (obj.kind, obj.namespace, obj.name, obj.uid) == (
        "Pod",
        "ds-a",
        pod.metadata.name,
        pod.metadata.uid,
    )
    assert failed.type == "Warning" and failed.message == UNSCHEDULABLE and failed.count == 1
    first = at(1) + dt.timedelta(seconds=1)
    assert failed.first_timestamp == failed.last_timestamp == first
    assert failed.event_time == first
    assert failed.source.component == "default-scheduler"
    assert [e.metadata.name for e in api.list_namespaced_event("ds-a").items] != []
    assert api.list_namespaced_event("infra-x").items == []


def test_advancing_the_clock_schedules_the_pending_pod_on_a_new_node(
    api: CoreV1Api, state: SandboxState
) -> None:
    state.advance(at(2) + dt.timedelta(minutes=10))
    train = api.read_namespaced_pod("train-b-ccccc", "ds-a")
    assert train.status.phase == "Running" and train.spec.node_name == GPU_2
    assert {c.type: c.status for c in train.status.conditions}["PodScheduled"] == "True"
    assert train.status.start_time == at(2.1).replace(microsecond=0)
    assert {n.metadata.name for n in api.list_node().items} == {CPU_NODE, GPU_1, GPU_2}
    # FailedScheduling (1:00:01) and TriggeredScaleUp (1:00:12) are now more than an hour old.
    reasons = [e.reason for e in api.list_event_for_all_namespaces().items]
    assert reasons == ["RegisteredNode"]


def test_a_finished_pod_is_listed_as_succeeded_until_its_ttl_then_goes(state: SandboxState) -> None:
    with (
        KubeSandbox(state, finished_ttl=dt.timedelta(hours=1)) as kube,
        ApiClient(kube.configuration()) as client,
    ):
        api = CoreV1Api(client)
        state.advance(at(3.5))  # train-a ended at 3:00
        pods = pods_by_name(api)
        assert set(pods) == {"etl-aaaaa", "train-a-bbbbb", "train-b-ccccc", "notebook-ddddd"}
        done = pods["train-a-bbbbb"]
        assert done.status.phase == "Succeeded"
        assert done.status.start_time == at(0.51).replace(microsecond=0)
        assert done.spec.node_name == GPU_1  # still bound: a finished pod keeps its node
        (container,) = done.status.container_statuses
        ended = container.state.terminated
        assert (ended.exit_code, ended.reason) == (0, "Completed")
        assert ended.finished_at == at(3) and ended.started_at <= ended.finished_at
        assert container.state.running is None and container.ready is False
        ready = {c.type: c for c in done.status.conditions}["Ready"]
        assert (ready.status, ready.reason, ready.last_transition_time) == (
            "False",
            "PodCompleted",
            at(3),
        )
        running = api.list_pod_for_all_namespaces(field_selector="status.phase=Running").items
        assert "train-a-bbbbb" not in {p.metadata.name for p in running}
        state.advance(at(4.5))  # an hour after its end the Job is cleaned up, and its pod
        assert set(pods_by_name(api)) == {"etl-aaaaa", "train-b-ccccc", "notebook-ddddd"}
        assert pods_by_name(api)["train-b-ccccc"].status.phase == "Succeeded"
        state.advance(at(5.5))
        assert set(pods_by_name(api)) == {"etl-aaaaa", "notebook-ddddd"}
        assert {n.metadata.name for n in api.list_node().items} == {CPU_NODE, GPU_1}
        assert [e.reason for e in api.list_event_for_all_namespaces().items] == ["RemovingNode"]


def ended_world() -> World:
    """Pods that all ended by T0+4:00, each its own way."""

    def pod(name: str, reason: str | None, scheduled: float | None, **more: object) -> Pod:
        made = Pod("ds-a", name, at(0), at(scheduled) if scheduled is not None else None,
                   at(3), 1.0, 1 << 30, 0, CPU_NODE if scheduled is not None else None,
                   "cpu-general" if scheduled is not None else None, reason)  # fmt: skip
        for key, value in more.items():
            setattr(made, key, value)
        return made

    pods = [
        pod("oom-aaaaa", "OOMKilled", 1),
        pod("evicted-bbbbb", "Evicted", 1),
        pod("error-ccccc", "Error", 1),
        pod("cancelled-ddddd", None, None),  # pending, then deleted: it never ran
        pod("web-5d8f7c9b6d-eeeee", None, 1, workload="Deployment"),
    ]
    pods[-1].created = at(0.5)
    evicted = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 60000Ki."
    events = [ClusterEvent("00000000-0000-4000-8000-0000000000e1", at(3), "ds-a", "Pod",
                           "evicted-bbbbb", "Evicted", evicted, "Warning")]  # fmt: skip
    cluster = Cluster(
        namespaces={"ds-a": "Research"},
        node_groups=[NodeGroupChange(T0, "cpu-general", "m5.2xlarge", 1, 0)],
        pods=pods,
        events=events,
    )
    return cluster_world(cluster, T0, at(4), at(24))


def test_failed_pods_say_how_they_ended_and_pods_that_never_ran_or_served_are_gone() -> None:
    state = SandboxState(ended_world())
    with KubeSandbox(state) as kube, ApiClient(kube.configuration()) as client:
        pods = pods_by_name(CoreV1Api(client))
    # A Deployment's pod is deleted by its ReplicaSet; one that never ran leaves nothing.
    assert set(pods) == {"oom-aaaaa", "evicted-bbbbb", "error-ccccc"}
    assert {name: p.status.phase for name, p in pods.items()} == dict.fromkeys(pods, "Failed")
    assert {p.spec.restart_policy for p in pods.values()} == {"Never"}
    oom = pods["oom-aaaaa"].status.container_statuses[0].state.terminated
    assert (oom.exit_code, oom.reason, oom.finished_at) == (137, "OOMKilled", at(3))
    error = pods["error-ccccc"].status.container_statuses[0].state.terminated
    assert (error.exit_code, error.reason, error.finished_at) == (1, "Error", at(3))
    # An evicted pod: the kubelet says why on the pod; its container's times are lost.
    evicted = pods["evicted-bbbbb"].status
    assert evicted.reason == "Evicted" and evicted.message.startswith("The node was low")
    gone = evicted.container_statuses[0].state.terminated
    assert (gone.exit_code, gone.reason, gone.started_at, gone.finished_at) == (
        137,
        "ContainerStatusUnknown",
        None,
        None,
    )
    conditions = {c.type: c for c in evicted.conditions}
    assert conditions["Ready"].status == "False"
    assert conditions["Ready"].last_transition_time == at(3)
    assert conditions["DisruptionTarget"].reason == "TerminationByKubelet"
    assert evicted.start_time == at(1)


def test_beyond_the_gc_threshold_the_oldest_finished_pods_are_gone() -> None:
    world = ended_world()
    for k, p in enumerate(world.cluster.pods):
        p.created = at(0.1 * k)
    state = SandboxState(world)
    with (
        KubeSandbox(state, gc_threshold=2) as kube,
        ApiClient(kube.configuration()) as client,
    ):
        names = set(pods_by_name(CoreV1Api(client)))
    assert names == {"evicted-bbbbb", "error-ccccc"}  # oom-aaaaa was created first


def test_requests_without_the_bearer_token_are_refused(kube: KubeSandbox) -> None:
    for token in (None, "not-the-token"):
        configuration = Configuration(host=kube.api_url)
        if token:
            configuration.api_key = {"BearerToken": f"Bearer {token}"}
        with ApiClient(configuration) as client, pytest.raises(ApiException) as refused:
            CoreV1Api(client).list_node()
        assert refused.value.status == 401


def test_kube_faults_answer_5xx_and_429_but_never_stop_the_clock(
    api: CoreV1Api, kube: KubeSandbox, state: SandboxState
) -> None:
    state.set_faults("kube", error_burst=2, error_status=503)
    state.advance(at(2.75))  # the sandbox's own writes are not refused
    for _ in range(2):
        with pytest.raises(ApiException) as refused:
            api.list_pod_for_all_namespaces()
        assert refused.value.status == 503
    assert len(api.list_pod_for_all_namespaces().items) == 4  # request 3
    state.set_faults("kube", rate_limit_every=2, retry_after_seconds=1)
    began = time.monotonic()
    # Request 4 is refused; urllib3 (under the client) honours Retry-After and sends request 5.
    assert len(api.list_node().items) == 3
    assert time.monotonic() - began >= 1
    configuration = kube.configuration()
    configuration.retries = False
    with ApiClient(configuration) as client, pytest.raises(ApiException) as limited:
        CoreV1Api(client).list_node()  # request 6
    assert limited.value.status == 429 and limited.value.headers["Retry-After"] == "1"
    assert state.requests["kube"] == 6 and state.requests["kube /api/v1/nodes"] == 3


def test_the_kubeconfig_loads_with_the_official_loader(kube: KubeSandbox, tmp_path: Path) -> None:
    path = kube.kubeconfig(tmp_path / "config")
    configuration = Configuration()
    config.load_kube_config(
        config_file=str(path), context="sandbox", client_configuration=configuration
    )
    assert configuration.host == kube.api_url
    with ApiClient(configuration) as client:
        assert len(CoreV1Api(client).list_namespace().items) == 4
    with ApiClient(kube.configuration()) as client:  # the same by URL and token
        assert len(CoreV1Api(client).list_node().items) == 2


def test_lists_page_with_limit_and_continue(api: CoreV1Api, state: SandboxState) -> None:
    state.advance(at(2.75))  # four pods live
    names, token, pages = [], None, 0
    while True:
        page = api.list_pod_for_all_namespaces(limit=3, _continue=token)
        names += [p.metadata.name for p in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 4 - len(names)
    assert pages == 2
    assert names == sorted(names, key=lambda n: (n.startswith("etl"), n)) and len(set(names)) == 4


def test_field_and_label_selectors_filter_lists(api: CoreV1Api) -> None:
    pending = api.list_pod_for_all_namespaces(field_selector="status.phase=Pending").items
    assert [p.metadata.name for p in pending] == ["train-b-ccccc"]
    on_gpu = api.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={GPU_1}").items
    assert [p.metadata.name for p in on_gpu] == ["train-a-bbbbb"]
    warnings = api.list_event_for_all_namespaces(
        field_selector="involvedObject.kind=Pod,type!=Normal"
    ).items
    assert [e.reason for e in warnings] == ["FailedScheduling"]
    karpenter = api.list_node(label_selector=POOL_LABEL).items
    assert [n.metadata.name for n in karpenter] == [CPU_NODE]
    groups = api.list_node(label_selector=f"{GROUP_LABEL} in (gpu-a10, gpu-h100)").items
    assert [n.metadata.name for n in groups] == [GPU_1]


def test_a_watch_replays_the_pods_and_ends_at_its_timeout(api: CoreV1Api) -> None:
    began = time.monotonic()
    seen = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(api.list_namespaced_pod, "ds-a", timeout_seconds=1)
    ]
    assert sorted(seen) == [("ADDED", "train-a-bbbbb"), ("ADDED", "train-b-ccccc")]
    assert 0.9 < time.monotonic() - began < 5


def test_a_watch_sees_the_changes_a_clock_advance_makes(
    api: CoreV1Api, state: SandboxState
) -> None:
    seen: list[tuple[str, str, str]] = []

    def follow() -> None:
        for e in watch.Watch().stream(api.list_namespaced_pod, "ds-a", timeout_seconds=1):
            seen.append((e["type"], e["object"].metadata.name, e["object"].status.phase))

    follower = threading.Thread(target=follow)
    follower.start()
    deadline = time.monotonic() + 0.8
    while len(seen) < 2 and time.monotonic() < deadline:  # the replay of what exists
        time.sleep(0.02)
    state.advance(
        at(3.25)
    )  # train-b scheduled at 2:06, notebook created at 2:30, train-a ended at 3:00
    follower.join(timeout=10)
    assert sorted(seen[:2]) == [
        ("ADDED", "train-a-bbbbb", "Running"),
        ("ADDED", "train-b-ccccc", "Pending"),
    ]
    assert sorted(seen[2:]) == [
        ("ADDED", "notebook-ddddd", "Running"),
        ("MODIFIED", "train-a-bbbbb", "Succeeded"),  # a finished Job's pod stays, for a while
        ("MODIFIED", "train-b-ccccc", "Running"),
    ]


def test_nodes_known_only_from_their_pods_join_when_their_group_grows() -> None:
    cluster = Cluster(
        node_groups=[
            NodeGroupChange(T0, "gpu-a10", "g5.2xlarge", 1, 1),
            NodeGroupChange(at(2), "gpu-a10", "g5.2xlarge", 2, 1),
            NodeGroupChange(at(4), "gpu-a10", "g5.2xlarge", 3, 1),
        ],
        pods=[
            Pod("ds-a", "late", at(3), at(3), None, 1.0, 1 << 30, 1, "gpu-late", "gpu-a10"),
            Pod("ds-a", "early", at(0.5), at(0.5), None, 1.0, 1 << 30, 1, "gpu-early", "gpu-a10"),
        ],
    )
    spans = {s.name: s for s in node_spans(cluster)}
    assert (spans["gpu-early"].start, spans["gpu-late"].start) == (T0, at(2))
    (stand_in,) = set(spans) - {"gpu-early", "gpu-late"}  # nobody names the third node
    assert spans[stand_in].start == at(4) and spans[stand_in].gpu == 1


# --- a generated world ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> World:
    return generate(1, "tiny", end=dt.date(2025, 6, 30))


def node_counts(world: World, t: dt.datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    for change in sorted(world.cluster.node_groups, key=lambda c: c.at):
        if change.at <= t:
            counts[change.node_group] = change.count
    return counts


def assert_api_shows_world(api: CoreV1Api, world: World, t: dt.datetime) -> None:
    cluster = world.cluster
    assert {ns.metadata.name for ns in api.list_namespace().items} >= set(cluster.namespaces)
    nodes = api.list_node().items
    groups = Counter(
        n.metadata.labels.get(GROUP_LABEL) or n.metadata.labels[POOL_LABEL] for n in nodes
    )
    assert groups == node_counts(world, t)
    expected = {
        (p.namespace, p.name): "Running" if p.scheduled and p.scheduled <= t else "Pending"
        for p in live_pods(cluster.pods, t)
    }
    # Batch pods that ran and ended within the Jobs' ttlSecondsAfterFinished stay listed.
    finished = {
        (p.namespace, p.name): "Succeeded" if p.termination_reason == "Completed" else "Failed"
        for p in cluster.pods
        if p.workload == "Job" and p.scheduled is not None and p.ended is not None
        and p.scheduled < p.ended <= t < p.ended + FINISHED_POD_TTL
    }  # fmt: skip
    assert finished and not finished.keys() & expected.keys()
    pods = api.list_pod_for_all_namespaces().items
    listed = {(p.metadata.namespace, p.metadata.name): p.status.phase for p in pods}
    assert listed == expected | finished
    live = [p for p in pods if p.status.phase in ("Running", "Pending")]
    gpu = sum(int(p.spec.containers[0].resources.requests.get("nvidia.com/gpu", 0)) for p in live)
    assert gpu == sum(p.gpu for p in live_pods(cluster.pods, t))
    recent = Counter((e.namespace, e.reason) for e in cluster.events if t - EVENT_TTL < e.at <= t)
    events = api.list_event_for_all_namespaces().items
    assert Counter((e.metadata.namespace, e.reason) for e in events) == recent


def test_a_generated_tiny_world_follows_the_clock(tiny: World) -> None:
    state = SandboxState(tiny)
    with KubeSandbox(state) as kube, ApiClient(kube.configuration()) as client:
        api = CoreV1Api(client)
        assert_api_shows_world(api, tiny, tiny.clock)
        # A moment with a GPU pod waiting and the scheduler's events still fresh.
        failed = next(
            e for e in tiny.cluster.events if e.reason == "FailedScheduling" and e.at > tiny.clock
        )
        moment = failed.at + dt.timedelta(seconds=30)
        state.advance(moment)
        assert_api_shows_world(api, tiny, moment)
        waiting = api.read_namespaced_pod(failed.name, failed.namespace)
        assert waiting.status.phase == "Pending"
        assert waiting.status.conditions[0].message == failed.message
        state.advance(moment + dt.timedelta(days=2))
        assert_api_shows_world(api, tiny, moment + dt.timedelta(days=2))
