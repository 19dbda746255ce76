"""How long the sandbox takes to answer, from a generated world (issue 3: `tiny` up in < 2 s).

Measured from the start call to the first good answer of each service, for the Jira and
GitHub HTTP server and for the Kubernetes API (kmock), each `--runs` times; generation
is timed apart (bench_generate measures it at every scale). A figure, not a test: a
busy machine slows it, so it lives here rather than in a timed unit test.
Run: `.venv/bin/python -m benchmarks sandbox_start` or `-m benchmarks.bench_sandbox_start`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import requests
from kubernetes.client import ApiClient, CoreV1Api

from sandbox.http import SandboxState
from sandbox.kube.api import KubeSandbox
from sandbox.server import Sandbox
from sandbox.world.generate import generate
from sandbox.world.model import World

END = dt.date(2025, 6, 30)
TARGET_SECONDS = 2.0


def http_start(world: World) -> float:
    began = time.perf_counter()
    with Sandbox(world) as running:
        answer = requests.get(
            f"{running.jira_url}/rest/api/2/serverInfo",
            auth=(world.bot_email, "jira-token"),
            timeout=10,
        )
        answer.raise_for_status()
        return time.perf_counter() - began


def kube_start(world: World) -> float:
    began = time.perf_counter()
    with KubeSandbox(SandboxState(world)) as kube, ApiClient(kube.configuration()) as client:
        CoreV1Api(client).list_namespace()
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    began = time.perf_counter()
    world = generate(args.seed, args.scale, END)
    print(f"generate {args.scale}: {time.perf_counter() - began:.2f} s (not counted below)")
    print(f"{'service':<22}{'median s':>10}{'max s':>10}  target")
    for name, start in (("Jira + GitHub (HTTP)", http_start), ("Kubernetes (kmock)", kube_start)):
        times = [start(world) for _ in range(args.runs)]
        verdict = "met" if max(times) < TARGET_SECONDS else "MISSED"
        print(
            f"{name:<22}{statistics.median(times):>10.2f}{max(times):>10.2f}"
            f"  < {TARGET_SECONDS:.0f} s {verdict}"
        )


if __name__ == "__main__":
    main()
