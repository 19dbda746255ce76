"""GitHub sync throughput: a full sync of a sandbox world, then an incremental one after ~1% changes.

The sandbox runs in its own process (as GitHub would be elsewhere), so the figures are
the collector's: pull requests per second end to end (list pages, timelines, detail
requests for sizes, parsing, database writes), requests per pull request against the
fewest a complete sync needs, and the collector process's peak memory.

Run: `.venv/bin/python benchmarks/bench_sync_github.py --scale medium`
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
from collectors.github import streams  # noqa: E402
from config.schema import Config  # noqa: E402
from db import models  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import make_engine  # noqa: E402

END = dt.date(2025, 6, 30)
PAGE = 100

# Runs in the sandbox process: build the world, count what a complete sync must read
# (independently of the collector), write it down, then serve.
SERVER = f"""
import json, math, sys, datetime as dt
from sandbox.world.generate import generate
from sandbox.http import SandboxHTTPServer, SandboxState
from sandbox.server import build_app
seed, scale, end, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
world = generate(seed, scale, end=dt.date.fromisoformat(end))
clock = world.clock
seen = [p for p in world.pulls if p.created <= clock]
closed = [p for p in seen if (p.closed_at or p.merged_at) is not None and (p.closed_at or p.merged_at) <= clock]
per_repo = {{r.full_name: sum(p.repo == r.full_name for p in seen) for r in world.repos}}
json.dump({{"pulls": len(seen), "closed": len(closed), "repos": len(world.repos),
           "list_pages": sum(max(1, math.ceil(n / {PAGE})) for n in per_repo.values()),
           "reviews": sum(sum(r.submitted_at <= clock for r in p.reviews) for p in seen)}},
          open(out, "w"))
# GitHub's hourly budget (5000) would stop the sync for an hour every 5000 requests: the
# benchmark measures the collector, and reports the budget it would need instead.
state = SandboxState(world=world)
state.set_rate_budget("github", limit=10**9)
import gc
gc.freeze()  # as `serve` does: the world lives as long as the process
SandboxHTTPServer(build_app(state), port=port).serve_forever()
"""
HOURLY_BUDGET = 5000  # GitHub's primary rate limit for a user token, requests per hour


def github_requests(url: str) -> int:
    return requests_served(url, "github")


def request_paths(url: str) -> dict[str, int]:
    """Requests by kind: list pages, timelines, details (sizes), organisation listings."""
    kinds = {"list": 0, "timeline": 0, "detail": 0, "other": 0}
    for path, n in admin(url, "stats")["paths"].get("github", {}).items():
        if path.endswith("/timeline"):
            kinds["timeline"] += n
        elif path.endswith("/pulls"):
            kinds["list"] += n
        elif "/pulls/" in path:
            kinds["detail"] += n
        else:
            kinds["other"] += n
    return kinds


def sync(config: Config, engine: Any, sizes: bool) -> float:
    """Seconds taken by one sync of the GitHub streams."""
    started = time.perf_counter()
    for stream in streams(config, engine, NullProgress(), sizes=sizes):
        for result in run_stream(engine, stream):
            if result.error:
                raise RuntimeError(result.error)
    return time.perf_counter() - started


def changed_per_repo(engine: Any, since: dt.datetime) -> dict[str, int]:
    pr = models.PullRequest
    query = select(pr.repo, func.count()).where(pr.updated_at > since).group_by(pr.repo)
    with engine.connect() as conn:
        return dict(conn.execute(query).all())


def count_pulls(engine: Any, since: dt.datetime | None = None) -> int:
    query = select(func.count()).select_from(models.PullRequest)
    if since is not None:
        query = query.where(models.PullRequest.updated_at > since)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def row(label: str, value: float | int | str, fmt: str = ">12") -> None:
    print(f"  {label:<30}{value:{fmt}}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db", default=None, help="database URL (default: a temporary SQLite file)"
    )
    parser.add_argument("--change-hours", type=float, default=200.0, help="about 1%% on medium")
    parser.add_argument(
        "--no-sizes",
        dest="sizes",
        action="store_false",
        help="skip the detail request for additions/deletions of closed pull requests",
    )
    args = parser.parse_args()

    print(f"generating and serving the {args.scale} world in a separate process ...", flush=True)
    proc, url, facts = start_sandbox(SERVER, args.scale, args.seed, END)
    try:
        db_url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        engine = make_engine(db_url)
        upgrade(engine)
        os.environ["BENCH_GITHUB_TOKEN"] = "github-token"
        config = Config.model_validate(
            {
                "sources": {
                    "jira": {"url": f"{url}/jira", "jql": "project in (DS, ENG, OPS)"},
                    "github": {
                        "url": f"{url}/github",
                        "token": "${BENCH_GITHUB_TOKEN}",
                        "orgs": ["acme"],
                        "per_page": PAGE,
                    },
                }
            }
        )
        admin(url, "stats/reset", {})
        seconds = sync(config, engine, args.sizes)
        served, kinds = github_requests(url), request_paths(url)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        n = facts["pulls"]
        # an organisation listing, the list pages, a timeline per pull, a detail per closed one
        minimum = 1 + facts["list_pages"] + n + (facts["closed"] if args.sizes else 0)
        print(
            f"\nfull sync of {args.scale}: {n} pull requests in {facts['repos']} repositories, "
            f"{facts['reviews']} reviews"
        )
        row("seconds", f"{seconds:.1f}")
        row("pull requests per second", f"{n / seconds:.0f}")
        row("requests (served)", served)
        row("  list pages", kinds["list"])
        row("  timelines", kinds["timeline"])
        row("  details (sizes, closed only)", kinds["detail"])
        row("  other (organisation)", kinds["other"])
        row("requests (minimum)", minimum)
        row("  over the minimum", f"{100 * (served - minimum) / minimum:.1f}%")
        row("requests per pull request", f"{served / n:.3f}")
        row("hours of GitHub's budget", f"{served / HOURLY_BUDGET:.1f}")
        row("peak memory (MB)", f"{peak_mb:.0f}")

        admin(url, "stats/reset", {})
        seconds = sync(config, engine, args.sizes)
        print(f"\nsecond sync, nothing changed: {github_requests(url)} requests, {seconds:.2f}s")

        before = admin(url, "clock")["clock"]
        target = dt.datetime.fromisoformat(before) + dt.timedelta(hours=args.change_hours)
        admin(url, "clock", {"to": target.isoformat()})
        admin(url, "stats/reset", {})
        stored_before = count_pulls(engine)
        seconds = sync(config, engine, args.sizes)
        changed = count_pulls(engine, dt.datetime.fromisoformat(before))
        stored_after = count_pulls(engine)
        made, kinds = github_requests(url), request_paths(url)
        print(
            f"\nincremental sync after {args.change_hours:g}h: {changed} pull requests changed "
            f"({100 * changed / max(stored_after, 1):.2f}%, {stored_after - stored_before} new)"
        )
        row("requests", made)
        row("  list pages", kinds["list"])
        row("  timelines", kinds["timeline"])
        row("  details (newly closed)", kinds["detail"])
        row("  other (organisation)", kinds["other"])
        row("requests per changed pull", f"{made / max(changed, 1):.2f}")
        per_repo = changed_per_repo(engine, dt.datetime.fromisoformat(before))
        pages = sum(max(1, math.ceil(per_repo.get(r, 0) / PAGE)) for r in per_repo) + (
            facts["repos"] - len(per_repo)
        )
        row("list pages (minimum)", pages)
        row("seconds", f"{seconds:.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
