"""The sandbox's Kubernetes API (`KubeSandbox`): the emulator, kept at the sandbox clock through the official client."""

from __future__ import annotations

import bisect
import datetime as dt
import secrets
import uuid
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import Any

import kmock
import yaml
from kubernetes import client as k8s

from sandbox.http import LOOPBACK, SandboxState
from sandbox.kube.emulator import FILLER_HEADER, RESOURCES, VERBS, Emulator, EmulatorThread
from sandbox.kube.objects import (
    CONTAINER,
    EVENT_TTL,
    FAILED_REASONS,
    FINISHED_POD_TTL,
    KARPENTER_POOLS,
    REGION,
    TERMINATED_POD_GC_THRESHOLD,
    NodeSpan,
    k8s_micro_time,
    k8s_time,
    listed_pods,
    node_labels,
    node_resources,
    node_spans,
    object_uid,
    quantity_cpu,
    quantity_memory,
)
from sandbox.world.model import ClusterEvent, Pod, World


class KubeSandbox:
    """The world's cluster behind a real Kubernetes client, following the sandbox clock.

    Use as a context manager. It listens to `state`'s clock, so `SandboxState.advance`
    brings the emulator up to date before it returns; `sync_to` does it by hand. Faults set
    for service "kube" (`state.set_faults("kube", ...)`) hit every client but its own writes,
    and `state.requests` counts the requests under "kube".

    Pods are listed as a real API server lists them (`objects.listed_pods`): pending and
    running ones, and batch pods that finished, as Succeeded or Failed with their
    containers' start and finish times, until `finished_ttl` after their end (a Job's
    `ttlSecondsAfterFinished`) or until `gc_threshold` finished pods push them out.
    """

    def __init__(
        self,
        state: SandboxState,
        *,
        require_token: bool = True,
        karpenter_pools: Collection[str] = KARPENTER_POOLS,
        finished_ttl: dt.timedelta = FINISHED_POD_TTL,
        gc_threshold: int = TERMINATED_POD_GC_THRESHOLD,
    ) -> None:
        self.state = state
        self.finished_ttl, self.gc_threshold = finished_ttl, gc_threshold
        self.token = state.tokens["kube"]
        self.karpenter_pools = frozenset(karpenter_pools)
        self.emulator = Emulator(
            token=self.token if require_token else None,
            state=state,
            filler_key=secrets.token_hex(16),
        )
        for key, (kind, namespaced) in RESOURCES.items():
            self.emulator.resources[key] = kmock.ResourceInfo(
                kind=kind, namespaced=namespaced, singular=kind.lower(), verbs=VERBS
            )
        self.server = EmulatorThread(self.emulator)
        self.api_url = f"http://{LOOPBACK}:{self.server.port}"
        self._api: k8s.CoreV1Api | None = None
        self._prepare(state.world)
        self._namespaces: set[str] = set()
        self._nodes: set[str] = set()
        self._pods: dict[tuple[str, str], str] = {}  # -> the phase it is shown in
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
        self._evicted: dict[tuple[str, str], ClusterEvent] = {}
        for e in self.events:
            if e.kind == "Pod" and e.reason == "FailedScheduling":
                self._unschedulable[e.namespace, e.name].append(e)
            elif e.kind == "Pod" and e.reason == "Evicted":
                self._evicted[e.namespace, e.name] = e

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
        listed = {
            (p.namespace, p.name): (p, phase)
            for p, phase in listed_pods(
                self.pods[: bisect.bisect_right(self._created, clock)],
                clock,
                ttl=self.finished_ttl,
                gc_threshold=self.gc_threshold,
            )
        }
        for key in sorted(self._pods.keys() - listed.keys()):
            api.delete_namespaced_pod(key[1], key[0], grace_period_seconds=0)
            del self._pods[key]
        for key, (pod, phase) in listed.items():
            if key not in self._pods:
                api.create_namespaced_pod(pod.namespace, self._pod_body(pod, phase, clock))
            elif phase != self._pods[key]:
                body = self._pod_body(pod, phase, clock)
                patch = {
                    "metadata": {"resourceVersion": self._revision()},
                    "spec": body["spec"],
                    "status": body["status"],
                }
                api.patch_namespaced_pod_status(pod.name, pod.namespace, patch)
            self._pods[key] = phase

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

    def _pod_body(self, pod: Pod, phase: str, clock: dt.datetime) -> dict[str, Any]:
        """The pod as the API shows it at `clock`, in `phase` (Pending, Running, Succeeded, Failed)."""
        requests = {"cpu": quantity_cpu(pod.cpu), "memory": quantity_memory(pod.memory)}
        limits: dict[str, str] = {"memory": quantity_memory(pod.memory)}
        if pod.gpu:
            requests["nvidia.com/gpu"] = limits["nvidia.com/gpu"] = str(pod.gpu)
        app = pod.name.rsplit("-", 1)[0]
        if pod.workload == "Deployment":
            restart = "Always"
        elif pod.gpu or pod.termination_reason in FAILED_REASONS:
            restart = "Never"  # a failure ends the pod rather than restarting its container
        else:
            restart = "OnFailure"
        spec: dict[str, Any] = {
            "containers": [
                {
                    "name": CONTAINER,
                    "image": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{app}:latest",
                    "resources": {"requests": requests, "limits": limits},
                }
            ],
            "restartPolicy": restart,
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
            "priority": 0,
        }
        if pod.gpu:
            spec["tolerations"] = [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ]
        if phase == "Pending":
            status = self._pending_status(pod, clock)
        else:
            assert pod.scheduled is not None
            spec["nodeName"] = pod.node
            status = self._bound_status(pod, phase, spec["containers"][0]["image"])
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

    def _pending_status(self, pod: Pod, clock: dt.datetime) -> dict[str, Any]:
        failures = [
            e for e in self._unschedulable.get((pod.namespace, pod.name), []) if e.at <= clock
        ]
        message = (
            failures[-1].message
            if failures
            else "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
        )
        return {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastTransitionTime": k8s_time(pod.created),
                    "lastProbeTime": None,
                }
            ],
            "qosClass": "Burstable",
        }

    def _bound_status(self, pod: Pod, phase: str, image: str) -> dict[str, Any]:
        """A running pod's status, or a finished one's: its containers' start and finish."""
        assert pod.scheduled is not None
        started = k8s_time(pod.scheduled)
        uid = uuid.UUID(self._pod_uid[pod.namespace, pod.name])
        host_ip = (pod.node or "").split(".")[0].removeprefix("ip-").replace("-", ".")
        container_id = f"containerd://{uid.hex}{uuid.uuid5(uid, CONTAINER).hex}"
        running_from = pod.scheduled + dt.timedelta(seconds=8)
        ready = k8s_time(running_from)
        status: dict[str, Any] = {
            "phase": phase,
            "hostIP": host_ip,
            "podIP": f"10.0.{uid.int % 250 + 1}.{uid.int // 250 % 250 + 1}",
            "startTime": started,
            "qosClass": "Burstable",
        }
        container: dict[str, Any] = {
            "name": CONTAINER,
            "restartCount": 0,
            "image": image,
            "imageID": "",
            "containerID": container_id,
        }
        if phase == "Running":
            status["conditions"] = [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
                {"type": "Initialized", "status": "True", "lastTransitionTime": started},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": ready},
                {"type": "Ready", "status": "True", "lastTransitionTime": ready},
            ]
            container |= {
                "ready": True,
                "started": True,
                "state": {"running": {"startedAt": ready}},
            }
            status["containerStatuses"] = [container]
            return status
        assert pod.ended is not None
        ended = k8s_time(pod.ended)
        why = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        status["conditions"] = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
            {"type": "Initialized", "status": "True", "lastTransitionTime": started},
            {
                "type": "ContainersReady",
                "status": "False",
                "reason": why,
                "lastTransitionTime": ended,
            },
            {"type": "Ready", "status": "False", "reason": why, "lastTransitionTime": ended},
        ]
        reason = pod.termination_reason or "Completed"
        if reason == "Evicted":
            # The kubelet tears an evicted pod down: the pod says why, and its container's
            # end is not recorded (the runtime no longer knows it), as on a real node.
            evicted = self._evicted.get((pod.namespace, pod.name))
            status["reason"] = "Evicted"
            status["message"] = (
                evicted.message if evicted else "The node was low on resource: memory. "
            )
            status["conditions"].append(
                {
                    "type": "DisruptionTarget",
                    "status": "True",
                    "reason": "TerminationByKubelet",
                    "message": status["message"],
                    "lastTransitionTime": ended,
                }
            )
            terminated: dict[str, Any] = {
                "exitCode": 137,
                "reason": "ContainerStatusUnknown",
                "message": "The container could not be located when the pod was terminated",
                "startedAt": None,
                "finishedAt": None,
            }
        else:
            terminated = {
                "exitCode": {"Completed": 0, "OOMKilled": 137}.get(reason, 1),
                "reason": reason,
                "startedAt": k8s_time(min(running_from, pod.ended)),
                "finishedAt": ended,
                "containerID": container_id,
            }
        container |= {"ready": False, "started": False, "state": {"terminated": terminated}}
        status["containerStatuses"] = [container]
        return status

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
