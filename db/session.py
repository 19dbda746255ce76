"""Engines and sessions from a database URL; SQLite is tuned for one writer and many readers."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# libpq waits forever by default for a server that accepts and never answers (a dead
# proxy, a firewall that swallows packets): a command would hang instead of failing.
PG_CONNECT_TIMEOUT_S = 10


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # The busy timeout makes a second writer wait instead of failing with "database is
    # locked"; WAL lets the dashboard read while a sync writes.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Switch a new database to WAL, waiting out another process doing the same.

    Two processes opening one new file at once (two schedulers, or `init` beside the
    dashboard) can each hold a read lock while asking for the exclusive lock the switch
    needs. SQLite sees the deadlock and fails one at once without calling the busy
    handler; the other finishes in milliseconds, after which the switch is a no-op.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_readonly_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and pick the psycopg 3 driver we install."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, readonly: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`; `readonly` refuses every write in the database itself.

    SQLite is then opened with `mode=ro` (the file can't be written or created) plus
    `query_only`; PostgreSQL sessions start with `default_transaction_read_only=on`, a
    guard against accidents that a read-only role (README: "Sign-in and roles") makes a
    guarantee.
    """
    from db.upsert import ROWS_PER_STATEMENT

    kwargs.setdefault("insertmanyvalues_page_size", ROWS_PER_STATEMENT)
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if readonly and parsed.database not in (None, "", ":memory:"):
            parsed = _sqlite_readonly_url(parsed)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_readonly_pragmas if readonly else _sqlite_pragmas)
        return engine
    connect_args = dict(kwargs.pop("connect_args", {}))
    given_timeout = "connect_timeout" in connect_args or "connect_timeout" in parsed.query
    if not given_timeout and "PGCONNECT_TIMEOUT" not in os.environ:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    if readonly:
        # libpq takes one `options` string: keep the URL's (a search_path, say) and add ours;
        # an explicit `options` also hides $PGOPTIONS, so carry that over too
        given = connect_args.get("options", parsed.query.get("options"))
        if given is None:
            given = os.environ.get("PGOPTIONS", "")
        if isinstance(given, tuple):
            given = " ".join(given)
        connect_args["options"] = f"{given} -c default_transaction_read_only=on".strip()
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args, **kwargs)


class MissingDatabase(FileNotFoundError):
    """A SQLite database a reader was pointed at that does not exist (nothing is created)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database at {path}: `teamtide init` creates it")
        self.path = path


def _sqlite_readonly_url(parsed: URL) -> URL:
    """The same file as a SQLite URI with `mode=ro`: writing fails, and a missing file isn't made."""
    database = str(parsed.database)
    if parsed.query.get("uri") in ("true", "1") and database.startswith("file:"):
        return parsed.update_query_dict({"mode": "ro"})  # already a URI: just make it read-only
    path = Path(database).expanduser().resolve()
    if not path.exists():
        # mode=ro would only say "unable to open database file"
        raise MissingDatabase(path)
    return parsed.set(database=f"file:{pathname2url(str(path))}").update_query_dict(
        {"mode": "ro", "uri": "true"}
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed at the end, rolled back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session
