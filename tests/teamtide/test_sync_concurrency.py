"""Two `teamtide sync` at once on a new database: both finish, and every record is stored once.

Each source is synced under its lease (`db.locks`, the one the scheduler takes), so the
second sync of a source waits for the first and then goes on from its cursors; the first
write of a partition's sync state is an upsert. Run several times on SQLite and
PostgreSQL against the sandbox, on databases both empty and just initialised: the race
it guards against struck 2 runs in 3.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg
import pytest
from sqlalchemy import func, select, text

from collectors.org import prepare_database
from collectors.sync import sync
from config.load import load_config
from db import locks, models
from db.session import make_engine
from sandbox.stack import SandboxStack
from sandbox.world.generate import generate

pytestmark = pytest.mark.slow
ROUNDS = 4  # half on a database just made by `teamtide init`, half on an empty one
END = dt.date(2025, 6, 30)
TEAMTIDE = str(Path(sys.executable).parent / "teamtide")
# every table a sync writes whose natural key makes a second copy impossible to miss
COUNTED = (
    "work_items",
    "item_transitions",
    "item_assignments",
    "item_comments",
    "statuses",
    "pull_requests",
    "reviews",
    "identities",
    "cluster_events",
    "sync_state",
    "sync_rejects",
)


@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    world = generate(1, "tiny", end=END)
    with SandboxStack(world, github_rate_limit=1_000_000, prometheus=False) as served:
        yield served


def contents(url: str) -> dict[str, Any]:
    """Row counts; the cluster's snapshots as the rows of each instant (one per sync minute)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found: dict[str, Any] = {
                table: conn.scalar(text(f"select count(*) from {table}")) for table in COUNTED
            }
            s = models.ClusterSample
            per_instant = conn.execute(select(s.at, func.count()).group_by(s.at)).all()
            found["cluster samples per instant"] = sorted(Counter(n for _, n in per_instant))
            found["leases left"] = conn.scalar(select(func.count()).select_from(models.JobLock))
    finally:
        engine.dispose()
    return found


@pytest.fixture(scope="module")
def alone(stack: SandboxStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What one sync by itself stores."""
    directory = tmp_path_factory.mktemp("alone")
    url = f"sqlite:///{directory / 'teamtide.db'}"
    config = load_config(stack.write_config(directory / "teamtide.yaml", url))
    engine, _ = prepare_database(config)
    outcomes = sync(engine, config)
    engine.dispose()
    assert not [o for o in outcomes if o.failed]
    found = contents(url)
    assert found["work_items"] and found["pull_requests"] and found["cluster samples per instant"]
    assert found["sync_rejects"] == 0
    return found


def two_syncs_at_once(config: Path) -> list[subprocess.CompletedProcess[str]]:
    command = [TEAMTIDE, "--config", str(config), "sync", "--format", "json"]
    running = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    done = []
    for child in running:
        out, err = child.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(command, child.returncode, out, err))
    return done


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_two_first_syncs_at_once_both_succeed_and_store_everything_once(
    backend: str,
    stack: SandboxStack,
    alone: dict[str, Any],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    for round_ in range(ROUNDS):
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / f'round{round_}.db'}"
        else:
            url = pg.fresh_schema_url(request.getfixturevalue("pg_database"), {})
        config = stack.write_config(tmp_path / f"round{round_}.yaml", url)
        if round_ % 2:  # initialised: the two syncs start together, to the millisecond
            engine, _ = prepare_database(load_config(config))
            engine.dispose()
        for done in two_syncs_at_once(config):
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr
            outcomes = {row["outcome"] for row in json.loads(done.stdout)}
            assert outcomes == {"ok"}, done.stdout
        found = contents(url)
        # one instant per sync that snapshotted the cluster in its own minute, each whole
        instants = found.pop("cluster samples per instant")
        assert instants and set(instants) == set(alone["cluster samples per instant"])
        assert found == {k: v for k, v in alone.items() if k != "cluster samples per instant"}


def test_a_sync_waits_for_the_lease_and_says_who_holds_it(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """A lease held elsewhere (the scheduler, say): `--wait 0` skips the source in one line."""
    url = f"sqlite:///{tmp_path / 'teamtide.db'}"
    config = stack.write_config(tmp_path / "teamtide.yaml", url)
    engine, _ = prepare_database(load_config(config))
    holder = "sched-box:4242:4026531836:1f2e3d4c"  # another machine's scheduler
    now = dt.datetime.now(dt.UTC)
    assert locks.acquire(engine, "jira", holder, locks.JOB_LEASE, now)
    done = subprocess.run(
        [TEAMTIDE, "--config", str(config), "sync", "--source", "jira", "--wait", "0",
         "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, COLUMNS="200"),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    [row] = json.loads(done.stdout)
    assert (
        row["source"] == "jira"
        and "process 4242 on sched-box is still syncing jira" in (row["outcome"])
    )
    assert "Traceback" not in done.stderr
    assert locks.current_holder(engine, "jira") == holder  # its lease is left alone
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.WorkItem)) == 0
    engine.dispose()
