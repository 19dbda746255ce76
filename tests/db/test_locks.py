"""Database leases: one holder at a time, taken over after expiry or once its process exited."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, update

from db import locks, models

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


ELSEWHERE = "sched-box:4242:4026531836:1f2e3d4c"  # a scheduler on another machine: alive


def test_hold_waits_for_the_holder_to_finish_then_holds_and_releases(engine: Engine) -> None:
    assert locks.acquire(engine, "jira", ELSEWHERE, LEASE, dt.datetime.now(dt.UTC))
    told: list[str] = []
    releaser = threading.Timer(0.3, lambda: locks.release(engine, "jira", ELSEWHERE))
    releaser.start()
    with locks.hold(engine, "jira", LEASE, wait=30, poll=0.05, on_wait=told.append) as held:
        assert held is not None and not held.lost.is_set()
        assert locks.current_holder(engine, "jira") == held.holder
    releaser.join()
    assert told == [ELSEWHERE]  # said once who it waited for
    assert locks.describe_holder(told[0]) == "process 4242 on sched-box"
    assert locks.current_holder(engine, "jira") is None


def test_hold_gives_up_after_its_wait_and_leaves_the_lease_alone(engine: Engine) -> None:
    assert locks.acquire(engine, "jira", ELSEWHERE, LEASE, dt.datetime.now(dt.UTC))
    started = time.monotonic()
    with locks.hold(engine, "jira", LEASE, wait=0.3, poll=0.05) as held:
        assert held is None
    assert 0.3 <= time.monotonic() - started < 5
    assert locks.current_holder(engine, "jira") == ELSEWHERE


def test_a_held_lease_taken_by_another_is_reported_lost(engine: Engine) -> None:
    short = dt.timedelta(seconds=0.6)  # renewed every 0.1 s
    with locks.hold(engine, "jira", short) as held:
        assert held is not None
        with engine.begin() as conn:  # as if it had expired and another took it over
            conn.execute(
                update(models.JobLock).where(models.JobLock.name == "jira").values(holder=ELSEWHERE)
            )
        assert held.lost.wait(5)
    assert locks.current_holder(engine, "jira") == ELSEWHERE  # not ours to release
