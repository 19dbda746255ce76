"""Shared fixtures: databases (SQLite and a real PostgreSQL), a fixed `now`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pg
import pytest
import synced
from sqlalchemy import Engine

from config import redaction
from db.migrate import upgrade
from db.session import make_engine

FIXED_NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts with a redactor that knows no secret: one process runs many org files."""
    redaction.forget()
    yield
    redaction.forget()


@pytest.fixture
def now() -> dt.datetime:
    return FIXED_NOW


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One fresh PostgreSQL database for the whole run (tests then take a schema each)."""
    with pg.server_url() as server, pg.fresh_database(server) as url:
        yield url


_pg_engines: dict[str, object] = {}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'teamtide.db'}"
    return pg.fresh_schema_url(request.getfixturevalue("pg_database"), _pg_engines)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database on each backend."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def synced_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[synced.SyncedWorld]:
    """The tiny sandbox world, served and synced into SQLite once for the whole run."""
    world = synced.synced_world(tmp_path_factory.mktemp("synced"))
    yield world
    world.stack.stop()
