"""Alembic environment: runs on the connection `db.migrate` hands over, or on `sqlalchemy.url`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)


# Tables other libraries own in the same database (APScheduler's job store).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def _run(connection: object) -> None:
    # batch mode lets later migrations alter tables on SQLite, which has no ALTER COLUMN.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
