"""Engines and sessions from a database URL; SQLite is tuned for one writer and many readers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the dashboard read while a sync writes; the busy timeout makes a second
    # writer wait instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
    from db.upsert import ROWS_PER_STATEMENT

    kwargs.setdefault("insertmanyvalues_page_size", ROWS_PER_STATEMENT)
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if readonly and parsed.database not in (None, "", ":memory:"):
            url = f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_readonly_pragmas if readonly else _sqlite_pragmas)
        return engine
    connect_args = kwargs.pop("connect_args", {})
    if readonly:
        connect_args.setdefault("options", "-c default_transaction_read_only=on")
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed at the end, rolled back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
