"""The schema, its migrations and the bulk upsert, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select

from db import models
from db.migrate import current_revision, head_revision, upgrade
from db.upsert import upsert


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


def test_two_processes_upgrading_one_empty_database_at_once_both_succeed(db_url: str) -> None:
    import subprocess
    import sys

    script = (
        "import sys; from db.session import make_engine; from db.migrate import upgrade; "
        "print(upgrade(make_engine(sys.argv[1])))"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    befores = sorted(out.strip() for out, _ in outputs)
    from db.migrate import head_revision

    head = head_revision()
    # One created the schema; the other found it current.
    assert befores == sorted([f"(None, '{head}')", f"('{head}', '{head}')"])
