"""Database leases: one holder at a time, taken over after expiry or once its process exited."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from db import locks

ROOT = Path(__file__).resolve().parents[2]
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


def exited_process_holder() -> str:
    """The holder name a process of this machine used before it exited."""
    done = subprocess.run(
        [sys.executable, "-c", "from db.locks import process_holder; print(process_holder())"],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_lease_whose_holder_process_exited_is_taken_over_before_it_expires(
    engine: Engine,
) -> None:
    crashed = exited_process_holder()
    assert locks.acquire(engine, "jira", crashed, LEASE, T0)
    later = T0 + dt.timedelta(seconds=10)
    assert not locks.acquire(engine, "jira", "B", LEASE, later)  # without asking: wait
    assert locks.acquire(engine, "jira", "B", LEASE, later, dead=locks.holder_is_dead)
    assert not locks.renew(engine, "jira", crashed, LEASE, later)


def test_only_an_exited_process_of_this_machine_counts_as_dead() -> None:
    assert locks.holder_is_dead(exited_process_holder())
    assert not locks.holder_is_dead(locks.process_holder())  # this very process
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            mine = locks.process_holder().split(":")
            mine[1] = str(child.pid)
            assert not locks.holder_is_dead(":".join(mine))  # alive
        finally:
            child.kill()
    host, pid, namespace, run = exited_process_holder().split(":")
    assert not locks.holder_is_dead(f"elsewhere:{pid}:{namespace}:{run}")  # another machine
    assert not locks.holder_is_dead(f"{host}:{pid}:1:{run}")  # another pid namespace
    assert not locks.holder_is_dead(f"cli:{host}:{pid}:{run}")  # not a scheduler's holder
    assert not locks.holder_is_dead("A")


def test_two_takers_of_a_dead_holder_s_lease_cannot_both_win(engine: Engine) -> None:
    assert locks.acquire(engine, "jira", "A", LEASE, T0)
    later = T0 + dt.timedelta(seconds=10)

    def dead_but_c_is_quicker(holder: str) -> bool:
        # while B is deciding that A is dead, C takes the lease over from A first
        assert locks.acquire(engine, "jira", "C", LEASE, later, dead=lambda h: h == "A")
        return holder == "A"

    assert not locks.acquire(engine, "jira", "B", LEASE, later, dead=dead_but_c_is_quicker)
    assert not locks.acquire(engine, "jira", "B", LEASE, later)
    assert locks.renew(engine, "jira", "C", LEASE, later)
