"""The benchmarks' direct loader gives the database a real sync over HTTP gives.

`benchmarks/loader.py` turns a generated world into rows without sockets (sandbox
handlers in-process, then the collectors' own streams). Its figures mean something
only if its database is the synced one: on `tiny`, `teamtide metrics` (`reading.report`)
must agree with the database `tests/synced.py` syncs through the whole sandbox stack,
every number to 1e-9, and so must the row counts of every table the metrics read.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
import synced
from sqlalchemy import create_engine, func, select

from benchmarks import loader
from db import models
from metrics import reading

TABLES = (
    models.WorkItem,
    models.ItemTransition,
    models.ItemAssignment,
    models.ItemComment,
    models.PullRequest,
    models.Review,
    models.Status,
    models.Person,
    models.Membership,
)


def differences(a: Any, b: Any, path: str = "$") -> list[str]:
    """Where two JSON-like values differ (floats equal within 1e-9), as readable paths."""
    if isinstance(a, bool) or isinstance(b, bool):
        return [] if a is b else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, int | float) and isinstance(b, int | float):
        if math.isnan(a) and math.isnan(b):
            return []
        same = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        return [] if same else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())} in one only"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_differences_sees_a_changed_number_and_forgives_rounding():
    assert differences({"x": [1.0, {"y": 2.0}]}, {"x": [1.0 + 1e-12, {"y": 2.0}]}) == []
    assert differences({"x": [1.0, {"y": 2.0}]}, {"x": [1.0, {"y": 2.001}]}) == [
        "$.x[1].y: 2.0 != 2.001"
    ]
    assert differences({"a": None}, {"a": 0.0}) and differences([1], [1, 2])


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> loader.Loaded:
    directory = tmp_path_factory.mktemp("loaded")
    return loader.build("tiny", 1, synced.END, directory / "db", progress=lambda _: None)


def report(url: str, config: Any, start: dt.date, end: dt.date, now: dt.datetime) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return reading.summary(conn, config, start, end, None, now)
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in TABLES
            }
    finally:
        engine.dispose()


def test_the_loader_stores_as_many_rows_as_the_sync(synced_world, loaded):
    mine, theirs = counts(loaded.db_url), counts(synced_world.db_url)
    assert mine == theirs
    assert mine["work_items"] > 100 and mine["item_transitions"] > 500
    assert mine["pull_requests"] > 100 and mine["reviews"] > 100


@pytest.mark.parametrize("weeks", [None, 6])
def test_the_loaded_database_reports_what_the_synced_one_does(synced_world, loaded, weeks):
    world = synced_world.world
    end = world.clock.date() - dt.timedelta(days=1)
    start = world.start.date() if weeks is None else end - dt.timedelta(weeks=weeks)
    theirs = report(synced_world.db_url, synced_world.config, start, end, world.clock)
    mine = report(loaded.db_url, loaded.config(), start, end, loaded.clock)
    assert loaded.clock == world.clock
    assert differences(mine, theirs) == []
    # not vacuous: the window holds done items, reviewed pulls and support requests
    turnaround = [t["turnaround"] for t in mine["teams"]]
    assert sum(t["cycle_time_hours"]["n"] for t in turnaround) > 10
    assert sum(t["pr_first_review_hours"]["n"] for t in turnaround) > 10
    assert sum(t["support"]["n"] for t in mine["teams"]) > 0


def test_a_cached_database_is_reused_and_says_when_older_code_built_it(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(loader, "CACHE", tmp_path)
    notes: list[str] = []
    first = loader.cached("tiny", 1, synced.END, progress=notes.append)
    assert first.seconds > 0 and not first.stale
    assert (tmp_path / ".gitignore").read_text() == "*\n"
    again = loader.cached("tiny", 1, synced.END, progress=notes.append)
    assert again.seconds == 0 and again.directory == first.directory and not again.stale
    monkeypatch.setattr(loader, "code_digest", lambda: "changedcode0")
    notes.clear()
    older = loader.cached("tiny", 1, synced.END, progress=notes.append)
    assert older.directory == first.directory and older.stale and older.seconds == 0
    assert any("older collector/sandbox code" in n for n in notes)
    rebuilt = loader.cached("tiny", 1, synced.END, rebuild=True, progress=notes.append)
    assert rebuilt.seconds > 0 and not rebuilt.stale
    assert rebuilt.directory.name.endswith("-changedcode0")
    assert not first.directory.exists()  # the older database was removed
    assert (
        loader.cached("tiny", 1, synced.END, progress=notes.append).directory == rebuilt.directory
    )
