"""The data scientists' EKS cluster: namespaces, two node groups, pods and the events they cause.

GPU training pods arrive with the demand cycle; a small autoscaler simulation adds
a GPU node when a pod waits (TriggeredScaleUp, RegisteredNode) up to the group's
maximum, so pods pend (FailedScheduling) when demand outruns capacity, and removes
nodes that stay idle (RemovingNode). Beside these batch pods, each namespace runs its
long-lived services (`SERVICES`: monitoring, schedulers, notebook hubs, model serving):
one pod each, deployed at the world's start or on a working day since, never ended.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import math
import zlib
from collections import deque

import numpy as np

from sandbox.world.context import Context
from sandbox.world.draws import Draws
from sandbox.world.model import Cluster, ClusterEvent, NodeGroupChange, Pod
from sandbox.world.vocabulary import MODELS, POD_ALPHABET
from sandbox.world.workdays import DAY, HOUR, WORK_LEN, at

# Long-lived services per namespace: (Deployment, cores requested, GiB requested). A
# namespace not listed runs the service of its kind (`KIND_SERVICES`) with even odds.
SERVICES: dict[str, tuple[tuple[str, float, int], ...]] = {
    "infra-monitoring": (("prometheus-server", 2.0, 8), ("grafana", 0.5, 1)),
    "infra-logging": (("loki", 1.0, 4),),
    "infra-ingress": (("ingress-nginx-controller", 0.5, 1),),
    "infra-autoscaler": (("cluster-autoscaler", 0.25, 1),),
    "infra-secrets": (("external-secrets", 0.25, 1),),
    "platform-tools": (("jupyterhub-hub", 0.5, 2), ("mlflow-server", 1.0, 4)),
    "platform-airflow": (("airflow-scheduler", 1.0, 4),),
    "platform-mlflow": (("mlflow-tracking", 0.5, 2),),
    "platform-argo": (("argo-workflows-server", 0.5, 1),),
    "platform-jupyterhub": (("jupyterhub-proxy", 0.25, 1),),
    "scratch": (),
}
KIND_SERVICES = {"ds-": ("model-serving", 2.0, 8), "infra-": ("exporter", 0.25, 1)}


STREAM = zlib.crc32(b"cluster")


def build_cluster(ctx: Context) -> Cluster:
    """The cluster, drawn from its own stream: a change to how people, items or pulls are
    drawn does not move a pod (the demand cycle it follows is the run's)."""
    own = dataclasses.replace(ctx, d=Draws(np.random.default_rng([ctx.seed, STREAM])))
    return _ClusterBuilder(own).build()


class _ClusterBuilder:
    """One run's cluster, built event by event; `build` returns it whole."""

    def __init__(self, ctx: Context) -> None:
        self.ctx, self.d, self.cal = ctx, ctx.d, ctx.cal
        self.events: list[tuple[int, str, str, str, str, str, str]] = []
        self.nodes = 0

    def namespaces(self) -> dict[str, str]:
        n = self.ctx.scale.namespaces
        base = {
            "ds-vision": "Research",
            "ds-nlp": "Research",
            "ds-forecasting": "Research",
            "infra-monitoring": "Infra",
            "platform-tools": "Enablement",
            "scratch": "",
        }
        extra_infra = ("infra-logging", "infra-ingress", "infra-autoscaler", "infra-secrets")
        extra_platform = (
            "platform-airflow",
            "platform-mlflow",
            "platform-argo",
            "platform-jupyterhub",
        )
        extra_ds = ("ds-recsys", "ds-churn", "ds-pricing", "ds-fraud", "ds-search", "ds-speech")
        candidates = [
            name
            for trio in zip(extra_infra, extra_ds, extra_platform, strict=False)
            for name in trio
        ]
        candidates += extra_ds[len(extra_infra) :] + tuple(
            f"ds-project-{k:02d}" for k in range(1, n)
        )
        out = dict(base)
        for name in candidates[: max(n - len(base), 0)]:
            out[name] = (
                "Infra"
                if name.startswith("infra-")
                else "Enablement"
                if name.startswith("platform-")
                else "Research"
            )
        return out

    def node_name(self) -> str:
        self.nodes += 1
        k = self.nodes * 7919 + self.ctx.seed % 1000
        return f"ip-10-0-{k // 250 % 250 + 1}-{k % 250 + 1}.eu-west-1.compute.internal"

    def build(self) -> Cluster:
        ctx, d = self.ctx, self.d
        namespaces = self.namespaces()
        names = list(namespaces)
        ds = [ns for ns in names if ns.startswith("ds-")]
        start = ctx.cal.day_start[0]
        changes: list[NodeGroupChange] = []
        cpu_nodes = [(self.node_name(), start) for _ in range(2 + len(names) // 8)]
        changes.append(NodeGroupChange(at(start), "cpu-general", "m5.2xlarge", len(cpu_nodes), 0))
        for w in range(4, ctx.weeks, 4):
            t = ctx.cal.day_start[7 * w] + 10 * HOUR
            if t < ctx.end_s and d.chance(0.3):
                node = self.node_name()
                cpu_nodes.append((node, t))
                changes.append(
                    NodeGroupChange(at(t), "cpu-general", "m5.2xlarge", len(cpu_nodes), 0)
                )
                self.event(
                    t,
                    "default",
                    "Node",
                    node,
                    "RegisteredNode",
                    f"Node {node} event: Registered Node {node} in Controller",
                )
        self.cpu_times = [t for _, t in cpu_nodes]
        self.cpu_names = [n for n, _ in cpu_nodes]
        pods = self.gpu_pods(ds, changes) + self.cpu_pods(names, namespaces)
        changes.sort(key=lambda c: (c.at, c.node_group))
        self.events.sort()
        uids = self.ctx.rng.integers(0, 1 << 62, size=(len(self.events), 2)).tolist()
        # Drawn last, so that every draw before them (and the world they made) stays as it was.
        pods += self.services(names)
        pods.sort(key=lambda p: (p.created, p.namespace, p.name))
        events = [
            ClusterEvent(
                uid=_uuid(hi, lo),
                at=at(t),
                namespace=ns,
                kind=kind,
                name=name,
                reason=reason,
                message=msg,
                type=typ,
            )
            for (t, ns, kind, name, reason, msg, typ), (hi, lo) in zip(
                self.events, uids, strict=True
            )
        ]
        return Cluster(namespaces=namespaces, node_groups=changes, pods=pods, events=events)

    def event(
        self, t: int, ns: str, kind: str, name: str, reason: str, msg: str, typ: str = "Normal"
    ) -> None:
        self.events.append((t, ns, kind, name, reason, msg, typ))

    def cpu_count(self, t: int) -> int:
        return bisect.bisect_right(self.cpu_times, t)

    def arrivals(self, namespaces: list[str], rate: float, seasonal: bool) -> list[tuple[int, int]]:
        ctx, cal = self.ctx, self.cal
        weeks = np.arange(ctx.weeks)
        lam = rate * (ctx.demand if seasonal else np.ones(ctx.weeks))
        counts = ctx.rng.poisson(np.tile(lam, len(namespaces)))
        ns_index = np.repeat(np.repeat(np.arange(len(namespaces)), ctx.weeks), counts)
        week = np.repeat(np.tile(weeks, len(namespaces)), counts)
        pos = ctx.rng.random(len(week))
        work0 = np.array([cal.wd_ord[7 * w] for w in range(ctx.weeks)]) * WORK_LEN
        w = work0[week] + pos * 5 * WORK_LEN
        out = []
        for wt, ns in zip(w.tolist(), ns_index.tolist(), strict=True):
            t = cal.from_work(wt)
            if t < ctx.end_s:
                out.append((t, ns))
        out.sort()
        return out

    def gpu_pods(self, ds: list[str], changes: list[NodeGroupChange]) -> list[Pod]:
        ctx, d = self.ctx, self.d
        arrivals = self.arrivals(ds, ctx.scale.gpu_pods_per_ns_week, seasonal=True)
        concurrency = len(ds) * ctx.scale.gpu_pods_per_ns_week * 6 / 168
        max_nodes = max(2, math.ceil(1.3 * concurrency))
        group = f"eks-gpu-a10-{ctx.first_day:%Y%m%d}"
        start = ctx.cal.day_start[0]
        free: dict[str, int] = {}
        for _ in range(1):
            free[self.node_name()] = start
        nodes, booting = 1, 0
        changes.append(NodeGroupChange(at(start), "gpu-a10", "g5.2xlarge", nodes, 1))
        heap: list[tuple[int, int, str]] = []  # (time, kind 0 done / 1 ready / 2 idle check, node)
        pending: deque[int] = deque()
        pods: list[Pod] = []
        meta: list[tuple[int, bool]] = []  # duration, killed by OOM
        for t, ns in arrivals:
            name = f"train-{d.pick(MODELS)}-{_pod_suffix(len(pods) + 1)}"
            pods.append(
                Pod(
                    ds[ns],
                    name,
                    at(t),
                    None,
                    None,
                    float(4 + d.below(4)),
                    (16 + 4 * d.below(4)) << 30,
                    1,
                )
            )
            meta.append((int(d.lognormal(4 * HOUR, 0.9)), d.chance(0.04)))

        def schedule(now: int) -> None:
            while free and pending:
                i = pending.popleft()
                node, _ = free.popitem()
                pod = pods[i]
                begin = now + 2 + d.below(20)
                pod.scheduled, pod.node, pod.node_group = at(begin), node, "gpu-a10"
                duration, oom = meta[i]
                if oom:
                    duration = int(duration * (0.1 + 0.5 * d.u()))
                finish = begin + duration
                if finish < ctx.end_s:
                    heapq.heappush(heap, (finish, 0, node))
                    pod.ended = at(finish)
                    pod.termination_reason = "OOMKilled" if oom else "Completed"
                    if oom:
                        self.event(
                            finish,
                            "default",
                            "Node",
                            node,
                            "OOMKilling",
                            f"Memory cgroup out of memory: Killed process {1000 + d.below(60000)} (python) "
                            f"total-vm:{30_000_000 + d.below(9_000_000)}kB, anon-rss:{28_000_000 + d.below(4_000_000)}kB, "
                            "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:61000kB oom_score_adj:999",
                            "Warning",
                        )
                else:
                    heapq.heappush(heap, (ctx.end_s + 1, 0, node))

        k = 0
        while k < len(arrivals) or heap:
            ta = arrivals[k][0] if k < len(arrivals) else None
            if heap and (ta is None or heap[0][0] <= ta):
                t, kind, node = heapq.heappop(heap)
                if t >= ctx.end_s:
                    break
                if kind == 0:
                    free[node] = t
                    schedule(t)
                    if node in free and nodes > 1:
                        heapq.heappush(heap, (t + 600, 2, node))
                elif kind == 1:
                    nodes, booting = nodes + 1, booting - 1
                    free[node] = t
                    changes.append(NodeGroupChange(at(t), "gpu-a10", "g5.2xlarge", nodes, 1))
                    self.event(
                        t,
                        "default",
                        "Node",
                        node,
                        "RegisteredNode",
                        f"Node {node} event: Registered Node {node} in Controller",
                    )
                    schedule(t)
                elif node in free and free[node] <= t - 600 and not pending and nodes > 1:
                    del free[node]
                    nodes -= 1
                    changes.append(NodeGroupChange(at(t), "gpu-a10", "g5.2xlarge", nodes, 1))
                    self.event(
                        t,
                        "default",
                        "Node",
                        node,
                        "RemovingNode",
                        f"Node {node} event: Removing Node {node} from Controller",
                    )
                continue
            assert ta is not None
            pending.append(k)
            pod = pods[k]
            k += 1
            if free and len(pending) == 1:
                schedule(ta)
                continue
            total = self.cpu_count(ta) + nodes
            self.event(
                ta + 1,
                pod.namespace,
                "Pod",
                pod.name,
                "FailedScheduling",
                f"0/{total} nodes are available: {total} Insufficient nvidia.com/gpu. preemption: 0/{total} nodes "
                f"are available: {total} No preemption victims found for incoming pod.",
                "Warning",
            )
            if nodes + booting < max_nodes:
                booting += 1
                self.event(
                    ta + 12,
                    pod.namespace,
                    "Pod",
                    pod.name,
                    "TriggeredScaleUp",
                    f"pod triggered scale-up: [{{{group} {nodes + booting - 1}->{nodes + booting} (max: {max_nodes})}}]",
                )
                heapq.heappush(heap, (ta + 180 + d.below(120), 1, self.node_name()))
        return pods

    def cpu_pods(self, names: list[str], namespaces: dict[str, str]) -> list[Pod]:
        ctx, d = self.ctx, self.d
        pods: list[Pod] = []
        arrivals = self.arrivals(names, ctx.scale.cpu_pods_per_ns_week, seasonal=False)
        for t, ns_index in arrivals:
            ns = names[ns_index]
            infra = ns.startswith(("infra-", "platform-"))
            prefix = (
                d.pick(("prometheus", "grafana", "airflow-worker", "argo-server"))
                if infra
                else d.pick(("job", "notebook", "etl"))
            )
            pod = Pod(
                ns,
                f"{prefix}-{_pod_suffix(10_000_000 + len(pods))}",
                at(t),
                None,
                None,
                0.5 * (1 + d.below(6)),
                (1 + d.below(12)) << 30,
                0,
            )
            begin = t + 2 + d.below(15)
            node = self.cpu_names[d.below(max(self.cpu_count(begin), 1))]
            pod.scheduled, pod.node, pod.node_group = at(begin), node, "cpu-general"
            finish = begin + int(d.lognormal((48 if infra else 1.5) * HOUR, 1.0))
            u = d.u()
            if finish < ctx.end_s:
                pod.ended = at(finish)
                if u < 0.03:
                    pod.termination_reason = "OOMKilled"
                    self.event(
                        finish,
                        "default",
                        "Node",
                        node,
                        "OOMKilling",
                        f"Memory cgroup out of memory: Killed process {1000 + d.below(60000)} (python) "
                        "total-vm:9000000kB, anon-rss:8100000kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
                        "pgtables:17000kB oom_score_adj:999",
                        "Warning",
                    )
                elif u < 0.045:
                    pod.termination_reason = "Evicted"
                    used = (pod.memory >> 10) + 524288 + d.below(4_000_000)
                    self.event(
                        finish,
                        ns,
                        "Pod",
                        pod.name,
                        "Evicted",
                        f"The node was low on resource: memory. Threshold quantity: 100Mi, available: "
                        f"{50000 + d.below(50000)}Ki. Container main was using {used}Ki, request is "
                        f"{pod.memory >> 30}Gi, has larger consumption of its request. ",
                        "Warning",
                    )
                elif u < 0.06:
                    pod.termination_reason = "Error"
                else:
                    pod.termination_reason = "Completed"
            pods.append(pod)
        return pods

    def services(self, names: list[str]) -> list[Pod]:
        """One pod per long-lived service, running from its deployment on, never ending.

        Half are deployed when the world starts, the others at a moment of a working day
        before the clock: at the clock their start times go back days to months.
        """
        ctx, d, cal = self.ctx, self.d, self.cal
        history = (ctx.clock_s - cal.day_start[0]) // (7 * DAY)  # whole weeks before the clock
        pods: list[Pod] = []
        for ns in names:
            if ns in SERVICES:
                wanted = SERVICES[ns]
            else:
                kind = next((k for k in KIND_SERVICES if ns.startswith(k)), None)
                wanted = (KIND_SERVICES[kind],) if kind and d.chance(0.5) else ()
            for deployment, cores, gib in wanted:
                if d.chance(0.5):
                    t = cal.day_start[0] + 600 + d.below(3000)
                else:
                    t = cal.from_work(d.u() * history * 5 * WORK_LEN)
                begin = t + 2 + d.below(10)
                template = "".join(d.pick(POD_ALPHABET) for _ in range(10))
                name = f"{deployment}-{template}-{_pod_suffix(20_000_000 + len(pods))}"
                pod = Pod(ns, name, at(t), at(begin), None, cores, gib << 30, 0)
                pod.workload = "Deployment"
                pod.node = self.cpu_names[d.below(max(self.cpu_count(begin), 1))]
                pod.node_group = "cpu-general"
                pods.append(pod)
        return pods


def _pod_suffix(n: int) -> str:
    k = n * 2654435761 % (27**5)
    out = []
    for _ in range(5):
        k, r = divmod(k, 27)
        out.append(POD_ALPHABET[r])
    return "".join(out)


def _uuid(hi: int, lo: int) -> str:
    h = f"{hi:016x}{lo:016x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:32]}"
