"""REST and GraphQL store the same rows: one sandbox world synced both ways, every table compared.

Each path syncs the organisation into a database of its own (SQLite, and PostgreSQL for
the `engine` fixture's second run); then the world moves on four days and both sync
again, so the incremental path is compared too. Every table is read whole, without
surrogate ids (a review's parent is named by repository and number) and without the
moments a row was written, and compared row by row.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from github_sync import END, TOKEN_VAR, config_for, sync
from sqlalchemy import Engine, select

from db import models
from db.migrate import upgrade
from db.session import make_engine
from sandbox.server import Sandbox
from sandbox.world.generate import generate

# When a row was written, not what it says: differs between any two runs.
WRITTEN = {"id", "first_seen", "last_started", "last_success", "at", "stored_at"}


def tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, rows sorted, without surrogate ids and writing times."""
    pulls = {}
    with engine.connect() as conn:
        for pr_id, repo, number in conn.execute(
            select(models.PullRequest.id, models.PullRequest.repo, models.PullRequest.number)
        ):
            pulls[pr_id] = (repo, number)
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in models.Base.metadata.sorted_tables:
            names = [c.name for c in table.columns if c.name not in WRITTEN]
            rows = []
            for row in conn.execute(select(table)).mappings():
                values = {name: row[name] for name in names}
                if "pr_id" in values:
                    values["pr_id"] = pulls[values["pr_id"]]
                rows.append(tuple(repr(values[name]) for name in names))
            out[table.name] = sorted(rows)
    return out


@pytest.fixture
def both(engine: Engine) -> Iterator[dict[str, Engine]]:
    """The `engine` fixture's database for GraphQL, a fresh one of the same kind for REST."""
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tempfile.mkdtemp()}/rest.db")
        upgrade(other)
    else:
        other = make_engine(engine.url)  # PostgreSQL: a second schema of the same database
        with other.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS parity_rest CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA parity_rest")
        other.dispose()
        other = make_engine(engine.url.update_query_dict({"options": "-csearch_path=parity_rest"}))
        upgrade(other)
    yield {"graphql": engine, "rest": other}
    other.dispose()


def test_rest_and_graphql_store_identical_rows_first_and_incremental(
    both: dict[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = generate(1, "tiny", end=END)
    with Sandbox(world) as sandbox:
        monkeypatch.setenv(TOKEN_VAR, sandbox.state.tokens["github"])
        for api, engine in both.items():
            results = sync(engine, config_for(sandbox, api=api))
            assert [r.error for r in results if r.error] == [], api
        first = {api: tables(engine) for api, engine in both.items()}
        assert first["rest"]["pull_requests"] and first["rest"]["reviews"]
        assert first["graphql"] == first["rest"]

        sandbox.advance(world.clock + dt.timedelta(days=4))
        for api, engine in both.items():
            results = sync(engine, config_for(sandbox, api=api))
            assert [r.error for r in results if r.error] == [], api
        again = {api: tables(engine) for api, engine in both.items()}
        assert again["rest"]["pull_requests"] != first["rest"]["pull_requests"]  # it moved
        assert again["graphql"] == again["rest"]
