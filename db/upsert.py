"""`INSERT ... ON CONFLICT` for SQLite and PostgreSQL: the one place that tells their inserts
apart (`dialect_insert`), and bulk upserts of thousands of rows per statement (`upsert`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# Rows per INSERT statement (`insertmanyvalues_page_size` of the engine); SQLAlchemy
# lowers it by itself where SQLite's or PostgreSQL's bound-parameter limit needs it.
ROWS_PER_STATEMENT = 2000
STORED_AT = "stored_at"  # set on every insert and update of a table that has it


def dialect_insert(bind: Engine | Connection | Session, table: Table | Any) -> Any:
    """An `INSERT` into `table` (or a mapped class) in the dialect of `bind`, so that it has
    `on_conflict_do_nothing` / `on_conflict_do_update` and `.excluded`: the two databases
    teamtide runs on spell these alike, but SQLAlchemy keeps them in separate dialects."""
    table = getattr(table, "__table__", table)
    dialect = bind.bind.dialect.name if isinstance(bind, Session) else bind.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert is implemented for SQLite and PostgreSQL, not {dialect}")


def upsert(
    conn: Connection | Session,
    table: Table | Any,
    rows: Sequence[Mapping[str, Any]],
    key: Iterable[str],
    *,
    update: Iterable[str] | None = None,
    returning: Iterable[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert rows, updating `update` columns (default: all but the key) where `key` exists.

    Rows must share one set of columns. With `update=()` existing rows are left as they
    are (`DO NOTHING`). `returning` columns come back for every inserted or updated row.
    """
    table = getattr(table, "__table__", table)
    if not rows:
        return []
    key = list(key)
    columns = list(rows[0].keys())
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError(
            f"upsert into {table.name}: every row must have the same columns as the first ({columns})"
        )
    update = [c for c in columns if c not in key] if update is None else list(update)
    if STORED_AT in table.c:
        # When a source's row was last written here (whatever the row says): what the
        # rollups refresh from, and how a reader knows they are behind.
        stored = dt.datetime.now(dt.UTC)
        rows = [{**row, STORED_AT: stored} for row in rows]
        if STORED_AT not in columns:
            update = [*update, STORED_AT] if update else update
    stmt = dialect_insert(conn, table)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=key, set_={name: stmt.excluded[name] for name in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key)
    ret_cols = [table.c[name] for name in returning]
    if ret_cols:
        stmt = stmt.returning(*ret_cols, sort_by_parameter_order=True)
    # An executemany: SQLAlchemy's "insertmanyvalues" sends it as multi-row VALUES
    # statements (ROWS_PER_STATEMENT rows each), compiled once.
    result = conn.execute(stmt, [dict(row) for row in rows])
    return [tuple(row) for row in result] if ret_cols else []
