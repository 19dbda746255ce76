"""GitHub sync, REST against GraphQL: a first sync of a sandbox world, then an incremental one.

For each scale, both paths sync the same world into databases of their own, then the
sandbox's clock moves on (about 1% of the pull requests change) and both sync again. The
table puts side by side what GitHub's budget is spent on: requests, and rate-limit points
(a REST request is a point of the 5,000 an hour; a GraphQL query costs what its
`rateLimit.cost` says, of 5,000 points an hour), the hours of budget a first sync needs,
pull requests per second of wall time, and each sync's peak memory. The sandbox runs in
its own process, and each sync in a fresh one, so each peak is that sync's own.

Run: `.venv/bin/python -m benchmarks sync_github` or
`.venv/bin/python benchmarks/bench_sync_github.py --scales small medium large`
(`--db postgresql+psycopg://...` to write into PostgreSQL instead of temporary SQLite).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from benchmarks.sandbox_process import admin, requests_served, start_sandbox  # noqa: E402
from collectors.base import NullProgress, run_stream  # noqa: E402
from collectors.github import GithubApi  # noqa: E402
from collectors.github_source import streams  # noqa: E402
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
# GitHub's hourly budgets (5000 requests, 5000 points) would stop the sync for an hour at
# each: the benchmark measures the collector, and reports the budget it would need instead.
state = SandboxState(world=world)
state.set_rate_budget("github", limit=10**9)
state.set_rate_budget("github:graphql", limit=10**9)
import gc
gc.freeze()  # as `serve` does: the world lives as long as the process
SandboxHTTPServer(build_app(state), port=port).serve_forever()
"""
HOURLY_BUDGET = 5000  # GitHub's primary rate limit for a user token, requests per hour


def github_requests(url: str) -> int:
    return requests_served(url, "github")


APIS = ("rest", "graphql")


def sync_once(config_json: str, db_url: str) -> dict[str, float]:
    """One sync of the GitHub streams, in a process of its own: seconds, points, peak MB."""
    config = Config.model_validate_json(config_json)
    engine = make_engine(db_url)
    started = time.perf_counter()
    apis: list[GithubApi] = []
    for stream in streams(config, engine, NullProgress()):
        apis.append(stream.api)  # type: ignore[attr-defined]
        for result in run_stream(engine, stream):
            if result.error:
                raise RuntimeError(result.error)
    seconds = time.perf_counter() - started
    engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "points": sum({id(a): a.points for a in apis}.values()),
        "mb": peak_mb,
    }


def measured_sync(config: Config, db_url: str, url: str) -> dict[str, float]:
    """A sync in a fresh process, with the requests the sandbox served for it."""
    admin(url, "stats/reset", {})
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        figures = pool.apply(sync_once, (config.model_dump_json(by_alias=True), db_url))
    figures["requests"] = github_requests(url)
    if config.sources.github is not None and config.sources.github.api == "rest":
        figures["points"] = figures["requests"]  # REST: one request, one point of the budget
    return figures


def count_pulls(engine: Any, since: dt.datetime | None = None) -> int:
    query = select(func.count()).select_from(models.PullRequest)
    if since is not None:
        query = query.where(models.PullRequest.updated_at > since)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def config_for(url: str, api: str) -> Config:
    return Config.model_validate(
        {
            "sources": {
                "jira": {"url": f"{url}/jira", "jql": "project in (DS, ENG, OPS)"},
                "github": {
                    "url": f"{url}/github",
                    "api": api,
                    "token": "${BENCH_GITHUB_TOKEN}",
                    "orgs": ["acme"],
                    "per_page": PAGE,
                },
            }
        }
    )


def database(base: str | None, api: str, scale: str) -> str:
    """A fresh database per path: a temporary SQLite file, or a schema of `--db`."""
    if base is None:
        url = f"sqlite:///{tempfile.mkdtemp()}/{api}.db"
    else:
        schema = f"bench_{scale}_{api}"
        with make_engine(base).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    upgrade(make_engine(url))
    return url


def ratio(rest: float, graphql: float) -> str:
    return f"{rest / graphql:,.1f}x" if graphql and not math.isnan(rest / graphql) else "-"


