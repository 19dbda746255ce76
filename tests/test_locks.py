"""Database leases: one holder at a time, taken over only after expiry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from db import locks

T0 = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=2)


def test_a_held_lease_is_refused_to_another_holder_until_it_expires(engine: Engine) -> None:
    assert locks.acquire(engine, "jira", "A", LEASE, T0)
    assert not locks.acquire(engine, "jira", "B", LEASE, T0 + dt.timedelta(minutes=1))
    assert locks.acquire(engine, "github", "B", LEASE, T0)  # other jobs are independent
    assert locks.acquire(
        engine, "jira", "B", LEASE, T0 + dt.timedelta(minutes=3)
    )  # A's lease ran out
    assert not locks.renew(engine, "jira", "A", LEASE, T0 + dt.timedelta(minutes=3))


def test_renewing_keeps_the_lease_and_release_frees_it(engine: Engine) -> None:
    assert locks.acquire(engine, "jira", "A", LEASE, T0)
    assert locks.renew(engine, "jira", "A", LEASE, T0 + dt.timedelta(minutes=1, seconds=30))
    assert not locks.acquire(
        engine, "jira", "B", LEASE, T0 + dt.timedelta(minutes=3)
    )  # renewed to 3:30
    locks.release(engine, "jira", "A")
    assert locks.acquire(engine, "jira", "B", LEASE, T0 + dt.timedelta(minutes=3))
