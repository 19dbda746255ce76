"""The whole pipeline on a served world: sandbox -> collectors -> database -> metrics.

`teamtide metrics` over the synced `small` world must recover what the generator
planted (`teamtide sandbox truth`), within the tolerances the metrics issue sets, and
the same tiny world synced into PostgreSQL must give the same report as SQLite.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import synced
from sqlalchemy import create_engine

from collectors.org import prepare_database
from collectors.sync import sync
from metrics import reading
from sandbox.world.truth import truth_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[synced.SyncedWorld]:
    world = synced.synced_world(tmp_path_factory.mktemp("small"), scale="small")
    yield world
    world.stack.stop()


def report_of(world: synced.SyncedWorld, url: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return reading.summary(conn, world.config, start, end, None, world.world.clock)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def reports(small: synced.SyncedWorld) -> tuple[dict[str, Any], dict[str, Any]]:
    truth = truth_report(small.world)
    start, end = dt.date.fromisoformat(truth["from"]), dt.date.fromisoformat(truth["to"])
    return report_of(small, small.db_url, start, end), truth


def test_allocation_shares_are_within_3_points_of_the_planted_truth(reports):
    mine, truth = reports
    teams = {t["team"]: t for t in mine["teams"]}
    checked = 0
    for planted in truth["teams"]:
        got = teams[planted["team"]]["allocation"]["share"]
        for category, share in planted["allocation"]["share"].items():
            if share is None:  # a team with no members in the window
                assert got[category] is None, (planted["team"], category)
                continue
            assert abs(got[category] - share) <= 0.03, (planted["team"], category, got, share)
            checked += 1
    assert checked >= 4 * 6  # every category of at least four teams


def test_org_allocation_shares_are_within_3_points_of_the_planted_truth(reports):
    mine, truth = reports
    got, planted = mine["org"], truth["org"]
    assert got["team"] == planted["team"] == "(all)"
    assert got["teams"] == planted["teams"]
    want = planted["allocation"]["share"]
    assert list(got["allocation"]["share"]) == list(want)  # every category, zeros included
    for category, share in want.items():
        assert abs(got["allocation"]["share"][category] - share) <= 0.03, (category, got, share)


def test_the_reorg_speeds_up_support_resolution_significantly(reports):
    mine, truth = reports
    [reorg] = mine["reorgs"]
    [planted] = truth["reorgs"]
    assert reorg["date"] == planted["date"]
    row = next(
        c
        for c in reorg["comparisons"]
        if c["team"] == "Research" and c["metric"] == "requested_support_resolution_hours"
    )
    want = next(
        c
        for c in planted["comparisons"]
        if c["team"] == "Research" and c["metric"] == "requested_support_resolution_hours"
    )
    assert math.copysign(1, row["change"]) == math.copysign(1, want["change"]) == -1
    assert row["p_value"] < 0.05
    assert row["ci95"][0] <= row["change"] <= row["ci95"][1] < 0


def test_flood_and_drought_weeks_follow_the_planted_demand_cycle(reports):
    mine, truth = reports
    teams = {t["team"]: t for t in mine["teams"]}
    for planted in truth["teams"]:
        got = teams[planted["team"]]["load"]
        want_states = {w["week"]: w["state"] for w in planted["load"]["weekly"]}
        got_states = {w["week"]: w["state"] for w in got["weekly"]}
        assert got_states.keys() == want_states.keys()
        agree = sum(got_states[w] == s for w, s in want_states.items())
        # A week whose load sits on a band's edge may fall either side of it.
        assert agree >= len(want_states) - 2, (planted["team"], agree, len(want_states))
        assert abs(got["flood_weeks"] - planted["load"]["flood_weeks"]) <= 1
        assert abs(got["drought_weeks"] - planted["load"]["drought_weeks"]) <= 1


@pytest.mark.postgres
def test_postgresql_gives_the_same_report_as_sqlite(
    synced_world: synced.SyncedWorld, pg_database: str, tmp_path: Path
) -> None:
    import pg

    url = pg.fresh_schema_url(pg_database, {})
    config = synced_world.config.model_copy(
        update={"database": synced_world.config.database.model_copy(update={"url": url})}
    )
    engine, _ = prepare_database(config)
    outcomes = sync(engine, config, now=lambda: synced_world.world.clock)
    engine.dispose()
    assert not [o for o in outcomes if o.failed]
    start, end = dt.date(2025, 4, 1), dt.date(2025, 6, 29)
    on_pg = report_of(synced_world, url, start, end)
    on_sqlite = report_of(synced_world, synced_world.db_url, start, end)
    assert on_pg["teams"] and on_pg.keys() == on_sqlite.keys()
    # Sums taken in another row order differ in the last bits; nothing more may.
    assert differences(on_pg, on_sqlite) == []


def differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two JSON-like values differ, floats compared to 1e-9 relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d for k in a.keys() | b.keys() for d in differences(a.get(k), b.get(k), f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [(path, a, b)]
    return [] if a == b else [(path, a, b)]


def test_the_weekly_rollups_of_small_give_the_full_computation_for_random_windows(small):
    # The synced world's rollups were refreshed right after its sync, as `teamtide sync`
    # does; over the whole of `small`, random windows and teams read from them give the
    # report computed from the facts (tests/metrics/test_rollup.py says how they compare).
    from rollup_check import assert_same_reports

    engine = create_engine(small.db_url)
    try:
        assert assert_same_reports(engine, small.config, seed=20) > 0
    finally:
        engine.dispose()
