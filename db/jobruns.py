"""The scheduler's record of its job runs in `job_runs`: one row per run or skipped attempt.

A run is an interval (`start`, then `finish`); an attempt that did not run (`skipped`,
`missed`) is a moment (`record`). `teamtide status` reads the latest of each job
(`db.queries.last_job_runs`). A run's detail (a sync's errors, a delivery's failures) is
redacted as it enters the database (`config.redaction`), then cut to `DETAIL_CHARS`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert, update

from config.redaction import redact
from db import locks, models

DETAIL_CHARS = 1000


def start(engine: Engine, job: str, holder: str, since: dt.datetime) -> int:
    """Record a run of `job` by `holder` from `since`; the run's id.

    In the same transaction, runs of this job that another holder left unfinished are
    closed as `abandoned` at `since` (the caller holds the lease, so theirs is forfeit).
    """
    r = models.JobRun
    with engine.begin() as conn:
        conn.execute(
            update(r)
            .where(r.job == job, r.finished_at.is_(None), r.holder != holder)
            .values(
                # over by then at the latest: their lease was already forfeit
                finished_at=since,
                outcome="abandoned",
                detail=f"its scheduler stopped without finishing it; taken over by {holder}",
            )
        )
        return conn.execute(
            insert(r).values(job=job, holder=holder, started_at=since).returning(r.id)
        ).scalar_one()


def record(
    engine: Engine, job: str, holder: str, outcome: str, detail: str, now: dt.datetime
) -> None:
    """An attempt that did not run (`skipped`, `missed`): a moment, not an interval."""
    with engine.begin() as conn:
        conn.execute(
            insert(models.JobRun).values(
                job=job,
                holder=holder,
                started_at=now,
                finished_at=now,
                outcome=outcome,
                detail=redact(detail, DETAIL_CHARS),
            )
        )


def finish(
    engine: Engine,
    run_id: int,
    outcome: str,
    detail: str | None,
    now: dt.datetime,
    *,
    lease: str,
    holder: str,
) -> None:
    """Record the end of a run and release its lease in one transaction."""
    with engine.begin() as conn:
        conn.execute(
            update(models.JobRun)
            .where(models.JobRun.id == run_id)
            .values(
                finished_at=now,
                outcome=outcome,
                detail=redact(detail, DETAIL_CHARS) if detail is not None else None,
            )
        )
        locks.release_in(conn, lease, holder)
