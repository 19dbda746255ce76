"""The sandbox's Prometheus: the world's cluster history as kube-state-metrics series in a real server.

`openmetrics` renders the cluster at whole hours as the series kube-state-metrics
exports (pod requests and phases, node labels and capacity, namespaces);
`PrometheusSandbox` backfills them with `promtool tsdb create-blocks-from openmetrics`
and runs Debian's `prometheus` on 127.0.0.1 over the result, so a collector's PromQL
meets a real query engine. Samples sit on whole hours (UTC): query at whole hours,
since the default 5-minute look-back finds nothing in between.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO

import requests

from sandbox.http import LOOPBACK
from sandbox.kube.objects import (
    KARPENTER_POOLS,
    NodeSpan,
    node_labels,
    node_resources,
    node_spans,
    object_uid,
)
from sandbox.world.model import Pod, World

HOUR = dt.timedelta(hours=1)
JOB = "kube-state-metrics"
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
NODE_LABELS = (  # the --metric-labels-allowlist=nodes=[...] a cluster would set
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/zone",
)
MAX_BLOCK_HOURS = 31 * 24  # the largest block the server itself would make
PACKAGE = "prometheus"  # Debian's package: /usr/bin/prometheus and /usr/bin/promtool

Labels = dict[str, str]


def hours(start: dt.datetime, end: dt.datetime) -> list[int]:
    """Unix seconds of the whole hours in [start, end]."""
    first = math.ceil(start.timestamp() / 3600) * 3600
    return list(range(first, int(end.timestamp()) + 1, 3600))


def _hour_range(grid: list[int], since: dt.datetime, until: dt.datetime | None) -> range:
    """Indexes of the grid's hours h with since <= h < until."""
    if not grid:
        return range(0)
    lo = max(0, math.ceil((since.timestamp() - grid[0]) / 3600))
    hi = len(grid) if until is None else math.ceil((until.timestamp() - grid[0]) / 3600)
    return range(lo, max(lo, min(hi, len(grid))))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _series(name: str, labels: Labels, samples: Iterable[tuple[int, float]]) -> Iterator[str]:
    text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if v)
    head = f"{name}{{{text}}} "
    for t, value in samples:
        yield f"{head}{_number(value)} {t}\n"


def _family(name: str, help_text: str) -> str:
    return f"# TYPE {name} gauge\n# HELP {name} {help_text}\n"


def _label_name(label: str) -> str:
    return "label_" + "".join(c if c.isalnum() else "_" for c in label)


class _PodLife:
    """A pod's hours in the window: when it pends and when it runs."""

    def __init__(self, pod: Pod, grid: list[int]) -> None:
        self.pod = pod
        until = pod.ended
        running_from = pod.scheduled if pod.scheduled is not None else until
        if running_from is None:
            self.pending = _hour_range(grid, pod.created, None)
            self.running = range(0)
        else:
            self.pending = _hour_range(grid, pod.created, max(running_from, pod.created))
            self.running = _hour_range(grid, max(running_from, pod.created), until)

    def __bool__(self) -> bool:
        return bool(self.pending) or bool(self.running)


def _pod_families(lives: list[_PodLife], grid: list[int]) -> Iterator[str]:
    yield _family(
        "kube_pod_container_resource_requests",
        "The number of requested request resource by a container.",
    )
    for life in lives:
        pod = life.pod
        base = {
            "job": JOB,
            "namespace": pod.namespace,
            "pod": pod.name,
            "uid": object_uid("pod", pod.namespace, pod.name),
            "container": "main",
        }
        requested = [("cpu", "core", pod.cpu), ("memory", "byte", float(pod.memory))]
        if pod.gpu:
            requested.append(("nvidia_com_gpu", "integer", float(pod.gpu)))
        for resource, unit, value in requested:
            for span, node in ((life.pending, ""), (life.running, pod.node or "")):
                labels = base | {"resource": resource, "unit": unit, "node": node}
                yield from _series(
                    "kube_pod_container_resource_requests",
                    labels,
                    ((grid[i], value) for i in span),
                )
    yield _family("kube_pod_status_phase", "The pods current phase.")
    for life in lives:
        pod = life.pod
        base = {
            "job": JOB,
            "namespace": pod.namespace,
            "pod": pod.name,
            "uid": object_uid("pod", pod.namespace, pod.name),
        }
        live = sorted([*life.pending, *life.running])
        running = set(life.running)
        for phase in PHASES:
            yield from _series(
                "kube_pod_status_phase",
                base | {"phase": phase},
                (
                    (
                        grid[i],
                        float(
                            (phase == "Running" and i in running)
                            or (phase == "Pending" and i not in running)
                        ),
                    )
                    for i in live
                ),
            )


def _node_families(
    spans: list[NodeSpan], grid: list[int], karpenter_pools: Collection[str]
) -> Iterator[str]:
    alive = [(s, _hour_range(grid, s.start, s.end)) for s in spans]
    alive = [(s, r) for s, r in alive if r]
    yield _family("kube_node_labels", "Kubernetes labels converted to Prometheus labels.")
    for span, r in alive:
        labels = node_labels(span, karpenter_pools)
        prom = {"job": JOB, "node": span.name} | {
            _label_name(k): labels[k] for k in NODE_LABELS if k in labels
        }
        yield from _series("kube_node_labels", prom, ((grid[i], 1.0) for i in r))
    units = {"cpu": "core", "memory": "byte", "pods": "integer", "nvidia.com/gpu": "integer"}
    for which, help_text in (
        ("capacity", "The total amount of resources available for a node."),
        ("allocatable", "The amount of resources allocatable for pods."),
    ):
        name = f"kube_node_status_{which}"
        yield _family(name, help_text)
        for span, r in alive:
            quantities = node_resources(span)[0 if which == "capacity" else 1]
            for resource, unit in units.items():
                if resource not in quantities:
                    continue
                value = _parse_quantity(quantities[resource])
                labels = {
                    "job": JOB,
                    "node": span.name,
                    "resource": resource.replace(".", "_").replace("/", "_"),
                    "unit": unit,
                }
                yield from _series(name, labels, ((grid[i], value) for i in r))


