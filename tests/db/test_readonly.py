"""The dashboard's connection can't write: SQLite opened `mode=ro`, PostgreSQL read-only, and the README's role."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from config.load import load_config
from db.migrate import upgrade
from db.session import make_engine

README = Path(__file__).resolve().parents[2] / "README.md"

WRITES = (
    "INSERT INTO teams (name, kind) VALUES ('Intruders', 'other')",
    "UPDATE teams SET kind = 'other'",
    "DELETE FROM teams",
    "CREATE TABLE stolen (x integer)",
    "DROP TABLE teams",
)


def team_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM teams ORDER BY name")).scalars())


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO teams (name, kind) VALUES ('Infra', 'infra')"))
    return engine


@pytest.mark.parametrize("statement", WRITES)
def test_a_readonly_engine_reads_but_refuses_every_write(
    seeded: Engine, db_url: str, statement: str
) -> None:
    reader = make_engine(db_url, readonly=True)
    try:
        assert team_names(reader) == ["Infra"]
        with pytest.raises(DBAPIError) as caught, reader.begin() as conn:
            conn.execute(text(statement))
        # SQLite: "attempt to write a readonly database"; PostgreSQL: SQLSTATE 25006
        message = str(caught.value.orig).lower()
        assert "readonly" in message or "read-only" in message, message
        assert team_names(seeded) == ["Infra"]
    finally:
        reader.dispose()


def test_a_readonly_engine_sees_what_the_writer_commits_later(seeded: Engine, db_url: str) -> None:
    reader = make_engine(db_url, readonly=True)
    try:
        assert team_names(reader) == ["Infra"]
        with seeded.begin() as conn:
            conn.execute(text("INSERT INTO teams (name, kind) VALUES ('Research', 'research')"))
        assert team_names(reader) == ["Infra", "Research"]
    finally:
        reader.dispose()


# --- SQLite -----------------------------------------------------------------------------


def test_sqlite_read_only_holds_even_when_the_session_turns_query_only_off(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'teamtide.db'}"
    writer = make_engine(url)
    upgrade(writer)
    reader = make_engine(url, readonly=True)
    try:
        with reader.connect() as conn:
            assert conn.execute(text("PRAGMA query_only")).scalar() == 1
            conn.execute(text("PRAGMA query_only = OFF"))  # what a careless query could do
            with pytest.raises(OperationalError, match="readonly database"):
                conn.execute(text("INSERT INTO teams (name, kind) VALUES ('X', 'other')"))
        # the file itself was opened read-only: the driver's own connection says so
        raw = reader.raw_connection()
        try:
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                raw.driver_connection.execute("CREATE TABLE t (x)")  # type: ignore[union-attr]
        finally:
            raw.close()
    finally:
        reader.dispose()
        writer.dispose()


def test_sqlite_read_only_does_not_create_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "teamtide.db"
    with pytest.raises(FileNotFoundError, match="teamtide init"):
        make_engine(f"sqlite:///{missing}", readonly=True)
    assert not missing.exists() and not missing.parent.exists()


def test_sqlite_read_only_opens_a_path_with_uri_characters(tmp_path: Path) -> None:
    # '#' and spaces mean something in a SQLite URI: the path must be quoted ('?' and '%' can't
    # be in a SQLAlchemy URL's path at all)
    folder = tmp_path / "odd # name"
    folder.mkdir()
    url = f"sqlite:///{folder / 'team tide.db'}"
    writer = make_engine(url)
    upgrade(writer)
    with writer.begin() as conn:
        conn.execute(text("INSERT INTO teams (name, kind) VALUES ('Infra', 'infra')"))
    reader = make_engine(url, readonly=True)
    try:
        assert team_names(reader) == ["Infra"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["odd # name"]  # no stray file
    finally:
        reader.dispose()
        writer.dispose()


def test_sqlite_read_only_of_a_relative_path_is_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    writer = make_engine("sqlite:///teamtide.db")
    upgrade(writer)
    reader = make_engine("sqlite:///teamtide.db", readonly=True)
    try:
        assert team_names(reader) == []
    finally:
        reader.dispose()
        writer.dispose()


# --- PostgreSQL -------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_read_only_keeps_the_urls_own_options(pg_database: str) -> None:
    # the test URLs carry `options=-csearch_path=...`: read-only must add to it, not replace it
    schema = f"ro_{uuid.uuid4().hex[:8]}"
    url = make_url(pg_database).update_query_dict({"options": f"-csearch_path={schema}"})
    reader = make_engine(url.render_as_string(hide_password=False), readonly=True)
    try:
        with reader.connect() as conn:
            assert conn.execute(text("SHOW search_path")).scalar() == schema
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
    finally:
        reader.dispose()


def readme_reader_sql() -> list[str]:
    """The statements of the README's read-only role block, in order."""
    body = README.read_text()
    section = body[body.index("### A read-only PostgreSQL role") :]
    block = re.search(r"```sql\n(.*?)```", section, re.S)
    assert block, "the README's read-only role section has no sql block"
    lines = [line for line in block.group(1).splitlines() if not line.startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


@pytest.fixture
def reader_role(pg_database: str) -> Iterator[tuple[str, str, str]]:
    """The README's role made for real (unique names: roles are server-wide): (admin, reader, schema)."""
    admin_url = make_url(pg_database)
    suffix = uuid.uuid4().hex[:8]
    reader, writer, schema = f"teamtide_reader_{suffix}", f"teamtide_writer_{suffix}", f"s_{suffix}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # the writer owns the schema and its tables, as the collectors' role would
        conn.execute(text(f"CREATE ROLE {writer} LOGIN"))
        conn.execute(text(f"CREATE SCHEMA {schema} AUTHORIZATION {writer}"))
        writer_url = admin_url.set(username=writer).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        writer_engine = make_engine(writer_url.render_as_string(hide_password=False))
        upgrade(writer_engine)
        with writer_engine.begin() as wconn:
            wconn.execute(text("INSERT INTO teams (name, kind) VALUES ('Infra', 'infra')"))
        for statement in readme_reader_sql():
            statement = re.sub(r"\bteamtide_reader\b", reader, statement)
            statement = re.sub(r"\bteamtide_writer\b", writer, statement)
            statement = re.sub(
                r"\bDATABASE teamtide\b", f'DATABASE "{admin_url.database}"', statement
            )
            statement = re.sub(r"\bSCHEMA public\b", f"SCHEMA {schema}", statement)
            conn.execute(text(statement))
        # a table a later migration adds, created after the grants, by the writer
        with writer_engine.begin() as wconn:
            wconn.execute(text("CREATE TABLE later_table (x integer)"))
            wconn.execute(text("INSERT INTO later_table VALUES (1)"))
        writer_engine.dispose()
    reader_url = admin_url.set(username=reader, password=None).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    try:
        yield pg_database, reader_url.render_as_string(hide_password=False), schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            for role in (reader, writer):
                conn.execute(text(f"DROP OWNED BY {role}"))
                conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


@pytest.mark.postgres
def test_the_readme_reader_role_reads_every_table_and_writes_none(
    reader_role: tuple[str, str, str],
) -> None:
    _, reader_url, _ = reader_role
    # a plain engine, not make_engine's read-only session: the role alone must hold
    reader = create_engine(reader_url)
    try:
        with reader.connect() as conn:
            assert conn.execute(text("SELECT name FROM teams")).scalars().all() == ["Infra"]
            assert conn.execute(text("SELECT count(*) FROM later_table")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        for statement in WRITES:
            with pytest.raises(ProgrammingError) as caught, reader.begin() as conn:
                conn.execute(text("SET TRANSACTION READ WRITE"))
                conn.execute(text(statement))
            # SQLSTATE 42501: insufficient privilege (for DROP: not the owner)
            assert caught.value.orig is not None
            assert caught.value.orig.sqlstate == "42501", (statement, caught.value.orig)
    finally:
        reader.dispose()


@pytest.mark.postgres
def test_the_dashboard_engine_on_the_reader_role_reads(reader_role: tuple[str, str, str]) -> None:
    _, reader_url, _ = reader_role
    engine = make_engine(reader_url, readonly=True)
    try:
        assert team_names(engine) == ["Infra"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_dashboard_connects_as_the_readonly_role_the_org_file_names(
    reader_role: tuple[str, str, str], tmp_path: Path
) -> None:
    from dashboard import data

    writer_url, reader_url, _ = reader_role
    org = tmp_path / "org.yaml"
    org.write_text(f"database: {{url: '{writer_url}', readonly_url: '{reader_url}'}}\n")
    config = load_config(org)
    context = data.Context(config, str(org), dt.date(2026, 1, 5))
    engine = data.engine(context.url)
    with engine.connect() as conn:
        user = conn.execute(text("SELECT current_user")).scalar()
    assert user == make_url(reader_url).username  # the role that can write nothing (above)


def test_teamtide_metrics_reads_through_the_readonly_url(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from teamtide.cli import app

    database = tmp_path / "teamtide.db"
    upgrade(make_engine(f"sqlite:///{database}"))
    org = tmp_path / "org.yaml"
    # the writer's URL names a server that is not there: only the reader's can serve
    org.write_text(
        "database: {url: 'postgresql+psycopg://nobody@127.0.0.1:1/none', "
        f"readonly_url: 'sqlite:///{database}'}}\n"
        "org: {teams: [{name: Infra}]}\n"
    )
    result = CliRunner().invoke(
        app, ["--config", str(org), "metrics", "--from", "2026-01-05", "--to", "2026-01-11"]
    )
    assert result.exit_code == 0, result.output
    assert '"teams"' in result.output
