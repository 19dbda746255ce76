"""Jira sync throughput: a full sync of a sandbox world, then an incremental one after ~1% changes.

The sandbox runs in its own process (as a real Jira would be elsewhere), so the figures
are the collector's: issues per second end to end (search pages, changelog follow-ups,
parsing, database writes), requests per issue against the minimum the world needs, and
the collector process's peak memory.

Run: `.venv/bin/python benchmarks/bench_sync_jira.py --scale medium`
(`--db postgresql+psycopg://...` to write into PostgreSQL instead of a temporary SQLite).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.sandbox_process import admin, requests_served, start_sandbox  # noqa: E402
from collectors.base import NullProgress, run_stream  # noqa: E402
from collectors.jira import streams  # noqa: E402
from config.schema import Config  # noqa: E402
from db import models  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import make_engine  # noqa: E402

END = dt.date(2025, 6, 30)
PAGE = 100

# Runs in the sandbox process: build the world, work out the fewest requests a complete
# sync needs (independently of the collector), write them down, then serve.
SERVER = f"""
import json, math, sys, datetime as dt
from sandbox.world.generate import generate
from sandbox.jira.data import JiraData, Snapshot
from sandbox.jira.schema import SEARCH_JQL_CHANGELOG_CAP
from sandbox.server import serve
seed, scale, end, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
world = generate(seed, scale, end=dt.date.fromisoformat(end))
snap = Snapshot(JiraData(world), world.clock)
order = snap.by_updated
cut = [len(snap.histories(n)) > SEARCH_JQL_CHANGELOG_CAP for n in order]
pages = math.ceil(len(order) / {PAGE})
cut_pages = sum(any(cut[p * {PAGE}:(p + 1) * {PAGE}]) for p in range(pages))
json.dump({{"issues": len(order), "search_pages": pages, "cut_pages": cut_pages,
           "cut_issues": sum(cut), "histories": sum(len(snap.histories(n)) for n in order),
           "bot_email": world.bot_email}}, open(out, "w"))
serve(world, port=port)
"""


def jira_requests(url: str) -> int:
    return requests_served(url, "jira")


def sync(config: Config, engine: Any) -> float:
    """Seconds taken by one sync of both Jira streams."""
    started = time.perf_counter()
    for stream in streams(config, engine, NullProgress()):
        for result in run_stream(engine, stream):
            if result.error:
                raise RuntimeError(result.error)
    return time.perf_counter() - started


def count_items(engine: Any, since: dt.datetime | None = None) -> int:
    query = select(func.count()).select_from(models.WorkItem)
    if since is not None:
        query = query.where(models.WorkItem.updated_at > since)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db", default=None, help="database URL (default: a temporary SQLite file)"
    )
    parser.add_argument("--change-hours", type=float, default=48.0)
    args = parser.parse_args()

    print(f"generating and serving the {args.scale} world in a separate process ...", flush=True)
    proc, url, facts = start_sandbox(SERVER, args.scale, args.seed, END)
    try:
        db_url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        engine = make_engine(db_url)
        upgrade(engine)
        os.environ["BENCH_JIRA_TOKEN"] = "jira-token"
        config = Config.model_validate(
            {
                "sources": {
                    "jira": {
                        "url": f"{url}/jira",
                        "email": facts["bot_email"],
                        "token": "${BENCH_JIRA_TOKEN}",
                        "jql": "project in (DS, ENG, OPS)",
                        "page_size": PAGE,
                    }
                }
            }
        )
        admin(url, "stats/reset", {})
        seconds = sync(config, engine)
        served = jira_requests(url)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        n = facts["issues"]
        minimum = 3 + facts["search_pages"] + facts["cut_pages"]  # serverInfo, status, field
        print(f"\nfull sync of {args.scale}: {n} issues, {facts['histories']} change histories")
        print(f"  {'seconds':<28}{seconds:>12.1f}")
        print(f"  {'issues per second':<28}{n / seconds:>12.0f}")
        print(f"  {'requests (served)':<28}{served:>12}")
        print(f"  {'requests (minimum)':<28}{minimum:>12}")
        print(f"  {'  over the minimum':<28}{100 * (served - minimum) / minimum:>11.1f}%")
        print(f"  {'requests per issue':<28}{served / n:>12.4f}")
        print(f"  {'issues with cut changelogs':<28}{facts['cut_issues']:>12}")
        print(f"  {'peak memory (MB)':<28}{peak_mb:>12.0f}")

        admin(url, "stats/reset", {})
        seconds = sync(config, engine)
        print(f"\nsecond sync, nothing changed: {jira_requests(url)} requests, {seconds:.2f}s")

        before = admin(url, "clock")["clock"]
        target = dt.datetime.fromisoformat(before) + dt.timedelta(hours=args.change_hours)
        admin(url, "clock", {"to": target.isoformat()})
        admin(url, "stats/reset", {})
        stored_before = count_items(engine)
        seconds = sync(config, engine)
        changed = count_items(engine, dt.datetime.fromisoformat(before))
        stored_after = count_items(engine)
        made = jira_requests(url)
        print(
            f"\nincremental sync after {args.change_hours:g}h: {changed} issues changed "
            f"({100 * changed / max(stored_after, 1):.2f}%, {stored_after - stored_before} new)"
        )
        print(f"  {'requests':<28}{made:>12}")
        print(f"  {'pages of changes':<28}{math.ceil(changed / PAGE):>12}")
        print(f"  {'seconds':<28}{seconds:>12.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
