"""`teamtide demo` (what `make demo` runs): a generated world, synced, served, as of now,
and kept alive: scheduled syncs against a sandbox whose clock follows the wall clock, and
the last four weekly reports stored for the Reports page."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from config.load import load_config
from report.weeks import last_complete_week, week_label
from tests.sandbox.test_cli import wait_gone
from tests.teamtide.test_serve import free_port

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
SYNC_EVERY = "0.1"  # minutes: a scheduled sync every 6 s instead of the demo's 5 min
JOBS = {"teamtide-jira", "teamtide-github", "teamtide-cluster", "teamtide-report"}


@pytest.mark.slow
def test_demo_serves_a_synced_world_that_is_fresh_now_and_stays_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, directory = free_port(), tmp_path / "demo"
    database = directory / "teamtide.db"
    started = dt.datetime.now(dt.UTC)
    command = [sys.executable, "-m", "teamtide.cli", "demo", "--scale", "tiny"]
    log = tmp_path / "demo.log"  # a file, not a pipe: the progress display outgrows one
    process = subprocess.Popen(
        [*command, "--port", str(port), "--directory", str(directory)],
        cwd=tmp_path,
        env=dict(os.environ, HOME=str(tmp_path), TEAMTIDE_DEMO_SYNC_MINUTES=SYNC_EVERY),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    spawned: set[int] = set()

    def alive() -> None:
        assert process.poll() is None, f"the demo exited {process.returncode}: {log.read_text()}"
        spawned.update(children(process.pid))

    try:
        deadline, health = time.monotonic() + 240, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    health = answer.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert health == "ok", f"no dashboard on {port}, exit {process.poll()}: {log.read_text()}"
        alive()
        first = last_successes(database)
        items = query(database, "SELECT count(*) FROM work_items")[0][0]
        # The Reports page's data: the last four complete weeks, stored while the dashboard runs.
        wait_for(lambda: len(periods(database)) >= 4, "four stored weekly reports", alive)
        weeks = periods(database)
        # Data health's "next run": every job is in the scheduler's store.
        next_runs = dict(query(database, "SELECT id, next_run_time FROM apscheduler_jobs"))
        # A scheduled sync after the first one moves every Jira and GitHub stream on.
        wait_for(lambda: advanced(first, last_successes(database)), "a scheduled sync", alive)
        wait_for(lambda: "Reports page:" in log.read_text(), "the reports' line", alive)
        outcomes = query(database, "SELECT job, outcome, detail FROM job_runs")
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C stops everything the demo started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = log.read_text()
    # Nothing outlives the demo: its dashboard no longer answers on the port, and no
    # process it started (Streamlit, the sandbox, the reports' browser) runs.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and answers(port):
        time.sleep(0.5)
    assert not answers(port), "the demo's dashboard outlived it"
    assert spawned and all(wait_gone(pid, 15) for pid in spawned), spawned
    assert items > 0 and first and all(first.values()), output
    # The sandbox's clock follows the wall clock's minute, so the data is as of now: the
    # Data health page and the report do not call it stale.
    successes = last_successes(database).values()
    floor = started.replace(second=0, microsecond=0)
    assert all(floor <= moment <= dt.datetime.now(dt.UTC) for moment in successes), successes
    assert f"Dashboard on http://127.0.0.1:{port}" in output

    config = load_config(directory / "teamtide.yaml")
    last = last_complete_week(started, config)
    assert weeks == sorted(week_label(last - dt.timedelta(weeks=n)) for n in range(4)), output
    assert "Reports page:" in output and "not sent" in output
    assert set(next_runs) == JOBS and all(next_runs.values()), next_runs
    schedule = yaml.safe_load((directory / "teamtide.yaml").read_text())["schedule"]
    assert schedule["jira"] == {"every_minutes": float(SYNC_EVERY)}, schedule
    ran = {job for job, outcome, _ in outcomes if outcome == "ok"}
    assert {"jira", "github", "cluster"} <= ran, outcomes
    assert [o for o in outcomes if o[1] == "failed"] == [], outcomes
    assert "synced every 6 s" in output and "Ctrl-C" in output

    # What the pages show of it (the store keeps the last next runs after the demo).
    monkeypatch.setenv("TEAMTIDE_CONFIG", str(directory / "teamtide.yaml"))
    health = page("health")
    [streams] = [d.value for d in health.dataframe if "next run" in d.value.columns]
    assert len(streams) and streams["next run"].notna().all(), streams
    reports = page("reports")
    [week] = reports.selectbox
    assert sorted(week.options) == [f"{w} · not sent" for w in weeks], week.options


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(DASHBOARD / "views" / f"{name}.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def query(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database, timeout=30) as db:
        return db.execute(sql).fetchall()


def last_successes(database: Path) -> dict[tuple[str, str, str], dt.datetime | None]:
    rows = query(database, "SELECT source, stream, partition, last_success FROM sync_state")
    return {
        (str(source), str(stream), str(part)): (
            dt.datetime.fromisoformat(str(at)).replace(tzinfo=dt.UTC) if at else None
        )
        for source, stream, part, at in rows
    }


def advanced(
    before: dict[tuple[str, str, str], dt.datetime | None],
    after: dict[tuple[str, str, str], dt.datetime | None],
) -> bool:
    """Whether every Jira and GitHub stream succeeded again since `before`."""
    keys = [k for k in before if k[0] in ("jira", "github")]
    return bool(keys) and all(
        (was := before[k]) is not None and (now := after.get(k)) is not None and now > was
        for k in keys
    )


def periods(database: Path) -> list[str]:
    try:
        return sorted(str(p) for (p,) in query(database, "SELECT period FROM reports"))
    except sqlite3.OperationalError:  # not created yet
        return []


def wait_for(
    check: Callable[[], object], what: str, alive: Callable[[], None], seconds: float = 240
) -> None:
    """Poll until `check()` is true; the demo must stay up meanwhile."""
    deadline = time.monotonic() + seconds
    while not check():
        alive()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def children(pid: int) -> set[int]:
    """The processes `pid`'s threads started that still run (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
            return True
    except OSError:
        return False
