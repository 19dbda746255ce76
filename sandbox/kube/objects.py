"""The world's cluster as Kubernetes objects at one moment: node spans, listed pods, labels, quantities, uids."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sandbox.world.model import Cluster, Pod

# The CPU pool is provisioned by Karpenter (its nodes carry karpenter.sh/nodepool and no EKS
# node-group label); the GPU group is an EKS managed node group scaled by cluster-autoscaler.
KARPENTER_POOLS = frozenset({"cpu-general"})
EVENT_TTL = dt.timedelta(hours=1)  # the API server's default --event-ttl
# A batch pod that ran and finished stays listed (Succeeded or Failed) until its Job is
# cleaned up: the cluster's policy sets the Job's `ttlSecondsAfterFinished` to 14 days.
FINISHED_POD_TTL = dt.timedelta(days=14)
# kube-controller-manager's --terminated-pod-gc-threshold (default): beyond this many
# finished pods, the pod garbage collector deletes them, the oldest created first.
TERMINATED_POD_GC_THRESHOLD = 12_500
FAILED_REASONS = frozenset({"OOMKilled", "Error", "Evicted"})
REGION = "eu-west-1"
CONTAINER = "main"


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


def ran(pod: Pod) -> bool:
    """The pod was bound to a node and ran before it ended (or still runs)."""
    return pod.scheduled is not None and (pod.ended is None or pod.scheduled < pod.ended)


def phase_at(pod: Pod, t: dt.datetime, ttl: dt.timedelta = FINISHED_POD_TTL) -> str | None:
    """The phase the API shows for `pod` at `t`, or None when the API does not list it.

    A batch pod that finished is Succeeded (or Failed: killed for memory, evicted, an
    error) until `ttl` after its end; a service's pod (its ReplicaSet deletes it) and a
    pod that never ran are gone at their end.
    """
    if t < pod.created:
        return None
    if pod.ended is None or t < pod.ended:
        return "Running" if is_running(pod, t) else "Pending"
    if pod.workload != "Job" or not ran(pod) or t >= pod.ended + ttl:
        return None
    return "Failed" if pod.termination_reason in FAILED_REASONS else "Succeeded"


def listed_pods(
    pods: Iterable[Pod],
    t: dt.datetime,
    *,
    ttl: dt.timedelta = FINISHED_POD_TTL,
    gc_threshold: int = TERMINATED_POD_GC_THRESHOLD,
) -> list[tuple[Pod, str]]:
    """(pod, phase) of every pod the API lists at `t`: the live ones and the retained finished.

    Beyond `gc_threshold` finished pods, the oldest created are gone (the pod garbage
    collector's rule).
    """
    shown = [(p, phase) for p in pods if (phase := phase_at(p, t, ttl)) is not None]
    finished = [(p, phase) for p, phase in shown if phase in ("Succeeded", "Failed")]
    if len(finished) <= gc_threshold:
        return shown
    finished.sort(key=lambda item: (item[0].created, item[0].namespace, item[0].name))
    collected = {id(p) for p, _ in finished[: len(finished) - gc_threshold]}
    return [(p, phase) for p, phase in shown if id(p) not in collected]


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
