"""Run the benchmarks: `python -m benchmarks [names...] [--quick]` (`make bench`).

Each benchmark runs in its own child process (its peak memory is its own, and one that
fails does not stop the others) and prints its table as it goes; a summary follows with
each one's wall time, exit status and the load average before and after it, since other
work on the same cores slows every figure. `--quick` runs smaller scales, so that the
whole set takes a few minutes; the full run is what the targets are judged on.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bench:
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    about: str


BENCHES: dict[str, Bench] = {
    "generate": Bench(
        "bench_generate",
        ("--scales", "tiny", "small", "medium", "large"),
        ("--scales", "tiny", "small"),
        "sandbox generation time and memory (issue 3: large < 120 s, < 4 GB)",
    ),
    "sandbox_start": Bench(
        "bench_sandbox_start",
        (),
        ("--runs", "2"),
        "sandbox start-up to the first answer (issue 3: tiny up in < 2 s)",
    ),
    "sync_jira": Bench(
        "bench_sync_jira",
        ("--scale", "medium"),
        ("--scale", "small"),
        "Jira sync through the sandbox (issue 4: >= 500 issues/s, requests within 5%)",
    ),
    "sync_github": Bench(
        "bench_sync_github",
        ("--scales", "small", "medium", "large"),
        ("--scales", "tiny", "small"),
        "GitHub sync through the sandbox, REST against GraphQL (issues 4 and 14)",
    ),
    "discover": Bench(
        "bench_discover",
        ("--scale", "medium"),
        ("--scale", "small"),
        "teamtide discover: time, requests, identity precision and recall (issue 15)",
    ),
    "metrics_synthetic": Bench(
        "bench_metrics_synthetic",
        (),
        ("--items", "20000", "--people", "60", "--pulls", "12000"),
        "metrics engine on synthetic frames, no database",
    ),
    "metrics_db": Bench(
        "bench_metrics_db",
        ("--scales", "medium", "large"),
        ("--scales", "small", "--runs", "1"),
        "teamtide metrics from SQLite vs the raw reads (issue 6)",
    ),
    "rollup": Bench(
        "bench_rollup",
        ("--scales", "medium", "large"),
        ("--scales", "small", "--dbs", "sqlite"),
        "weekly rollups: full and incremental refresh, teamtide metrics from them, SQLite and "
        "PostgreSQL (issue 20: refresh < 10 s, metrics < 5 s and 1 GB on large)",
    ),
    "forecast": Bench(
        "bench_forecast",
        ("--scales", "medium", "large"),
        ("--scales", "small"),
        "load forecast and backtest per team, Planning page cold load (issue 18: < 3 s on medium)",
    ),
    "dashboard": Bench(
        "bench_dashboard",
        (),
        ("--scale", "tiny", "--runs", "1"),
        "dashboard render time per page, cold (empty caches) and warm",
    ),
    "whatif": Bench(
        "bench_whatif",
        ("--scales", "medium", "large"),
        ("--scales", "small", "--runs", "50"),
        "what-if: 12-week structure replay, 200 runs (issue 19: medium < 10 s); forecast < 1 s",
    ),
}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def command(bench: Bench, quick: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        f"benchmarks.{bench.module}",
        *(bench.quick if quick else bench.full),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"benchmarks to run (default: all): {', '.join(BENCHES)}",
    )
    parser.add_argument("--quick", action="store_true", help="smaller scales: a few minutes in all")
    parser.add_argument("--list", action="store_true", help="name the benchmarks and stop")
    args = parser.parse_args(argv)
    if args.list:
        for name, bench in BENCHES.items():
            print(f"{name:<18} {bench.about}")
        return 0
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    chosen = args.names or list(BENCHES)
    summary: list[tuple[str, float, int, str, str]] = []
    for name in chosen:
        bench = BENCHES[name]
        cmd = command(bench, args.quick)
        before = load_average()
        print(f"\n=== {name}: {bench.about}", flush=True)
        print(
            f"$ {' '.join(['.venv/bin/python', *cmd[1:]])}    (load average {before})", flush=True
        )
        started = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT)
        seconds = time.perf_counter() - started
        summary.append((name, seconds, code, before, load_average()))
    print("\n=== summary" + (" (--quick)" if args.quick else ""))
    print(f"{'benchmark':<18} {'seconds':>8} {'exit':>5}  load average before -> after")
    for name, seconds, code, before, after in summary:
        print(f"{name:<18} {seconds:>8.0f} {code:>5}  {before} -> {after}")
    return 1 if any(code for _, _, code, _, _ in summary) else 0


if __name__ == "__main__":
    raise SystemExit(main())
