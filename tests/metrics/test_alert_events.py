"""Alert events from hand-made forecasts and requests: entering a state, a forecast flood, SLA breaches."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from config.schema import Alerts, Load
from metrics.alert_events import forecast_events, load_events, sla_events

MONDAYS = ["2025-06-02", "2025-06-09", "2025-06-16", "2025-06-23"]


def team(loads: list[float | None], p_flood: list[float] | None = None) -> dict[str, Any]:
    return {
        "team": "Infra",
        "model": "state-space (local level)",
        "history": [{"week": w, "load": x} for w, x in zip(MONDAYS, loads, strict=True)],
        "weeks": [
            {"week": f"2025-07-{7 * k:02d}", "p_flood": p}
            for k, p in enumerate(p_flood or [], start=1)
        ],
        "backtest": {"mase_mean": 0.6},
    }


def test_entering_a_flood_is_an_event_of_the_week_it_entered() -> None:
    # baseline = median(1, 1, 1, 3) = 1; flood from 1.5: the last week (3) is a flood,
    # the one before (1) was normal.
    (event,) = load_events(team([1.0, 1.0, 1.0, 3.0]), Load())
    assert (event.kind, event.week, event.value) == ("flood", "2025-06-23", 3.0)
    assert event.key == "Infra|flood|2025-06-23"


def test_staying_in_a_flood_is_no_new_event() -> None:
    # baseline = median(1, 1, 3, 3) = 2; flood from 3: both last weeks are floods.
    assert load_events(team([1.0, 1.0, 3.0, 3.0]), Load()) == []


def test_entering_a_drought_is_an_event() -> None:
    # baseline = median(2, 2, 2, 0.5) = 2; drought at 1 or less: 0.5 is one.
    (event,) = load_events(team([2.0, 2.0, 2.0, 0.5]), Load())
    assert (event.kind, event.week) == ("drought", "2025-06-23")


def test_a_forecast_flood_is_keyed_by_its_first_likely_week() -> None:
    settings = Alerts(enabled=True, flood_probability=0.7, within_weeks=3)
    (event,) = forecast_events(team([1.0] * 4, [0.2, 0.75, 0.9, 0.99]), settings)
    assert (event.kind, event.week, event.value) == ("forecast-flood", "2025-07-14", 0.75)
    # beyond `within_weeks` nothing counts
    late = Alerts(enabled=True, flood_probability=0.95, within_weeks=3)
    assert forecast_events(team([1.0] * 4, [0.2, 0.75, 0.9, 0.99]), late) == []


def requests(breached: list[bool], created: str = "2025-06-24T10:00:00Z") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": range(len(breached)),
            "serving_team": "Infra",
            "created_at": pd.Timestamp(created),
            "resolution_breach": breached,
        }
    )


MONDAY = dt.date(2025, 6, 23)
START = pd.Timestamp("2025-06-23", tz="UTC")


def test_sla_breaches_above_the_rate_are_an_event() -> None:
    settings = Alerts(enabled=True, sla_breach_rate=0.25)
    # 2 of 4 breached = 50% > 25%
    (event,) = sla_events(requests([True, True, False, False]), "Infra", MONDAY, START, settings)
    assert (event.kind, event.week, event.value) == ("sla", "2025-06-23", 0.5)
    assert event.detail == {"requests": 4, "breached": 2}
    # exactly at the rate is not above it
    at_rate = Alerts(enabled=True, sla_breach_rate=0.5)
    assert sla_events(requests([True, True, False, False]), "Infra", MONDAY, START, at_rate) == []


def test_too_few_or_older_requests_make_no_sla_event() -> None:
    settings = Alerts(enabled=True, sla_breach_rate=0.25)
    assert sla_events(requests([True, True]), "Infra", MONDAY, START, settings) == []
    last_week = requests([True] * 4, created="2025-06-20T10:00:00Z")
    assert sla_events(last_week, "Infra", MONDAY, START, settings) == []
    off = Alerts(enabled=True, sla_breach_rate=None)
    assert sla_events(requests([True] * 4), "Infra", MONDAY, START, off) == []
