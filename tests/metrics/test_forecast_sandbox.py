"""The load forecast on the `small` sandbox world: planted period and lead, accuracy, and its inputs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine

from benchmarks.loader import cached
from config.schema import Config
from db import queries
from metrics import reading
from metrics.facts import Facts
from metrics.forecast_teams import forecast_block
from metrics.frames import Frames
from metrics.samples import item_samples
from sandbox.world.generate import generate

SEED, END = 2, dt.date(2025, 6, 30)
NOW = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
ENGINEERS = ("Infra", "Enablement")


@pytest.fixture(scope="module")
def small() -> tuple[Frames, Config]:
    loaded = cached("small", SEED, END, progress=lambda _: None)
    config = loaded.config()
    engine = create_engine(loaded.db_url)
    with engine.connect() as conn:
        frames = Frames(
            **queries.metric_frames(conn, *reading.forecast_span(config, NOW), work_only=True)
        )
    engine.dispose()
    return frames, config


@pytest.fixture(scope="module")
def block(small: tuple[Frames, Config]) -> dict[str, Any]:
    frames, config = small
    return forecast_block(Facts.build(frames, config, NOW), None)


def _team(block: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in block["teams"] if t["team"] == name)


def test_the_forecast_finds_the_planted_period_and_lead(block: dict[str, Any]) -> None:
    truth = generate(SEED, "small", END).truth["demand"]
    for name in ENGINEERS:
        drivers = _team(block, name)["drivers"]
        assert drivers["period_weeks"] == truth["period_weeks"]  # 8
        assert drivers["serving"]["requesting_team"] == "Research"
        assert drivers["serving"]["lag_weeks"] == truth["lead_weeks"]  # 0
        # Demand in the same week is not known ahead of it: not a regressor (MIN_LAG).
        assert not drivers["serving"]["used"]


@pytest.mark.xfail(
    strict=True,
    reason="on the world that plants the reorg as a mechanism (engineers' lanes follow the "
    "demand their team serves), small seed 2 misses the issue's target: Infra MASE h1-4 "
    "0.80 0.80 0.82 0.81, Enablement MASE 0.60 0.60 0.62 0.61 with 80% coverage 0.73 0.67 "
    "0.70 0.68, 0.695 on average (medium seed 2 meets it; of 16 team-worlds, small and "
    "medium seeds 1-4, 3 meet it); see docs/metrics.md, 'Load forecast', 'Across worlds'",
)
def test_engineering_forecasts_beat_seasonal_naive_with_honest_intervals(
    block: dict[str, Any],
) -> None:
    # The target: MASE < 0.8 at horizons 1-4, 80% coverage in 70-90%
    # (`python -m benchmarks forecast` prints the table).
    for name in ENGINEERS:
        team = _team(block, name)
        near = team["backtest"]["horizons"][:4]
        assert team["model"] != "seasonal naive"
        assert all(h["mase"] < 0.8 for h in near), (name, near)
        coverage = np.mean([h["coverage_80"] for h in near])
        assert 0.7 <= coverage <= 0.9, (name, coverage)


def test_the_engineers_forecasts_are_the_models_and_infra_s_intervals_hold(
    block: dict[str, Any],
) -> None:
    """What holds on small today, so that a change that loses it shows: both engineering
    teams get the model (its backtest beats seasonal naive over the 12 horizons), and
    Infra's calibrated 80% intervals cover 70-90% of the outcomes at horizons 1-4."""
    for name in ENGINEERS:
        assert _team(block, name)["backtest"]["beats_naive"], name
    near = _team(block, "Infra")["backtest"]["horizons"][:4]
    assert 0.7 <= np.mean([h["coverage_80"] for h in near]) <= 0.9, near


def test_a_team_with_no_members_ahead_has_no_expected_load(block: dict[str, Any]) -> None:
    squad = _team(block, "Squad")  # dissolved in the reorg
    assert all(w["expected"] is None and w["members"] == 0 for w in squad["weeks"])


def test_future_memberships_scale_the_expected_load(small: tuple[Frames, Config]) -> None:
    frames, config = small
    before = _team(forecast_block(Facts.build(frames, config, NOW), ["Infra"]), "Infra")
    joining = pd.DataFrame(
        {
            "person": ["New A", "New B", "New C"],
            "team": ["Infra"] * 3,
            "valid_from": [dt.date(2025, 7, 14)] * 3,  # week 3 of the forecast
            "valid_to": [None] * 3,
        }
    )
    grown = dataclasses.replace(
        frames, memberships=pd.concat([frames.memberships, joining], ignore_index=True)
    )
    after = _team(forecast_block(Facts.build(grown, config, NOW), ["Infra"]), "Infra")
    now_members = after["drivers"]["members_now"]
    assert after["drivers"]["headcount_changes"][0] == {
        "week": "2025-07-14",
        "members": pytest.approx(before["weeks"][2]["members"] + 3),
    }
    # Weeks 1-2 unchanged; from week 3 the same work is shared by 3 more people:
    # expected x members / (members + 3).
    assert after["weeks"][0]["expected"] == pytest.approx(before["weeks"][0]["expected"])
    for k in range(2, 12):
        ratio = before["weeks"][k]["members"] / after["weeks"][k]["members"]
        assert after["weeks"][k]["expected"] == pytest.approx(
            before["weeks"][k]["expected"] * ratio
        )
    assert now_members == before["drivers"]["members_now"]


def test_committed_work_raises_the_next_sprint_when_it_exceeds_the_usual(
    small: tuple[Frames, Config],
) -> None:
    frames, config = small
    none = frames.items.assign(sprint=None)
    base = _team(
        forecast_block(
            Facts.build(dataclasses.replace(frames, items=none), config, NOW), ["Infra"]
        ),
        "Infra",
    )
    assert base["drivers"]["committed_items"] == 0
    facts = Facts.build(frames, config, NOW)
    todo = facts.items[~facts.items["done"] & facts.items["started_at"].isna()]
    infra = facts.frames.memberships
    member = infra.loc[(infra["team"] == "Infra") & infra["valid_to"].isna(), "person"].iloc[0]
    # 400 new items in a sprint, not started, assigned to one Infra member: a big commitment.
    template = frames.items[frames.items["item_id"] == todo["item_id"].iloc[0]]
    extra = pd.concat([template] * 400, ignore_index=True)
    extra["item_id"] = np.arange(400) + 10_000_000
    extra["key"] = [f"ENG-{k}" for k in extra["item_id"]]
    extra["assignee"] = member
    extra["sprint"] = "Sprint 99"
    items = pd.concat([none, extra], ignore_index=True)
    loaded = _team(
        forecast_block(
            Facts.build(dataclasses.replace(frames, items=items), config, NOW), ["Infra"]
        ),
        "Infra",
    )
    committed = loaded["drivers"]["committed_items"]
    assert committed == 400
    # The floor: committed x median active hours over 2 weeks, per member-hour.
    samples = item_samples(facts)
    median = float(samples.loc[samples["team"] == "Infra", "active_hours"].median())
    for k in (0, 1):
        floor = committed * median / 2 / (loaded["weeks"][k]["members"] * 168)
        assert loaded["weeks"][k]["expected"] == pytest.approx(
            max(base["weeks"][k]["expected"], floor)
        )
    assert loaded["weeks"][0]["expected"] > base["weeks"][0]["expected"]
    # Beyond the sprint committed work changes nothing.
    assert loaded["weeks"][5]["expected"] == pytest.approx(base["weeks"][5]["expected"])