def _parse_quantity(text: str) -> float:
    for suffix, factor in (("Ki", 1024), ("Mi", 1 << 20), ("Gi", 1 << 30), ("m", 0.001)):
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)


def openmetrics_lines(
    world: World,
    start: dt.datetime,
    end: dt.datetime,
    *,
    karpenter_pools: Collection[str] = KARPENTER_POOLS,
) -> Iterator[str]:
    """The cluster between `start` and `end` as hourly kube-state-metrics samples, line by line.

    Per pod, as kube-state-metrics exports them: a tiny or small world's month is some
    10^5 samples, which promtool backfills in seconds.
    """
    grid = hours(start, end)
    cluster = world.cluster
    lives = [life for p in cluster.pods if (life := _PodLife(p, grid))]
    lives.sort(key=lambda life: (life.pod.namespace, life.pod.name))
    yield from _pod_families(lives, grid)
    spans = sorted(node_spans(cluster), key=lambda s: s.name)
    yield from _node_families(spans, grid, karpenter_pools)
    yield _family("kube_namespace_status_phase", "kubernetes namespace status phase.")
    for ns in sorted({"default", "kube-system", *cluster.namespaces}):
        r = _hour_range(grid, world.start, None)
        labels = {"job": JOB, "namespace": ns, "phase": "Active"}
        yield from _series("kube_namespace_status_phase", labels, ((grid[i], 1.0) for i in r))
    yield "# EOF\n"


def openmetrics(
    world: World,
    start: dt.datetime,
    end: dt.datetime,
    *,
    karpenter_pools: Collection[str] = KARPENTER_POOLS,
) -> str:
    return "".join(openmetrics_lines(world, start, end, karpenter_pools=karpenter_pools))


def write_openmetrics(
    out: IO[str],
    world: World,
    start: dt.datetime,
    end: dt.datetime,
    *,
    karpenter_pools: Collection[str] = KARPENTER_POOLS,
) -> int:
    """Stream the OpenMetrics text to `out`; returns the number of samples written."""
    samples = 0
    for line in openmetrics_lines(world, start, end, karpenter_pools=karpenter_pools):
        samples += not line.startswith("#")
        out.write(line)
    return samples


def missing_binaries(path: str | None = None) -> list[str]:
    """The Prometheus programs not found on `path` (default: $PATH), as `shutil.which` looks.

    Debian's `prometheus` package installs both. To see teamtide without them, run with a
    PATH that leaves out the directory holding them.
    """
    return [name for name in ("prometheus", "promtool") if shutil.which(name, path=path) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class PrometheusSandbox:
    """A private Prometheus over the world's backfilled kube-state-metrics history.

    By default the last `days` days before the world's clock. Use as a context manager;
    `timings` tells how long writing, backfilling and starting took.
    """

    def __init__(
        self,
        world: World,
        *,
        days: float = 30,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        karpenter_pools: Collection[str] = KARPENTER_POOLS,
    ) -> None:
        self.world = world
        self.end = end or world.clock
        self.start_at = max(start or self.end - dt.timedelta(days=days), world.start)
        self.karpenter_pools = karpenter_pools
        self.port = 0
        self.url = ""
        self.samples = 0
        self.timings: dict[str, float] = {}
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> PrometheusSandbox:
        missing = missing_binaries()
        if missing:
            raise RuntimeError(
                f"{' and '.join(missing)} not found: install Debian's {PACKAGE!r} package "
                "(apt-get install -y prometheus)"
            )
        self.directory = Path(tempfile.mkdtemp(prefix="teamtide-prometheus-"))
        try:
            self._backfill(self.directory)
            self._serve(self.directory)
        except BaseException:
            self.stop()
            raise
        return self

    def _backfill(self, directory: Path) -> None:
        source, data = directory / "kube-state-metrics.om", directory / "data"
        began = time.monotonic()
        with source.open("w") as out:
            self.samples = write_openmetrics(
                out, self.world, self.start_at, self.end, karpenter_pools=self.karpenter_pools
            )
        self.timings["write"] = time.monotonic() - began
        began = time.monotonic()
        # promtool writes 2-hour blocks unless told otherwise, and each block costs some
        # 0.1 s of fsyncs: a month would take a minute. Its (2.42: undocumented but present)
        # --max-block-duration lets it write the month in a block or two.
        span_hours = math.ceil((self.end - self.start_at) / HOUR) + 2
        done = subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                f"--max-block-duration={min(span_hours, MAX_BLOCK_HOURS)}h",
                "--quiet",
                source,
                data,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"promtool could not backfill {source}: {done.stderr[-2000:]}")
        self.timings["backfill"] = time.monotonic() - began
        source.unlink()

    def _serve(self, directory: Path) -> None:
        config = directory / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        # Retention counts back from now; the data is the world's past, however old.
        age = dt.datetime.now(dt.UTC) - self.start_at
        retention_days = max(age.days, 0) + 365
        self.port = _free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._log = (directory / "prometheus.log").open("wb")
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--storage.tsdb.retention.time={retention_days}d",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                "--log.level=warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited at start: {self._log_tail()}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus was not ready within 60 s: {self._log_tail()}")
            time.sleep(0.05)
        self.timings["ready"] = time.monotonic() - began

    def _log_tail(self) -> str:
        if self.directory is None:
            return ""
        path = self.directory / "prometheus.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> PrometheusSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
