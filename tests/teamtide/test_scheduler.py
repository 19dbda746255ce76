"""`teamtide schedule` as it runs: a real process, a served sandbox, SQLite and PostgreSQL.

Each test starts `teamtide schedule` as a subprocess on a fast schedule against the
sandbox stack and judges it only by what lands in the database (`job_runs`,
`sync_state`, the collected tables, APScheduler's own job table) and by its exit code:
a restart, a SIGTERM in the middle of a page, a second scheduler by mistake, missed runs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from collectors.org import prepare_database
from collectors.sync import sync
from config.load import load_config
from config.schema import Config
from db import models, queries
from db.session import make_engine
from sandbox.stack import SandboxStack
from sandbox.world.generate import generate
from teamtide import scheduler

ROOT = Path(__file__).resolve().parents[2]
END = dt.date(2025, 6, 30)
FAST = {"every_minutes": 0.05}  # every 3 s
OFF = {"enabled": False}
JOBS = (*scheduler.SYNC_JOBS, "report")
PAGE = 25  # Jira issues per page: a first sync of the tiny world is 21 pages
SLOW = 0.3  # seconds added to every Jira response, so a signal lands mid-sync

T = TypeVar("T")


# ---------------------------------------------------------------- the world and its reference


@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    world = generate(1, "tiny", end=END)
    with SandboxStack(world, prometheus=False) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults_left(stack: SandboxStack) -> Iterator[None]:
    yield
    stack.state.clear_faults()


@pytest.fixture(scope="module")
def reference(stack: SandboxStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a one-shot `collectors.sync.sync` of the whole world stores (SQLite)."""
    directory = tmp_path_factory.mktemp("reference")
    path = stack.write_config(directory / "teamtide.yaml", f"sqlite:///{directory / 'ref.db'}")
    config = load_config(path)
    engine, _ = prepare_database(config)
    try:
        outcomes = sync(engine, config)
        assert not [o for o in outcomes if o.failed], outcomes
        return snapshot(engine)
    finally:
        engine.dispose()


