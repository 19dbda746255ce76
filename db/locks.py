"""Leases in the database: a job runs on one scheduler at a time, even with two started by mistake.

A lease is a row in `job_locks` that names its holder and expires; taking it is one
atomic `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired` on SQLite and PostgreSQL
alike, and the holder renews it while working, so a crashed holder's lease simply runs
out and the next run takes over.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from db import models


def _insert(engine: Engine):
    return (
        postgresql.insert(models.JobLock)
        if engine.dialect.name == "postgresql"
        else sqlite.insert(models.JobLock)
    )


def acquire(engine: Engine, name: str, holder: str, lease: dt.timedelta, now: dt.datetime) -> bool:
    """Take the lease `name` for `holder` unless someone else holds an unexpired one."""
    table = models.JobLock.__table__
    stmt = _insert(engine).values(name=name, holder=holder, expires_at=now + lease)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=(table.c.expires_at < now) | (table.c.holder == holder),
    ).returning(table.c.holder)
    with engine.begin() as conn:
        got = conn.execute(stmt).scalar()
    return got == holder


def renew(engine: Engine, name: str, holder: str, lease: dt.timedelta, now: dt.datetime) -> bool:
    """Extend a lease we hold; False if it was lost (expired and taken by another)."""
    j = models.JobLock
    with engine.begin() as conn:
        done = conn.execute(
            update(j).where(j.name == name, j.holder == holder).values(expires_at=now + lease)
        )
    return done.rowcount == 1


def release(engine: Engine, name: str, holder: str) -> None:
    j = models.JobLock
    with engine.begin() as conn:
        conn.execute(delete(j).where(j.name == name, j.holder == holder))
