"""`teamtide metrics` over 12 months from a database, against the raw reads alone (issue 6).

For each scale, a world is loaded into SQLite by the collectors without HTTP
(`benchmarks/loader.py`, cached under `.bench/`), then a fresh child process times, on
that database:

- the raw reads: `db.queries.metric_frames` for the span `reading.report` reads
  (`metrics.reading.read_span`: the window widened to ISO weeks, plus the reorg's
  before/after periods), i.e. the same columns loaded from the database;
- the whole `reading.report` (`teamtide metrics` without printing): the same reads, then
  the facts and every figure of the report.

Warm figures: one read first fills the OS file cache, then the median of `--runs` runs.
Targets: medium under 2x the raw reads and under 10 s; large under 60 s and 4 GB.

Run: `.venv/bin/python benchmarks/bench_metrics_db.py [--scales medium large] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

END = dt.date(2025, 6, 30)  # the worlds' clock
TARGETS: dict[str, dict[str, float]] = {
    "medium": {"seconds": 10.0, "ratio": 2.0},
    "large": {"seconds": 60.0, "rss_mb": 4096.0},
}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def window(clock: dt.datetime, months: int) -> tuple[dt.date, dt.date]:
    """`months` months ending the day before the world's clock."""
    end = clock.date() - dt.timedelta(days=1)
    year, month = divmod(end.year * 12 + end.month - 1 - months, 12)
    start = dt.date(year, month + 1, min(end.day, 28)) + dt.timedelta(days=1)
    return start, end


def measure(scale: str, seed: int, months: int, runs: int) -> dict[str, Any]:
    """In this (fresh) process: time the raw reads and the report on the cached database."""
    from sqlalchemy import create_engine

    from benchmarks import loader
    from db import queries
    from metrics import reading

    loaded = loader.cached(scale, seed, END, progress=lambda _: None)
    config, now = loaded.config(), loaded.clock
    start, end = window(now, months)
    lo, hi = reading.read_span(config, start, end, now)
    engine = create_engine(loaded.db_url)
    reads: list[float] = []
    totals: list[float] = []
    sizes: dict[str, int] = {}
    with engine.connect() as conn:
        queries.metric_frames(conn, lo, hi)  # warm the file cache
        for _ in range(runs):
            t0 = time.perf_counter()
            frames = queries.metric_frames(conn, lo, hi)
            reads.append(time.perf_counter() - t0)
            sizes = {name: len(frame) for name, frame in frames.items()}
            del frames  # not held while the report runs: peak memory is the report's own
            t0 = time.perf_counter()
            report = reading.summary(conn, config, start, end, None, now)
            totals.append(time.perf_counter() - t0)
    engine.dispose()
    json.dumps(report, allow_nan=False)  # the report is the JSON contract
    read, total = statistics.median(reads), statistics.median(totals)
    return {
        "scale": scale,
        "window": f"{start}..{end}",
        "span": f"{lo:%Y-%m-%d %H:%M}..{hi:%Y-%m-%d %H:%M} UTC",
        "items": sizes.get("items", 0),
        "transitions": sizes.get("transitions", 0),
        "pulls": sizes.get("pulls", 0),
        "reads_s": round(read, 2),
        "compute_s": round(total - read, 2),
        "total_s": round(total, 2),
        "ratio": round(total / read, 2) if read else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "runs": runs,
        "database": loaded.directory.name + (" (built by older code)" if loaded.stale else ""),
        "every_read_s": [round(x, 2) for x in reads],
        "every_total_s": [round(x, 2) for x in totals],
    }


def verdict(row: dict[str, Any]) -> str:
    target = TARGETS.get(row["scale"])
    if target is None:
        return "-"
    missed = []
    if "seconds" in target and row["total_s"] >= target["seconds"]:
        missed.append(f"total >= {target['seconds']:g} s")
    if "ratio" in target and (row["ratio"] or 0) >= target["ratio"]:
        missed.append(f"ratio >= {target['ratio']:g}")
    if "rss_mb" in target and row["peak_rss_mb"] >= target["rss_mb"]:
        missed.append(f"rss >= {target['rss_mb']:g} MB")
    return "ok" if not missed else "MISSED: " + ", ".join(missed)


COLUMNS = (
    "scale",
    "items",
    "transitions",
    "pulls",
    "reads_s",
    "compute_s",
    "total_s",
    "ratio",
    "peak_rss_mb",
    "load_avg",
    "target",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["medium", "large"])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median shown)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.seed, args.months, args.runs)))
        return

    from benchmarks import loader

    for scale in args.scales:  # build (or find) every database before timing anything
        loaded = loader.cached(scale, args.seed, END)
        if loaded.seconds:
            print(f"  built the {scale} database in {loaded.seconds:.0f} s", flush=True)
    print(
        f"\nteamtide metrics over {args.months} months from SQLite "
        f"(seed {args.seed}; medians of {args.runs} warm runs)\n"
        "reads_s = db.queries.metric_frames for the span reading.report reads; "
        "total_s = reading.report;\ncompute_s = total_s - reads_s; ratio = total_s / reads_s\n"
    )
    print(" | ".join(f"{c:>12}" for c in COLUMNS), flush=True)
    runs: list[dict[str, Any]] = []
    for scale in args.scales:
        before = load_average()
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                scale,
                "--seed",
                str(args.seed),
                "--months",
                str(args.months),
                "--runs",
                str(args.runs),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["load_avg"] = f"{before.split()[0]}->{load_average().split()[0]}"
        row["target"] = verdict(row)
        print(" | ".join(f"{row[c]!s:>12}" for c in COLUMNS), flush=True)
        runs.append(row)
    for row in runs:
        print(
            f"{row['scale']} (window {row['window']}, read span {row['span']}, {row['database']}): "
            f"every run's reads_s {row['every_read_s']}, total_s {row['every_total_s']}"
        )


if __name__ == "__main__":
    main()
