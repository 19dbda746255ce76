"""How a command fails: one line that says what went wrong and where, never a traceback.

Every `teamtide` command runs inside `explain` (through the command group in `cli.py`),
so a database that cannot be reached or used, or a file that cannot be written, ends the
command with one line and an exit code a script can act on:

- exit 2, **bad input**: what the org file or the command line says is wrong, and no
  retry will help (a database URL with no driver, a SQLite directory that does not
  exist, a file that is not a database, a PostgreSQL role or database that does not
  exist, credentials the server rejects);
- exit 1, **a dependency is unavailable**: the database host does not resolve, its port
  refuses connections, the connection times out or drops, the database file is
  read-only, locked, or its disk is full.

A database is named by its org-file key and where it is (host and port, or the file's
path), its URL shown only through `redact_url`: a password never reaches the terminal.
An exception this module does not recognise is a bug, and keeps its traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from config.display import redact_url

BAD_INPUT = 2
UNAVAILABLE = 1


@dataclass(frozen=True)
class Failure:
    message: str
    code: int


@dataclass(frozen=True)
class Database:
    """The database a command is using: its URL and the org-file key that names it."""

    url: str
    key: str = "database.url"
    config: Path | None = None  # the org file it comes from

    @property
    def label(self) -> str:
        place = f" in {self.config}" if self.config else ""
        return f"{self.key}{place}"

    @property
    def shown(self) -> str:
        return redact_url(self.url)

    @property
    def sqlite_path(self) -> Path | None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        database = str(parsed.database)
        if database.startswith("file:"):  # a SQLite URI: file:PATH?mode=...
            database = database.removeprefix("file:").split("?", 1)[0]
        return Path(database).expanduser().absolute()

    @property
    def host_port(self) -> str:
        parsed = make_url(self.url)
        host = parsed.host or "localhost"
        port = parsed.port or (5432 if parsed.get_backend_name() == "postgresql" else None)
        shown = f"[{host}]" if ":" in host else host
        return f"{shown}:{port}" if port else shown

    def scrub(self, text: str) -> str:
        """Driver messages do not echo the password; this makes sure of it."""
        password = make_url(self.url).password
        return text.replace(str(password), "***") if password else text


_database: ContextVar[Database | None] = ContextVar("teamtide_database", default=None)


def using(url: str, key: str = "database.url", config: Path | None = None) -> None:
    """Name the database the running command is about to open (for its error messages)."""
    _database.set(Database(url, key, config))


def forget() -> None:
    _database.set(None)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (a DBAPI error's `orig`) and what caused it, once each."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def explain(exc: BaseException) -> Failure | None:
    """One line and an exit code for an exception a person can act on; None for a bug."""
    db = _database.get()
    for cause in _chain(exc):
        found = _explain_one(cause, db)
        if found is not None:
            return found
    return None


def _explain_one(exc: BaseException, db: Database | None) -> Failure | None:
    from db.session import MissingDatabase

    if isinstance(exc, MissingDatabase):
        where = f" ({db.label})" if db else ""
        if not exc.path.parent.is_dir():
            return Failure(
                f"no SQLite database at {exc.path}{where}: its directory {exc.path.parent} "
                "does not exist",
                BAD_INPUT,
            )
        return Failure(
            f"no SQLite database at {exc.path}{where}: `teamtide init` creates it", BAD_INPUT
        )
    if db is not None:
        if isinstance(exc, sqlite3.Error):
            return _sqlite(exc, db)
        if _is_psycopg(exc):
            return _postgresql(exc, db)
        if isinstance(exc, ArgumentError) and not isinstance(exc, DBAPIError):
            return Failure(
                f"{db.label}: {db.shown} cannot be opened ({db.scrub(_first_line(exc))}); "
                "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
                BAD_INPUT,
            )
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return Failure(
                f"{db.label}: the database driver for {db.shown} is not installed "
                f"(no module {exc.name}); use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
                BAD_INPUT,
            )
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or _first_line(exc)
        code = BAD_INPUT if isinstance(exc, FileNotFoundError | NotADirectoryError) else UNAVAILABLE
        return Failure(f"{exc.filename}: {reason}", code)
    return None


def _is_psycopg(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "psycopg"


def _sqlite(exc: sqlite3.Error, db: Database) -> Failure:
    path = db.sqlite_path
    text = _first_line(exc)
    where = f"the SQLite database {path or db.shown} ({db.label})"
    low = text.lower()
    if "not a database" in low:
        return Failure(
            f"{path or db.shown} ({db.label}) is not a SQLite database ({text})", BAD_INPUT
        )
    if "unable to open database file" in low and path is not None:
        if path.is_dir():
            return Failure(f"{where} is a directory, not a database file", BAD_INPUT)
        if not path.parent.is_dir():
            return Failure(
                f"{where} cannot be opened: its directory {path.parent} does not exist",
                BAD_INPUT,
            )
        return Failure(f"{where} cannot be opened ({text}): check its permissions", UNAVAILABLE)
    if "no such table" in low:
        return Failure(f"{where} has no teamtide tables ({text}): run `teamtide init`", BAD_INPUT)
    if "readonly" in low or "read-only" in low:
        return Failure(f"{where} is read-only ({text}): this command writes to it", UNAVAILABLE)
    if "locked" in low or "busy" in low:
        return Failure(f"{where} stayed locked by another process ({text}); try again", UNAVAILABLE)
    return Failure(f"{where}: {text}", UNAVAILABLE)


# libpq's words for a server that was named right but is not there now
_UNREACHABLE = {
    "failed to resolve host": "the host name does not resolve",
    "could not translate host name": "the host name does not resolve",
    "connection refused": "connection refused (is PostgreSQL running and listening there?)",
    "timeout expired": "the connection timed out",
    "timed out": "the connection timed out",
    "no route to host": "no route to the host",
    "network is unreachable": "the network is unreachable",
    "server closed the connection": "the server closed the connection",
    "the database system is starting up": "the server is starting up",
    "the database system is shutting down": "the server is shutting down",
    "too many connections": "the server has no connection slot left",
}
# ...and for what only the org file (or the server's roles and databases) can fix
_REFUSED = (
    "password authentication failed",
    "no password supplied",
    "does not exist",
    "no pg_hba.conf entry",
    "authentication failed",
)
UNDEFINED_TABLE = "42P01"
READ_ONLY_TRANSACTION = "25006"


def _postgresql(exc: Any, db: Database) -> Failure:
    text = db.scrub(_first_line(exc))
    where = f"the database at {db.host_port} ({db.label}: {db.shown})"
    low = text.lower()
    state = getattr(exc, "sqlstate", None)
    if state == READ_ONLY_TRANSACTION:
        return Failure(
            f"{where} is read-only for this role ({text}): this command writes", UNAVAILABLE
        )
    if state == UNDEFINED_TABLE:
        return Failure(f"{where} has no teamtide tables ({text}): run `teamtide init`", BAD_INPUT)
    for words, reason in _UNREACHABLE.items():
        if words in low:
            return Failure(f"cannot reach {where}: {reason}", UNAVAILABLE)
    if state is None and any(words in low for words in _REFUSED):  # refused at connection
        detail = text.split("FATAL:", 1)[-1].strip()
        return Failure(f"{where} refused the connection: {detail}", BAD_INPUT)
    return Failure(f"{where}: {text}", UNAVAILABLE)
