"""The dashboard's loaders: person-level rows only for the viewer's teams, aggregates without names."""

from __future__ import annotations

import datetime as dt

import pytest
from rollup_check import rounded

from dashboard import data
from metrics.weeks import previous_period
from tests.dashboard.conftest import END, START


@pytest.fixture
def window(synced_world, expected, monkeypatch):
    monkeypatch.setenv("TEAMTIDE_CONFIG", str(synced_world.config_path))
    return (synced_world.db_url, str(synced_world.config_path), START, END, expected.now)


def member_weeks(config, team: str) -> set[tuple[str, dt.date]]:
    """(person, Monday) pairs where the org file makes the person a member of `team` that week."""
    out = set()
    for person in config.org.people:
        for m in person.memberships:
            if m.team != team:
                continue
            day, last = max(m.from_, START - dt.timedelta(days=7)), min(m.to or END, END)
            while day <= last:
                out.add((person.name, day - dt.timedelta(days=day.weekday())))
                day += dt.timedelta(days=1)
    return out


def test_the_aggregate_report_names_nobody(window):
    report = data.summary(*window)
    assert all(not t["people"] for t in report["teams"])
    assert all(t["concentration"]["top1_person"] is None for t in report["teams"])
    assert data.tables(*window)["load_weekly"]["person"].isna().all()


def test_person_allocation_holds_only_the_viewers_teams_and_their_members_then(window, expected):
    people = data.people_allocation(*window, frozenset({"Infra"}))
    assert not people.empty and set(people["team"]) == {"Infra"}
    allowed = member_weeks(expected.config, "Infra")
    assert set(zip(people["person"], people["week"], strict=True)) <= allowed


def test_aggregates_only_means_no_person_rows_anywhere(window):
    nobody = frozenset()
    assert data.people_allocation(*window, nobody).empty
    assert data.people_items(*window, nobody, "Infra").empty
    assert data.people_load(*window, nobody).empty
    assert data.people_ageing(*window, nobody).empty
    assert data.people_concentration(*window, nobody) == {}


def test_items_of_a_team_are_listed_only_for_a_viewer_of_that_team(window):
    assert data.people_items(*window, frozenset({"Research"}), "Infra").empty
    items = data.people_items(*window, frozenset({"Infra"}), "Infra")
    assert not items.empty and items["key"].notna().all()


def test_person_load_keeps_only_the_weeks_a_person_was_in_the_team(window, expected):
    loads = data.people_load(*window, frozenset({"Squad", "Infra"}))
    assert set(loads["team"]) == {"Squad", "Infra"}
    for team in ("Squad", "Infra"):
        mine = loads[loads["team"] == team]
        assert set(zip(mine["person"], mine["week"], strict=True)) <= member_weeks(
            expected.config, team
        )


def test_support_requests_for_everyone_carry_no_person_columns(window):
    requests = data.support(*window)["requests"]
    assert not requests.empty
    assert not {"reporter", "serving_person", "assignee"} & set(requests.columns)


def test_the_previous_period_from_shared_facts_matches_its_own_computation(
    window, synced_world, expected
):
    from db.session import make_engine
    from metrics import reading

    first, last = previous_period(START, END)
    engine = make_engine(synced_world.db_url, readonly=True)
    with engine.connect() as conn:
        own = reading.summary(conn, expected.config, first, last, None, expected.now)
    engine.dispose()
    # (from the rollups, which sum in another order: equal to 12 significant digits)
    shared, own = rounded(data.previous_summary(*window)), rounded(own)
    for mine, theirs in zip(shared["teams"], own["teams"], strict=True):
        assert mine["allocation"] == theirs["allocation"]
        assert mine["turnaround"] == theirs["turnaround"]
        assert mine["support"] == theirs["support"]
        assert mine["load"] == theirs["load"]
    assert shared["reorgs"] == own["reorgs"]


def test_the_report_equals_teamtide_metrics_though_the_reorg_periods_are_read_apart(
    window, expected
):
    mine, theirs = rounded(data.summary(*window)), rounded(expected.report)
    for team, their in zip(mine["teams"], theirs["teams"], strict=True):
        their = {**their, "people": []}
        their["concentration"] = {**their["concentration"], "top1_person": None}
        assert team == their
    assert {k: v for k, v in mine.items() if k != "teams"} == {
        k: v for k, v in theirs.items() if k != "teams"
    }
    assert mine["reorgs"]  # the tiny world has one


def test_pages_without_the_reorgs_get_the_same_figures_less_them(window):
    bare = data.summary(*window, with_reorgs=False)
    assert bare == {**data.summary(*window), "reorgs": []}
    assert data.previous_summary(*window, with_reorgs=False) == {
        **data.previous_summary(*window),
        "reorgs": [],
    }
    assert data.tables(*window, with_reorgs=False)["reorgs"].empty


def test_the_dashboard_reads_the_window_and_the_period_before_it_then_the_reorgs_apart(
    window, expected
):
    from metrics import reading

    url, config_file, start, end, now = window
    config = expected.config
    first, _ = previous_period(start, end)
    lo, hi = reading.window_span(config, first, end, now)
    found = data.facts(*window).frames.items
    assert (found["done_at"].dropna() >= lo).all() and (found["created_at"] <= hi).all()
    reorg_lo, reorg_hi = reading.reorg_span(config, now)
    # `teamtide metrics` reads the window and the reorg periods at once
    own_lo, own_hi = reading.window_span(config, start, end, now)
    assert reading.read_span(config, start, end, now) == (
        min(own_lo, reorg_lo),
        max(own_hi, reorg_hi),
    )
    reorg_items = data.reorg_facts(url, config_file, now).frames.items
    assert (reorg_items["done_at"].dropna() >= reorg_lo).all()


def test_uncategorized_lists_the_work_items_alive_in_the_window_only(
    window, synced_world, expected
):
    from db.session import make_engine
    from metrics import reading

    _, _, start, end, now = window
    engine = make_engine(synced_world.db_url, readonly=True)
    with engine.connect() as conn:
        span = reading.window_span(expected.config, start, end, now)
        own = reading.facts_between(conn, expected.config, span, now)
    engine.dispose()
    keys = own.items.loc[own.items["category"] == "uncategorized", "key"]
    assert sorted(data.uncategorized(*window)["key"]) == sorted(keys)
