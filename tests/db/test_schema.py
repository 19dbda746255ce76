"""The schema, its migrations and the bulk upsert, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_mock_engine, func, inspect, select
from sqlalchemy.orm import Session

from db import models
from db.migrate import current_revision, head_revision, upgrade
from db.session import make_engine
from db.upsert import dialect_insert, upsert


def test_migrations_create_every_model_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(models.Base.metadata.tables) <= tables
    assert current_revision(engine) == head_revision()


def test_migrations_match_the_models_exactly(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
    # Types compare loosely across dialects; any table, column or index drift shows here.
    structural = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert structural == []


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    before, after = upgrade(engine)
    assert before == after == head_revision()


def test_upsert_inserts_then_updates_on_the_key(engine: Engine) -> None:
    t0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    rows = [
        {"source": "jira", "key": f"ENG-{i}", "created_at": t0, "status": "To Do", "labels": ["a"]}
        for i in range(5000)
    ]
    with engine.begin() as conn:
        ids = upsert(conn, models.WorkItem, rows, ["source", "key"], returning=["id", "key"])
    assert len(ids) == 5000
    assert [key for _, key in ids[:3]] == ["ENG-0", "ENG-1", "ENG-2"]  # parameter order kept

    changed = [dict(row, status="Done") for row in rows[:10]]
    with engine.begin() as conn:
        again = upsert(conn, models.WorkItem, changed, ["source", "key"], returning=["id", "key"])
        count = conn.execute(select(func.count()).select_from(models.WorkItem)).scalar_one()
        done = conn.execute(
            select(func.count()).where(models.WorkItem.status == "Done")
        ).scalar_one()
    assert dict((k, i) for i, k in again) == {k: i for i, k in ids[:10]}  # same rows, same ids
    assert (count, done) == (5000, 10)


def test_upsert_with_no_update_columns_keeps_existing_rows(engine: Engine) -> None:
    t0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    row = {"source": "jira", "key": "DS-1", "created_at": t0, "summary": "first"}
    with engine.begin() as conn:
        upsert(conn, models.WorkItem, [row], ["source", "key"])
        upsert(conn, models.WorkItem, [dict(row, summary="second")], ["source", "key"], update=())
        summary = conn.execute(select(models.WorkItem.summary)).scalar_one()
    assert summary == "first"


def test_the_dialect_insert_is_the_engines_with_on_conflict_on_any_bind(engine: Engine) -> None:
    """One helper for every `INSERT ... ON CONFLICT`: an engine, a connection or a session."""
    stmt = dialect_insert(engine, models.JobLock)
    assert type(stmt).__module__.startswith(f"sqlalchemy.dialects.{engine.dialect.name}")
    t0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(stmt.values(name="a", holder="h", expires_at=t0))
        again = dialect_insert(conn, models.JobLock.__table__).values(
            name="a", holder="other", expires_at=t0
        )
        conn.execute(again.on_conflict_do_nothing(index_elements=["name"]))
    with Session(engine) as session:
        assert dialect_insert(session, models.JobLock).table is models.JobLock.__table__
        assert session.scalar(select(models.JobLock.holder)) == "h"
    with pytest.raises(NotImplementedError, match="SQLite and PostgreSQL, not mysql"):
        dialect_insert(create_mock_engine("mysql://", executor=None), models.JobLock)  # type: ignore[arg-type]


def test_timestamps_come_back_as_the_same_utc_instant(engine: Engine) -> None:
    dublin = dt.timezone(dt.timedelta(hours=1))
    local = dt.datetime(2025, 6, 2, 9, 30, tzinfo=dublin)
    with engine.begin() as conn:
        upsert(
            conn,
            models.WorkItem,
            [{"source": "jira", "key": "X-1", "created_at": local}],
            ["source", "key"],
        )
        stored = conn.execute(select(models.WorkItem.created_at)).scalar_one()
    assert stored == local
    assert stored.utcoffset() == dt.timedelta(0)


def test_processes_upgrading_one_empty_database_at_once_all_succeed(db_url: str) -> None:
    """Four schedulers starting together: the schema is created once, nobody fails.

    Each process waits for a common instant after its imports, so the connections and
    the upgrades really overlap (on SQLite that once failed the WAL switch with
    "database is locked").
    """
    import subprocess
    import sys
    import time

    from db.migrate import head_revision

    script = (
        "import sys, time; from db.session import make_engine; from db.migrate import upgrade\n"
        "start = float(sys.argv[2])\n"
        "while time.time() < start: time.sleep(0.0005)\n"
        "print(upgrade(make_engine(sys.argv[1])))"
    )
    start = time.time() + 4
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    errors = "\n".join(err for _, err in outputs if err.strip())
    assert [run.returncode for run in runs] == [0] * 4, errors
    head = head_revision()
    # One created the schema; the others found it current.
    befores = sorted(out.strip() for out, _ in outputs)
    assert befores == sorted([f"(None, '{head}')"] + [f"('{head}', '{head}')"] * 3)


def test_opening_a_new_database_while_another_process_writes_to_it_waits(tmp_path: Path) -> None:
    """The WAL switch on connect waits for a writer instead of failing at once.

    SQLite refuses the switch immediately ("database is locked", no busy handler) while
    another connection holds a write transaction on a database still in rollback mode:
    exactly what two processes opening one new file at the same moment run into.
    """
    import sqlite3
    import threading

    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (a)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, writer.execute, ["COMMIT"]).start()
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
        rows = conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one()
    engine.dispose()
    writer.close()
    assert (mode, rows) == ("wal", 1)
