"""Input frame normalisation, ISO weeks in the org timezone and splitting intervals into days."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.frames import ITEMS, UTC_NS, Frames, memberships_from_config, prepare
from metrics.intervals import NS_PER_HOUR, order_by, split_by_day
from metrics.membership import member_days, teams_at
from metrics.weeks import local_day_numbers, widen
from tests.metrics.metrics_world import org_config, ts


def test_prepare_fills_missing_columns_and_normalises_timestamps_and_lists():
    raw = pd.DataFrame(
        {
            "item_id": [1, 2],
            "created_at": ["2025-01-06T09:00:00+01:00", "2025-01-06T09:00:00Z"],
            "labels": [None, ("a", "b")],
        }
    )
    items = prepare("items", raw)
    assert set(ITEMS) <= set(items.columns)
    assert str(items["created_at"].dtype) == UTC_NS
    assert items["created_at"].tolist() == [ts("2025-01-06 08:00"), ts("2025-01-06 09:00")]
    assert items["labels"].tolist() == [[], ["a", "b"]]
    assert prepare("items", items) is items  # normalising twice costs nothing


def test_an_empty_bundle_has_every_frame_with_its_columns():
    frames = Frames().prepared()
    assert frames.items.empty and list(frames.items.columns) == list(ITEMS)
    assert str(frames.pulls["merged_at"].dtype) == UTC_NS


def test_memberships_from_the_org_file():
    config = org_config(
        org={
            "people": [
                {
                    "name": "Ada",
                    "memberships": [
                        {"team": "Research", "from": "2024-01-01", "to": "2025-03-02"},
                        {"team": "Infra", "from": "2025-03-03"},
                    ],
                }
            ]
        }
    )
    frame = memberships_from_config(config)
    assert frame["team"].tolist() == ["Research", "Infra"]
    assert frame["valid_to"].isna().tolist() == [False, True]


def test_the_window_is_widened_to_whole_iso_weeks():
    window = widen(dt.date(2025, 1, 8), dt.date(2025, 1, 14))  # Wednesday to Tuesday
    assert (window.first_day, window.last_day) == (dt.date(2025, 1, 6), dt.date(2025, 1, 19))
    assert window.weeks == [dt.date(2025, 1, 6), dt.date(2025, 1, 13)]
    assert window.weekdays.tolist()[:7] == [True] * 5 + [False] * 2


def test_days_follow_local_midnights_including_daylight_saving_changes():
    window = widen(dt.date(2025, 3, 24), dt.date(2025, 3, 30), "Europe/Dublin")
    hours = np.diff(window.bounds_ns) / NS_PER_HOUR
    assert hours.tolist() == [24, 24, 24, 24, 24, 24, 23]  # clocks go forward on Sunday 30 March
    summer = local_day_numbers(pd.Series([ts("2025-06-09 23:30")]), "Europe/Dublin")
    utc = local_day_numbers(pd.Series([ts("2025-06-09 23:30")]), "UTC")
    assert summer[0] == utc[0] + 1  # already Tuesday in Dublin


def test_split_by_day_cuts_intervals_at_midnight_and_drops_empty_ones():
    window = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 12))
    start = np.array(
        [ts("2025-01-06 20:00").value, ts("2025-01-08 10:00").value, ts("2025-01-01").value]
    )
    end = np.array(
        [ts("2025-01-08 02:00").value, ts("2025-01-08 10:00").value, ts("2025-01-06 01:00").value]
    )
    pieces = split_by_day(start, end, window.bounds_ns)
    assert pieces.row.tolist() == [0, 0, 0, 2]  # row 1 is empty; row 2 is clipped to the window
    assert pieces.day.tolist() == [0, 1, 2, 0]
    assert (pieces.overlap_ns / NS_PER_HOUR).tolist() == [4, 24, 2, 1]


def test_order_by_is_stable_for_ties_and_sorts_unordered_rows():
    pos = np.array([2, 1, 1, 2, 1])
    at = np.array([5, 7, 3, 5, 3])
    assert order_by(pos, at).tolist() == [2, 4, 1, 0, 3]


def test_membership_is_looked_up_by_local_date_with_inclusive_ends():
    memberships = pd.DataFrame(
        {
            "person": ["Ada", "Ada", "Bob"],
            "team": ["Research", "Infra", "Infra"],
            "valid_from": [dt.date(2024, 1, 1), dt.date(2025, 3, 3), dt.date(2024, 1, 1)],
            "valid_to": [dt.date(2025, 3, 2), None, None],
        }
    )
    persons = pd.Series(["Ada", "Ada", "Bob", None, "Zed"])
    instants = pd.Series(
        [
            ts("2025-03-02 23:59"),
            ts("2025-03-03 00:00"),
            ts("2025-01-01 00:00"),
            ts("2025-01-01"),
            ts("2025-01-01"),
        ]
    )
    found = teams_at(persons, instants, memberships, "UTC")
    assert found.values.tolist() == [[0, "Research"], [1, "Infra"], [2, "Infra"]]
    days = member_days(memberships, widen(dt.date(2025, 3, 3), dt.date(2025, 3, 9)))
    assert sorted(set(days["team"])) == ["Infra"]
    assert len(days) == 14  # Ada and Bob, seven days each


def test_list_columns_read_as_json_text_are_parsed():
    pulls = prepare("pulls", pd.DataFrame({"pr_id": [1, 2], "linked_item_ids": ["[3, 4]", None]}))
    assert pulls["linked_item_ids"].tolist() == [[3, 4], []]


def test_a_repeated_item_id_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"item_id must be unique, repeated: \[7\]"):
        prepare("items", pd.DataFrame({"item_id": [7, 7, 8]}))
