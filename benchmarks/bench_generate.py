"""Time and peak memory of the sandbox world generator at each scale (large must stay < 120 s, < 4 GB).

Each scale runs in a fresh child process so its peak resident memory is its own.
Run: `.venv/bin/python benchmarks/bench_generate.py [--scales tiny small medium large] [--seed 1]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time

END = dt.date(2025, 6, 30)


def measure(scale: str, seed: int) -> dict[str, float | int | str]:
    """Generate one world in this process and describe it."""
    from sandbox.world.generate import generate

    started, cpu = time.perf_counter(), time.process_time()
    world = generate(seed, scale, END)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "scale": scale,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "people": len(world.people),
        "issues": len(world.issues),
        "histories": sum(len(i.histories) for i in world.issues),
        "status_changes": sum(
            1 for i in world.issues for h in i.histories if h.items[0].field == "status"
        ),
        "comments": sum(len(i.comments) for i in world.issues),
        "pulls": len(world.pulls),
        "pods": len(world.cluster.pods),
        "events": len(world.cluster.events),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", nargs="+", default=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.seed)))
        return
    columns = [
        "scale",
        "seconds",
        "cpu_seconds",
        "peak_rss_mb",
        "people",
        "issues",
        "histories",
        "status_changes",
        "comments",
        "pulls",
        "pods",
        "events",
    ]
    print(" | ".join(f"{c:>14}" for c in columns))
    for scale in args.scales:
        out = subprocess.run(
            [sys.executable, __file__, "--child", scale, "--seed", str(args.seed)],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(" | ".join(f"{row[c]!s:>14}" for c in columns), flush=True)


if __name__ == "__main__":
    main()
