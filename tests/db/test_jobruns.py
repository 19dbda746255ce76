"""The scheduler's job-run records on SQLite and PostgreSQL: runs, abandoned runs, moments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from db import jobruns, locks, models, queries
from db.session import session_scope

T0 = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)


def _runs(engine: Engine) -> list[tuple]:
    r = models.JobRun
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(r.job, r.holder, r.outcome, r.finished_at.is_not(None)).order_by(r.id)
            )
        ]


def test_a_run_is_started_finished_and_releases_its_lease(engine: Engine) -> None:
    assert locks.acquire(engine, "jira", "A", dt.timedelta(minutes=2), T0)
    run = jobruns.start(engine, "jira", "A", T0)
    assert _runs(engine) == [("jira", "A", None, False)]
    jobruns.finish(
        engine, run, "ok", "12 rows", T0 + dt.timedelta(minutes=1), lease="jira", holder="A"
    )
    assert _runs(engine) == [("jira", "A", "ok", True)]
    # the lease went with the record: another holder takes it at once
    assert locks.acquire(engine, "jira", "B", dt.timedelta(minutes=2), T0 + dt.timedelta(minutes=1))
    with session_scope(engine) as session:
        last = queries.last_job_runs(session)["jira"]
        assert (last.outcome, last.detail) == ("ok", "12 rows")


def test_starting_closes_the_runs_another_holder_left_unfinished(engine: Engine) -> None:
    jobruns.start(engine, "jira", "A", T0)
    jobruns.start(engine, "github", "A", T0)  # another job: left alone
    jobruns.start(engine, "jira", "B", T0 + dt.timedelta(minutes=5))
    assert _runs(engine) == [
        ("jira", "A", "abandoned", True),
        ("github", "A", None, False),
        ("jira", "B", None, False),
    ]


def test_an_attempt_that_did_not_run_is_a_moment(engine: Engine) -> None:
    jobruns.record(engine, "report", "C", "skipped", "another scheduler is running this job", T0)
    r = models.JobRun
    with engine.connect() as conn:
        started, finished = conn.execute(select(r.started_at, r.finished_at)).one()
    assert started == finished == T0
    assert _runs(engine) == [("report", "C", "skipped", True)]
