"""Leases in the database: a job runs on one scheduler at a time, even with two started by mistake.

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
import uuid
from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete, select, update

from db import models
from db.upsert import dialect_insert

# host:pid:pid-namespace:run, e.g. "ds-box:4242:4026531836:1f2e3d4c"
_HOLDER_PARTS = 4


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
