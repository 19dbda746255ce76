"""Saved what-if scenarios on SQLite and PostgreSQL: save, replace, list, read, delete."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from db import scenarios

T0 = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
BODY = {
    "name": "split",
    "moves": [{"person": "Ada Byrne", "team": "Infra", "from": "2025-03-03"}],
    "routes": [{"category": "DS support", "team": "Enablement", "from_team": None}],
    "allocation": [{"team": "Infra", "category": "Core development", "fte": 1.5}],
}


def test_a_saved_scenario_reads_back_as_it_was_written(engine: Engine) -> None:
    scenarios.save(engine, "split", "ada", BODY, T0)
    saved = scenarios.load(engine, "split")
    assert saved == scenarios.SavedScenario("split", "ada", T0, BODY)
    assert scenarios.load(engine, "nope") is None


def test_saving_under_the_same_name_replaces_and_the_list_is_newest_first(engine: Engine) -> None:
    scenarios.save(engine, "split", "ada", BODY, T0)
    scenarios.save(engine, "merge", "bo", {"name": "merge"}, T0 + dt.timedelta(hours=1))
    scenarios.save(engine, "split", "cy", {**BODY, "moves": []}, T0 + dt.timedelta(hours=2))
    listed = scenarios.listing(engine)
    assert [(s.name, s.author) for s in listed] == [("split", "cy"), ("merge", "bo")]
    assert listed[0].body["moves"] == []


def test_a_scenario_can_be_deleted_once(engine: Engine) -> None:
    scenarios.save(engine, "split", "ada", BODY, T0)
    assert scenarios.remove(engine, "split")
    assert not scenarios.remove(engine, "split")
    assert scenarios.listing(engine) == []