def bench_scale(
    scale: str, seed: int, change_hours: float, db: str | None, apis: tuple[str, ...] = APIS
) -> list[list[str]]:
    """Both paths (or those of `apis`) on one world: the rows of its part of the table."""
    print(f"generating and serving the {scale} world in a separate process ...", flush=True)
    proc, url, facts = start_sandbox(SERVER, scale, seed, END)
    try:
        urls = {api: database(db, api, scale) for api in apis}
        first = {}
        for api in apis:
            print(f"  {scale}: first sync through {api} ...", flush=True)
            first[api] = measured_sync(config_for(url, api), urls[api], url)
        before = admin(url, "clock")["clock"]
        target = dt.datetime.fromisoformat(before) + dt.timedelta(hours=change_hours)
        admin(url, "clock", {"to": target.isoformat()})
        again = {}
        for api in apis:
            print(f"  {scale}: incremental sync through {api} ...", flush=True)
            again[api] = measured_sync(config_for(url, api), urls[api], url)
        engine = make_engine(urls[apis[-1]])
        changed, stored = (
            count_pulls(engine, dt.datetime.fromisoformat(before)),
            count_pulls(engine),
        )
        engine.dispose()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    n = facts["pulls"]
    nan = float("nan")  # a path not run (--apis): its cells say "-"
    missed = {"requests": nan, "points": nan, "seconds": nan, "mb": nan}
    r, g = first.get("rest", missed), first.get("graphql", missed)
    ri, gi = again.get("rest", missed), again.get("graphql", missed)
    share = f"{100 * changed / max(stored, 1):.1f}% changed"
    rows = [
        [scale, f"{n:,} pull requests, {facts['repos']} repositories", "", "", ""],
        [
            "",
            "first sync: requests",
            f"{r['requests']:,}",
            f"{g['requests']:,}",
            ratio(r["requests"], g["requests"]),
        ],
        [
            "",
            "first sync: rate-limit points",
            f"{r['points']:,.0f}",
            f"{g['points']:,.0f}",
            ratio(r["points"], g["points"]),
        ],
        [
            "",
            "first sync: hours of budget",
            f"{r['points'] / HOURLY_BUDGET:.2f}",
            f"{g['points'] / HOURLY_BUDGET:.2f}",
            "",
        ],
        [
            "",
            "first sync: pull requests/s",
            f"{n / r['seconds']:,.0f}",
            f"{n / g['seconds']:,.0f}",
            "",
        ],
        ["", "first sync: peak memory (MB)", f"{r['mb']:,.0f}", f"{g['mb']:,.0f}", ""],
        [
            "",
            f"incremental ({share}): requests",
            f"{ri['requests']:,}",
            f"{gi['requests']:,}",
            ratio(ri["requests"], gi["requests"]),
        ],
        [
            "",
            "incremental: points",
            f"{ri['points']:,.0f}",
            f"{gi['points']:,.0f}",
            ratio(ri["points"], gi["points"]),
        ],
        ["", "incremental: seconds", f"{ri['seconds']:.1f}", f"{gi['seconds']:.1f}", ""],
    ]
    return [[cell if "nan" not in cell else "-" for cell in row] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small", "medium"])
    parser.add_argument("--scale", dest="scales", action="store", type=lambda s: [s])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=None, help="PostgreSQL URL (default: temporary SQLite)")
    parser.add_argument("--change-hours", type=float, default=200.0, help="about 1%% on medium")
    parser.add_argument("--apis", nargs="+", choices=APIS, default=list(APIS))
    args = parser.parse_args()
    os.environ["BENCH_GITHUB_TOKEN"] = "github-token"
    rows: list[list[str]] = []
    for scale in args.scales:
        rows += bench_scale(scale, args.seed, args.change_hours, args.db, tuple(args.apis))
    head = ["world", "figure", "REST", "GraphQL", "REST / GraphQL"]
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for line in rows:
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    print(
        f"\nbudget: {HOURLY_BUDGET:,} points an hour per token (REST: requests; GraphQL: "
        "rateLimit.cost); targets: medium's first GraphQL sync within 5,000 points, "
        ">= 50x fewer requests than REST on small"
    )


if __name__ == "__main__":
    main()
