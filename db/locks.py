"""Leases in the database: a job runs in one process at a time, even with two started by mistake.

The scheduler takes one per job; `teamtide sync` takes the same lease per source, so a
manual sync beside the scheduler (or a second manual sync) waits its turn instead of
writing the same rows at the same moment.

A lease is a row in `job_locks` that names its holder and expires; taking it is one
atomic `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired` on SQLite and PostgreSQL
alike, and the holder renews it while working, so a crashed holder's lease simply runs
out and the next run takes over. A holder made by `process_holder` also says which
process it is, so a scheduler restarted on the same machine after a crash (kill -9, OOM)
takes over at once from a holder that provably no longer exists instead of waiting for
its lease to run out.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, delete, select, update

from db import models
from db.upsert import dialect_insert

# host:pid:pid-namespace:run, e.g. "ds-box:4242:4026531836:1f2e3d4c"
_HOLDER_PARTS = 4
# A job's lease (a source's sync, the weekly report) lasts this long unless renewed:
# the scheduler and `teamtide sync` take the same ones.
JOB_LEASE = dt.timedelta(minutes=2)


def _pid_namespace() -> str:
    """The kernel's id of this process's pid namespace ("" where there is none to read).

    Two containers can share a host name (host networking) yet number their processes
    separately: a pid means something only within its namespace.
    """
    try:
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:[").removesuffix("]")
    except OSError:
        return ""


def process_holder() -> str:
    """A fresh holder name for one run, naming this machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_pid_namespace()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True only when `holder` names a process of this machine and namespace that has exited.

    Anything else (another machine, another format, a process that is alive or whose pid
    was reused) is presumed alive: its lease is then only taken once it expires.
    """
    parts = holder.rsplit(":", _HOLDER_PARTS - 1)
    if len(parts) != _HOLDER_PARTS:
        return False
    host, pid, namespace, _run = parts
    if host != socket.gethostname() or not namespace or namespace != _pid_namespace():
        return False
    if not pid.isdigit() or int(pid) == os.getpid():
        return False  # our own process: alive, whatever its run
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return False
    return False


def acquire(
    engine: Engine,
    name: str,
    holder: str,
    lease: dt.timedelta,
    now: dt.datetime,
    *,
    dead: Callable[[str], bool] | None = None,
) -> bool:
    """Take the lease `name` for `holder` unless someone else holds an unexpired one.

    With `dead`, an unexpired lease whose holder `dead(holder)` says has exited is taken
    over too; the takeover names the old holder, so two takers cannot both win.
    """
    table = models.JobLock.__table__
    stmt = dialect_insert(engine, table).values(name=name, holder=holder, expires_at=now + lease)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=(table.c.expires_at < now) | (table.c.holder == holder),
    ).returning(table.c.holder)
    with engine.begin() as conn:
        got = conn.execute(stmt).scalar()
    if got == holder:
        return True
    if dead is None:
        return False
    j = models.JobLock
    with engine.connect() as conn:
        current = conn.scalar(select(j.holder).where(j.name == name))
    if current is None or not dead(current):
        return False
    with engine.begin() as conn:
        taken = conn.execute(
            update(j)
            .where(j.name == name, j.holder == current)
            .values(holder=holder, expires_at=now + lease)
        )
    return taken.rowcount == 1


def renew(engine: Engine, name: str, holder: str, lease: dt.timedelta, now: dt.datetime) -> bool:
    """Extend a lease we hold; False if it was lost (expired and taken by another)."""
    j = models.JobLock
    with engine.begin() as conn:
        done = conn.execute(
            update(j).where(j.name == name, j.holder == holder).values(expires_at=now + lease)
        )
    return done.rowcount == 1


def release(engine: Engine, name: str, holder: str) -> None:
    with engine.begin() as conn:
        release_in(conn, name, holder)


def release_in(conn: Connection, name: str, holder: str) -> None:
    """Release inside the caller's transaction, so that what it records ends as the lease does."""
    j = models.JobLock
    conn.execute(delete(j).where(j.name == name, j.holder == holder))


def current_holder(engine: Engine, name: str) -> str | None:
    """Who holds the lease `name` now (expired or not), or None."""
    j = models.JobLock
    with engine.connect() as conn:
        return conn.scalar(select(j.holder).where(j.name == name))


def describe_holder(holder: str) -> str:
    """A holder made by `process_holder` in words: "process 4242 on ds-box"."""
    parts = holder.rsplit(":", _HOLDER_PARTS - 1)
    if len(parts) != _HOLDER_PARTS:
        return holder
    host, pid, _namespace, _run = parts
    return f"process {pid} on {host}"


@dataclass
class Held:
    """A lease taken by `hold`: `lost` is set once it could not be kept (stop, then)."""

    name: str
    holder: str
    lost: threading.Event = field(default_factory=threading.Event)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextmanager
def hold(
    engine: Engine,
    name: str,
    lease: dt.timedelta,
    *,
    wait: float = 0.0,
    poll: float = 1.0,
    holder: str | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Held | None]:
    """Hold the lease `name` for the block, renewed while inside; yields None if not taken.

    A lease held by someone else is waited for, up to `wait` seconds, asking again every
    `poll` seconds (`on_wait(holder)` is told once who holds it); a holder of this
    machine whose process exited is taken over at once. Inside, a thread renews the
    lease; when that fails until the lease would have run out, `Held.lost` is set: the
    work must stop, since someone else may take over. The lease is released at the end.
    """
    holder = holder or process_holder()
    deadline = time.monotonic() + wait
    told = False
    while not acquire(engine, name, holder, lease, _utcnow(), dead=holder_is_dead):
        if time.monotonic() >= deadline:
            yield None
            return
        if on_wait is not None and not told:
            on_wait(current_holder(engine, name) or "someone")
            told = True
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))
    held = Held(name, holder)
    done = threading.Event()
    renewer = threading.Thread(
        target=_keep, args=(engine, held, lease, done), name=f"lease-{name}", daemon=True
    )
    renewer.start()
    try:
        yield held
    finally:
        done.set()
        renewer.join()
        release(engine, name, holder)


def _keep(engine: Engine, held: Held, lease: dt.timedelta, done: threading.Event) -> None:
    """Renew `held` until `done`; a renewal that fails is retried until the lease runs out."""
    expires = _utcnow() + lease
    while not done.wait(lease.total_seconds() / 6):
        try:
            if renew(engine, held.name, held.holder, lease, _utcnow()):
                expires = _utcnow() + lease
                continue
        except Exception:  # the database briefly away: try again while the lease lasts
            if _utcnow() < expires - lease / 6:
                continue
        held.lost.set()
        return