UNCOMPARED = ("id", "stored_at")  # surrogate ids; when a sync wrote the row


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every collected table by natural keys, without surrogate ids or wall-clock stamps.

    Cluster samples and nodes are stamped with the clock of the run that took them (the
    wall clock under the scheduler, the world's in the reference), so only the latest
    snapshot's contents are compared.
    """
    wi, pr = models.WorkItem, models.PullRequest
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        out["work_items"] = {
            (r["source"], r["key"]): {k: v for k, v in r.items() if k not in UNCOMPARED}
            for r in conn.execute(select(wi)).mappings()
        }
        for child in (
            models.ItemTransition,
            models.ItemAssignment,
            models.ItemComment,
            models.Worklog,
        ):
            cols = [c for c in child.__table__.c if c.name not in ("id", "item_id")]
            rows = conn.execute(select(wi.key, *cols).join(wi, wi.id == child.item_id))
            out[child.__tablename__] = sorted(tuple(r) for r in rows)
        out["pull_requests"] = {
            (r["repo"], r["number"]): {k: v for k, v in r.items() if k not in UNCOMPARED}
            for r in conn.execute(select(pr)).mappings()
        }
        rv = models.Review
        cols = [c for c in rv.__table__.c if c.name not in ("id", "pr_id")]
        out["reviews"] = sorted(
            tuple(r) for r in conn.execute(select(pr.repo, pr.number, *cols).join(pr))
        )
        st = models.Status
        out["statuses"] = sorted(tuple(r) for r in conn.execute(select(st.source, st.name)))
        i, p = models.Identity, models.Person
        out["identities"] = sorted(
            tuple(r)
            for r in conn.execute(
                select(i.source, i.value, i.display_name, i.email, p.name).outerjoin(
                    p, p.id == i.person_id
                )
            )
        )
        for table in (models.ClusterSample, models.ClusterNode):
            latest = conn.scalar(select(func.max(table.at)))
            cols = [c for c in table.__table__.c if c.name not in ("id", "at")]
            out[table.__tablename__] = sorted(
                (tuple(r) for r in conn.execute(select(*cols).where(table.at == latest))),
                key=repr,
            )
        ev = models.ClusterEvent
        cols = [c for c in ev.__table__.c if c.name != "id"]
        out["cluster_events"] = sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr)
        s = models.SyncState
        out["cursors"] = sorted(
            tuple(r)
            for r in conn.execute(
                select(s.source, s.stream, s.partition, s.cursor).where(s.source != "cluster")
            )
        )
        out["rejects"] = conn.scalar(select(func.count()).select_from(models.SyncReject))
    return out


def jira_part(tables: dict[str, Any]) -> dict[str, Any]:
    """What the Jira source alone writes."""
    keys = ("item_transitions", "item_assignments", "item_comments", "worklogs", "statuses")
    return {
        "work_items": {k: v for k, v in tables["work_items"].items() if k[0] == "jira"},
        **{k: tables[k] for k in keys},
        "cursors": [c for c in tables["cursors"] if c[0] == "jira"],
    }


# ---------------------------------------------------------------- the scheduler process


def org_file(
    stack: SandboxStack, directory: Path, db_url: str, schedule: dict[str, Any], **jira: Any
) -> Path:
    """The stack's org file with this schedule (and Jira options)."""
    path = stack.write_config(directory / "teamtide.yaml", db_url)
    data = yaml.safe_load(path.read_text())
    data["schedule"] = schedule
    data["sources"]["jira"].update(jira)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class Scheduler:
    """One `teamtide schedule` process; its output goes to a file the failure message quotes."""

    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, config_path: Path, name: str = "scheduler") -> Scheduler:
        log = config_path.parent / f"{name}-{time.monotonic_ns()}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "teamtide.cli", "--config", str(config_path), "schedule"],
                cwd=ROOT,
                env=os.environ | {"PYTHONPATH": str(ROOT)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(process, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        assert self.process.poll() is None, f"the scheduler exited:\n{self.output()}"

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"no exit {timeout} s after {sig.name}:\n{self.output()}"
            ) from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def schedulers() -> Iterator[Callable[[Path], Scheduler]]:
    """Start schedulers; any still running at the end is killed."""
    started: list[Scheduler] = []

    def start(config_path: Path) -> Scheduler:
        started.append(Scheduler.start(config_path, f"scheduler{len(started)}"))
        return started[-1]

    yield start
    for s in started:
        s.kill()


def wait_for(check: Callable[[], T], what: str, timeout: float = 60, *alive: Scheduler) -> T:
    """Poll the database until `check` returns something true; the processes must stay up."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        for s in alive:
            s.alive()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The test's view of the database the scheduler writes (migrated by the scheduler)."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def runs(engine: Engine, job: str | None = None) -> list[models.JobRun]:
    r = models.JobRun
    query = select(r).order_by(r.id)
    if job:
        query = query.where(r.job == job)
    try:
        with Session(engine) as session:
            return list(session.scalars(query))
    except Exception:  # the scheduler has not created the tables yet
        return []


def finished(engine: Engine, job: str, outcome: str = "ok") -> list[models.JobRun]:
    return [r for r in runs(engine, job) if r.finished_at and r.outcome == outcome]


def stopped_on_request(run: models.JobRun) -> bool:
    """A run the stop interrupted: on a 3 s schedule one may start just before it."""
    return run.outcome == "stopped" and (run.detail or "").startswith("stopped on request")


def running(engine: Engine, job: str) -> list[models.JobRun]:
    return [r for r in runs(engine, job) if r.finished_at is None]


def count(engine: Engine, table: Any) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)
    except Exception:
        return 0


def pid_of(holder: str) -> int:
    return int(holder.rsplit(":", 3)[1])


def assert_runs_never_overlap(engine: Engine) -> None:
    """Per job, every run that ran ended before the next one started."""
    worked = [r for r in runs(engine) if r.outcome not in ("skipped", "missed")]
    assert all(r.finished_at is not None for r in worked), worked
    for job in {r.job for r in worked}:
        mine = sorted((r for r in worked if r.job == job), key=lambda r: r.started_at)
        for before, after in itertools.pairwise(mine):
            assert before.finished_at <= after.started_at, (job, before.holder, after.holder)


def searches(stack: SandboxStack) -> int:
    return int(stack.http.stats()["paths"]["jira"].get("/jira/rest/api/3/search/jql", 0))


# ---------------------------------------------------------------- the tests


@pytest.mark.slow
def test_every_job_runs_on_its_schedule_and_the_database_equals_a_one_shot_sync(
    stack: SandboxStack,
    reference: dict[str, Any],
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    schedulers: Callable[[Path], Scheduler],
) -> None:
    path = org_file(stack, tmp_path, db_url, {"jira": FAST, "github": FAST, "cluster": FAST})
    s = schedulers(path)
    # two completed runs each: the first start's immediate run, then the schedule's own
    for job in scheduler.SYNC_JOBS:
        wait_for(lambda job=job: len(finished(engine, job)) >= 2, f"two {job} runs", 90, s)
    assert s.stop(signal.SIGINT) == 0, s.output()  # Ctrl-C stops it as SIGTERM does
    assert "received SIGINT" in s.output()

    # a third run the schedule started just before Ctrl-C may stop on request; nothing else
    for job in scheduler.SYNC_JOBS:
        mine = runs(engine, job)
        assert all(r.outcome == "ok" for r in mine[:-1]), [(r.outcome, r.detail) for r in mine]
        assert mine[-1].outcome == "ok" or stopped_on_request(mine[-1]), (
            mine[-1].outcome,
            mine[-1].detail,
        )
    with Session(engine) as session:
        states = list(session.scalars(select(models.SyncState)))
    assert {st.source for st in states} == set(scheduler.SYNC_JOBS)
    assert all(st.last_success and st.last_error is None for st in states), states
    assert snapshot(engine) == reference


@pytest.mark.slow
def test_sigterm_mid_sync_stores_the_page_in_flight_exits_0_and_the_next_run_completes(
    stack: SandboxStack,
    reference: dict[str, Any],
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    schedulers: Callable[[Path], Scheduler],
) -> None:
    expected = jira_part(reference)
    total = len(expected["work_items"])
    path = org_file(
        stack, tmp_path, db_url, {"jira": FAST, "github": OFF, "cluster": OFF}, page_size=PAGE
    )
    stack.state.set_faults("jira", slow_seconds=SLOW)
    s = schedulers(path)
    wait_for(lambda: count(engine, models.WorkItem) >= 2 * PAGE, "two stored pages", 60, s)
    assert s.stop(signal.SIGTERM) == 0, s.output()
    assert "received SIGTERM" in s.output()

    stored = jira_part(snapshot(engine))
    kept = len(stored["work_items"])
    assert 2 * PAGE <= kept < total, "the signal should have landed mid-sync"
    assert kept % PAGE == 0, f"{kept} issues is not a whole number of {PAGE}-issue pages"
    # every issue stored is stored whole: its history and comments came in the same page
    for table in ("item_transitions", "item_assignments", "item_comments"):
        keys = {k for _, k in stored["work_items"]}
        assert stored[table] == [row for row in expected[table] if row[0] in keys], table
    assert stored["work_items"] == {
        k: v for k, v in expected["work_items"].items() if k in stored["work_items"]
    }
    with Session(engine) as session:
        state = session.scalars(
            select(models.SyncState).where(models.SyncState.stream == "issues")
        ).one()
    # the cursor moved in the pages' own transactions: it is the newest stored change
    newest = max(v["updated_at"] for v in stored["work_items"].values())
    assert state.cursor is not None and dt.datetime.fromisoformat(state.cursor) == newest
    assert state.last_success is None
    [run] = runs(engine, "jira")
    assert run.outcome == "stopped" and run.finished_at is not None, run
    assert count(engine, models.JobLock) == 0  # released on the way out

    stack.state.clear_faults()
    before = searches(stack)
    s = schedulers(path)
    wait_for(lambda: finished(engine, "jira"), "a completed run after the restart", 60, s)
    resumed = searches(stack) - before
    assert s.stop() == 0, s.output()
    # from the cursor, not from the start: fewer search pages than a whole first sync
    assert resumed < math.ceil(total / PAGE), resumed
    assert jira_part(snapshot(engine)) == expected
    assert_runs_never_overlap(engine)


@pytest.mark.slow
def test_a_killed_scheduler_restarted_loses_nothing_and_never_runs_a_job_twice_at_once(
    stack: SandboxStack,
    reference: dict[str, Any],
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    schedulers: Callable[[Path], Scheduler],
) -> None:
    path = org_file(
        stack, tmp_path, db_url, {"jira": FAST, "github": OFF, "cluster": FAST}, page_size=PAGE
    )
    stack.state.set_faults("jira", slow_seconds=SLOW)
    first = schedulers(path)
    wait_for(lambda: count(engine, models.WorkItem) >= 2 * PAGE, "two stored pages", 60, first)
    first.stop(signal.SIGKILL)
    [dead] = running(engine, "jira")  # what a crash leaves: an open run and a held lease
    assert pid_of(dead.holder) == first.pid
    with engine.connect() as conn:
        assert (
            conn.scalar(select(models.JobLock.holder).where(models.JobLock.name == "jira"))
            == dead.holder
        )

    stack.state.clear_faults()
    second = schedulers(path)
    wait_for(lambda: finished(engine, "jira"), "a completed run after the restart", 60, second)
    assert second.stop() == 0, second.output()

    jira = runs(engine, "jira")
    assert [r.outcome for r in jira[:1]] == ["abandoned"]
    # the lease of a process that provably died is taken over at once, not after it expires
    assert all(r.outcome != "skipped" for r in jira), [(r.outcome, r.detail) for r in jira]
    assert {pid_of(r.holder) for r in jira[1:]} == {second.pid}
    assert_runs_never_overlap(engine)
    assert jira_part(snapshot(engine)) == jira_part(reference)


@pytest.mark.slow
def test_two_schedulers_against_one_database_never_overlap_a_job(
    stack: SandboxStack,
    reference: dict[str, Any],
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    schedulers: Callable[[Path], Scheduler],
) -> None:
    every_second = {"every_minutes": 1 / 60}
    path = org_file(
        stack,
        tmp_path,
        db_url,
        {"jira": every_second, "github": OFF, "cluster": every_second},
        page_size=50,
    )
    stack.state.set_faults("jira", slow_seconds=SLOW)  # a run lasts longer than the interval
    a = schedulers(path)
    wait_for(lambda: running(engine, "jira"), "the first scheduler's run", 60, a)
    b = schedulers(path)

    def b_was_refused() -> bool:
        return any(
            r.outcome == "skipped" and pid_of(r.holder) == b.pid for r in runs(engine, "jira")
        )

    wait_for(b_was_refused, "the second scheduler's attempt to be refused", 60, a, b)
    wait_for(lambda: len(finished(engine, "jira")) >= 3, "three jira runs", 60, a, b)
    assert a.stop() == 0, a.output()
    assert b.stop() == 0, b.output()

    assert_runs_never_overlap(engine)
    every = runs(engine)
    # Refused because a run of the same job by another holder was going on right then.
    # The lease changes hands at a commit and each side notes the time just after taking
    # or just before giving it up, so a refusal can be noted a moment outside the run.
    moment = dt.timedelta(seconds=0.5)
    for skip in (r for r in every if r.outcome == "skipped"):
        assert any(
            r.job == skip.job
            and r.holder != skip.holder
            and r.outcome not in ("skipped", "missed")
            and r.started_at - moment <= skip.started_at <= r.finished_at + moment
            for r in every
        ), (skip.job, skip.holder, skip.started_at)
    assert jira_part(snapshot(engine)) == jira_part(reference)


def stored_next_runs(engine: Engine) -> dict[str, dt.datetime]:
    with engine.connect() as conn:
        return queries.next_runs(conn)


def test_missed_runs_are_coalesced_into_one_within_the_grace_time_and_recorded_beyond_it(
    stack: SandboxStack,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    schedulers: Callable[[Path], Scheduler],
) -> None:
    jobs = {"jira": {"every_minutes": 10}, "github": OFF, "cluster": {"every_minutes": 60}}
    path = org_file(stack, tmp_path, db_url, jobs)
    # The schedule as an earlier scheduler (the default grace, 300 s) left it before it
    # was stopped for a while: jira last due 350 s ago after two earlier misses, the
    # cluster due 900 s ago.
    config = load_config(path)
    prepare_database(config)
    now = dt.datetime.now(dt.UTC)
    earlier = scheduler.build(config, path, engine)
    earlier.modify_job("teamtide-jira", next_run_time=now - dt.timedelta(seconds=2 * 600 + 350))
    earlier.modify_job("teamtide-cluster", next_run_time=now - dt.timedelta(seconds=900))
    scheduler.stop_scheduler(earlier)
    data = yaml.safe_load(path.read_text())
    data["schedule"]["misfire_grace_seconds"] = 600
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    s = schedulers(path)
    wait_for(lambda: finished(engine, "jira"), "the coalesced jira run", 60, s)
    wait_for(lambda: finished(engine, "cluster", "missed"), "the missed cluster run", 60, s)

    def rescheduled() -> bool:
        upcoming = stored_next_runs(engine)
        return all(upcoming.get(f"teamtide-{j}", now) > now for j in ("jira", "cluster"))

    wait_for(rescheduled, "both jobs' next runs in the future", 30, s)
    assert s.stop() == 0, s.output()

    # three due times, one run: the two older ones coalesced into it, none recorded missed
    assert [r.outcome for r in runs(engine, "jira")] == ["ok"]
    [missed] = runs(engine, "cluster")
    assert missed.outcome == "missed" and "grace of 600 s" in (missed.detail or ""), missed
    assert count(engine, models.ClusterSample) == 0
    upcoming = stored_next_runs(engine)
    # the schedule goes on from the missed slots, not from the restart
    jira_next = upcoming["teamtide-jira"] - now
    cluster_next = upcoming["teamtide-cluster"] - now
    assert dt.timedelta(seconds=240) <= jira_next <= dt.timedelta(seconds=260), jira_next
    assert dt.timedelta(minutes=44) <= cluster_next <= dt.timedelta(minutes=46), cluster_next


def table_rows(output: str, title: str) -> list[list[str]]:
    """The body rows of one table in a command's piped output (`# title`, a header, then
    one tab-separated line a row), as lists of cells."""
    lines = output.splitlines()
    start = lines.index(f"# {title}")
    rows: list[list[str]] = []
    for line in lines[start + 2 :]:
        if line.startswith("# "):
            break
        rows.append(line.split("\t"))
    return rows


def test_status_shows_each_source_s_last_success_error_next_run_rows_and_rejects(
    stack: SandboxStack,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    schedulers: Callable[[Path], Scheduler],
) -> None:
    path = org_file(stack, tmp_path, db_url, {"jira": FAST, "github": OFF, "cluster": FAST})
    # a cluster source that cannot even start: no stream runs to record its error
    data = yaml.safe_load(path.read_text())
    namespaces = data["sources"]["cluster"]["namespaces"]
    missing = tmp_path / "no-such-kubeconfig"
    data["sources"]["cluster"] = {"kubeconfig": str(missing), "namespaces": namespaces}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    s = schedulers(path)
    wait_for(lambda: finished(engine, "jira"), "a jira run", 60, s)
    wait_for(lambda: finished(engine, "cluster", "failed"), "a failed cluster run", 60, s)
    assert s.stop() == 0, s.output()

    shown = subprocess.run(
        [sys.executable, "-m", "teamtide.cli", "--config", str(path), "status"],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    config = load_config(path)
    with Session(engine) as session:
        states = list(session.scalars(select(models.SyncState)))
    upcoming = stored_next_runs(engine)

    def when(moment: dt.datetime | None, otherwise: str = "never") -> str:
        return (
            moment.astimezone(config.org.tz).strftime("%Y-%m-%d %H:%M %Z") if moment else otherwise
        )

    rows = {tuple(r[:3]): r for r in table_rows(shown.stdout, "sources")}
    assert set(rows) == {(st.source, st.stream, st.partition) for st in states}, shown.stdout
    for st in states:
        *_key, success, error, next_run, n, rejects, _kept = rows[
            st.source, st.stream, st.partition
        ]
        assert success == when(st.last_success)
        assert next_run == when(upcoming[f"teamtide-{st.source}"]) != "not scheduled"
        assert (n, rejects) == (str(st.rows), str(st.rejects))
        if st.source == "jira":
            # rows: of its last run, which may be an incremental one that found none
            assert success != "never" and error == ""
            assert count(engine, models.WorkItem) > 0
        else:  # recorded on the source's own row
            assert (st.stream, st.partition, success) == ("", "", "never")
            assert "Invalid kube-config" in error, error
    jobs = {r[0]: r for r in table_rows(shown.stdout, "scheduled jobs (teamtide schedule)")}
    assert set(jobs) == {"jira", "cluster"}
    for job, outcome in (("jira", "ok"), ("cluster", "failed")):
        mine = runs(engine, job)
        assert jobs[job][2] == mine[-1].outcome, jobs  # the latest run's outcome
        assert outcome in [r.outcome for r in mine], [(r.outcome, r.detail) for r in mine]
        assert mine[-1].outcome == outcome or stopped_on_request(mine[-1]), jobs
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+", jobs["jira"][4]), jobs


def test_a_run_that_loses_its_lease_stops_after_its_page_and_says_so(
    stack: SandboxStack,
    reference: dict[str, Any],
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A lease renewed every 0.2 s instead of every 20 s, so the loss is noticed quickly.
    monkeypatch.setattr(scheduler, "LEASE", dt.timedelta(seconds=1.2))
    path = org_file(
        stack, tmp_path, db_url, {"jira": FAST, "github": OFF, "cluster": OFF}, page_size=PAGE
    )
    prepare_database(load_config(path))
    stack.state.set_faults("jira", slow_seconds=SLOW)
    run = threading.Thread(target=scheduler.run_job, args=(str(path), "jira"))
    run.start()
    try:
        wait_for(lambda: count(engine, models.WorkItem) >= PAGE, "a stored page", 60)
        # another scheduler took the job (say this one was paused past its lease)
        with engine.begin() as conn:
            conn.execute(
                models.JobLock.__table__.update()
                .where(models.JobLock.name == "jira")
                .values(holder="thief")
            )
    finally:
        run.join(timeout=30)
    assert not run.is_alive(), "the run went on without its lease"
    [record] = runs(engine, "jira")
    assert record.outcome == "failed" and "lost the lease" in (record.detail or ""), record
    kept = count(engine, models.WorkItem)
    assert kept < len(jira_part(reference)["work_items"]) and kept % PAGE == 0, kept
    with engine.connect() as conn:  # the thief's lease is left alone
        assert conn.scalar(select(models.JobLock.holder)) == "thief"


def test_the_default_schedule_is_every_30_30_and_5_minutes_and_monday_at_8_00() -> None:
    """Jira and GitHub every 30 minutes, the cluster every 5, the report Monday 08:00 local."""
    config = Config.model_validate({"org": {"timezone": "Europe/Dublin"}})
    triggers = {name: scheduler.trigger(getattr(config.schedule, name), config) for name in JOBS}
    assert {n: t.interval for n, t in triggers.items() if n != "report"} == {
        "jira": dt.timedelta(minutes=30),
        "github": dt.timedelta(minutes=30),
        "cluster": dt.timedelta(minutes=5),
    }
    wednesday = dt.datetime(2025, 6, 25, 12, 0, tzinfo=dt.UTC)
    # Monday 08:00 in Dublin, which keeps summer time (UTC+1) in June
    due = triggers["report"].get_next_fire_time(None, wednesday)
    assert due == dt.datetime(2025, 6, 30, 7, 0, tzinfo=dt.UTC)
    assert due.astimezone(config.org.tz).strftime("%a %H:%M") == "Mon 08:00"


@pytest.mark.parametrize(
    ("report", "leads", "scheduled"),
    [
        ({}, [], False),  # nobody to send to
        ({"recipients": ["dir@acme.example"]}, [], True),
        ({"per_team_lead": True}, ["Ada Byrne"], True),  # team leads alone are an audience
        ({"per_team_lead": True}, [], False),
    ],
)
def test_the_report_is_scheduled_when_someone_would_receive_it(
    report: dict[str, object], leads: list[str], scheduled: bool
) -> None:
    config = Config.model_validate(
        {
            "org": {
                "teams": [{"name": "Infra", "leads": leads}],
                "people": [{"name": "Ada Byrne", "emails": ["ada@acme.example"]}],
            },
            "report": report,
        }
    )
    assert ("report" in scheduler.jobs(config)) is scheduled


def test_the_demo_schedules_the_report_to_store_it_even_with_nobody_to_send_to() -> None:
    """`store_reports` (the demo): the weekly job without recipients; nothing to retry, though."""
    nobody = Config.model_validate({})
    assert "report" not in scheduler.jobs(nobody)
    assert set(scheduler.jobs(nobody, store_reports=True)) == {"report"}
    someone = Config.model_validate({"report": {"recipients": ["dir@acme.example"]}})
    assert scheduler.jobs(someone, store_reports=True) == scheduler.jobs(someone)
    off = Config.model_validate({"schedule": {"report": {"enabled": False}}})
    assert scheduler.jobs(off, store_reports=True) == {}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_scheduler_built_not_to_run_at_once_waits_for_each_job_s_schedule(
    stack: SandboxStack, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    """The demo has just synced: its scheduler's first syncs come one interval later, the
    report on its weekday; the store (Data health, `teamtide status`) shows those runs."""
    path = org_file(stack, tmp_path, db_url, {"jira": {"every_minutes": 5}, "cluster": OFF})
    config = load_config(path)
    prepare_database(config)
    before = dt.datetime.now(dt.UTC)
    with scheduler.running(config, path, engine, store_reports=True, run_at_once=False) as sched:
        due = {job.name: job.next_run_time for job in sched.get_jobs()}
        assert not scheduler.STOP.is_set()
    after = dt.datetime.now(dt.UTC)
    assert scheduler.STOP.is_set()  # a run still going would have been asked to stop
    assert set(due) == {"jira", "github", "report"}
    assert before + dt.timedelta(minutes=5) <= due["jira"] <= after + dt.timedelta(minutes=5)
    assert before + dt.timedelta(minutes=30) <= due["github"] <= after + dt.timedelta(minutes=30)
    monday = due["report"].astimezone(config.org.tz)
    assert (monday.strftime("%a %H:%M"), monday > before) == ("Mon 08:00", True)
    with engine.connect() as conn:
        stored = queries.next_runs(conn)
    assert stored.keys() == {f"teamtide-{name}" for name in due}
    assert all(abs(stored[f"teamtide-{n}"] - due[n]) < dt.timedelta(milliseconds=1) for n in due)
    assert runs(engine) == []  # nothing ran


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_report_job_with_nobody_to_send_to_stores_the_week_and_sends_nothing(
    stack: SandboxStack, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    path = org_file(stack, tmp_path, db_url, {})
    config = load_config(path)
    assert not config.report.recipients and config.report.webhook_url is None
    prepare_database(config)
    assert scheduler.run_job(str(path), "report") == "ok"
    [record] = runs(engine, "report")
    assert record.outcome == "ok" and "not sent" in (record.detail or ""), record
    with engine.connect() as conn:
        stored = queries.report_list(conn)
        assert [r["period"] for r in stored] == [record.detail.split(":")[0]]  # last week's
        assert conn.scalar(select(func.count()).select_from(models.ReportDelivery)) == 0
