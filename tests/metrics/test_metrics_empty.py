"""Every metric function accepts empty input and answers with an empty or zero-filled result."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics import allocation, compare, concentration, coupling, load, samples, support
from metrics.frames import Frames
from metrics.intervals import split_by_day
from metrics.membership import member_days, teams_at
from metrics.samples import ALL_TEAMS
from metrics.stats import describe
from metrics.summary import summary
from metrics.tables import summary_tables
from metrics.turnaround import first_reviews
from metrics.weeks import widen
from tests.metrics.metrics_world import org_config, ts

NOW = ts("2025-02-01 00:00")
WINDOW = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 19))


def test_every_function_accepts_empty_frames(world):
    facts = world.facts("2025-02-01 00:00")
    teams = ["Infra"]
    days = allocation.team_days(facts, WINDOW)
    assert days.empty and list(days.columns) == list(allocation.TEAM_DAYS)
    weekly = allocation.weekly_fte(facts, WINDOW, teams, days)
    assert len(weekly) == 2 * 5 and weekly["fte"].sum() == 0
    assert allocation.shares(weekly)["share"].isna().all()
    assert allocation.shares(weekly.iloc[:0]).empty
    assert load.team_load(facts, WINDOW, teams)["load"].isna().all()
    assert load.team_load(facts, WINDOW, [])["load"].empty
    assert concentration.concentration(facts, WINDOW, [], days).empty
    requests = support.support_requests(facts)
    assert coupling.weekly_demand(requests, WINDOW).empty
    items, pulls = samples.item_samples(facts), samples.pr_samples(facts)
    assert items.empty and pulls.empty
    long = samples.long_samples(items, pulls, requests)
    assert long.empty and {"team", "metric", "at", "value"} <= set(long.columns)
    when = compare.periods(dt.date(2025, 1, 13), NOW, "UTC")
    table = compare.compare_periods(long, when, [("Infra", "cycle_time_hours")])
    assert table["n_before"].tolist() == [0]


def test_helpers_accept_empty_input():
    assert describe([]) == {"n": 0, "p50": None, "p85": None, "p95": None}
    assert first_reviews(Frames().pulls, Frames().reviews, NOW).empty
    assert teams_at(
        pd.Series([], dtype=object), pd.Series([], dtype=object), Frames().memberships, "UTC"
    ).empty
    assert member_days(Frames().memberships, WINDOW).empty
    pieces = split_by_day(np.array([], np.int64), np.array([], np.int64), WINDOW.bounds_ns)
    assert len(pieces.row) == 0


def test_tidy_tables_of_an_empty_report_have_their_columns():
    report = summary(Frames(), org_config(), dt.date(2025, 1, 6), dt.date(2025, 1, 12), [], NOW)
    assert report["teams"] == []
    tables = summary_tables(report)
    # the org's rows (team "(all)") are there whatever teams are selected; nothing else is
    rest = [f[f["team"] != ALL_TEAMS] if "team" in f else f for f in tables.values()]
    assert all(frame.empty for frame in rest)
    assert list(tables["turnaround"].columns) == ["team", "metric", "n", "p50", "p85", "p95"]
