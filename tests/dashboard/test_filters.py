"""The dashboard's default window: whole ISO weeks that have ended, from the URL otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.filters import from_query
from metrics.weeks import last_complete_sunday


@pytest.mark.parametrize(
    ("last", "today", "expected"),
    [
        (dt.date(2026, 12, 1), dt.date(2026, 12, 1), dt.date(2026, 11, 29)),  # Tuesday
        (dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 11, 29)),  # Monday
        (dt.date(2026, 11, 29), dt.date(2026, 12, 1), dt.date(2026, 11, 29)),  # a past Sunday
        (dt.date(2026, 11, 29), dt.date(2026, 11, 29), dt.date(2026, 11, 22)),  # today, unfinished
    ],
)
def test_the_default_view_ends_with_the_last_whole_week(
    last: dt.date, today: dt.date, expected: dt.date
) -> None:
    assert last_complete_sunday(last, today) == expected


def test_without_a_range_in_the_url_the_view_ends_before_the_week_in_progress() -> None:
    span = (dt.date(2025, 1, 1), dt.date(2026, 12, 1))
    chosen = from_query({}, ["Infra"], dt.date(2026, 12, 1), span)
    assert chosen.end == dt.date(2026, 11, 29) and chosen.end.weekday() == 6
    linked = from_query({"to": ["2026-12-01"]}, ["Infra"], dt.date(2026, 12, 1), span)
    assert linked.end == dt.date(2026, 12, 1)  # a link's own range is kept as written


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("0001-01-01", "9999-12-31", (dt.date(2025, 1, 1), dt.date(2026, 12, 1))),
        ("1900-01-01", "2025-06-30", (dt.date(2025, 1, 1), dt.date(2025, 6, 30))),
        ("2025-03-01", "9999-12-31", (dt.date(2025, 3, 1), dt.date(2026, 12, 1))),
        # wholly outside the data: the default view (26 weeks to the last whole week)
        ("1900-01-01", "1900-12-31", (dt.date(2026, 5, 31), dt.date(2026, 11, 29))),
    ],
)
def test_a_range_beyond_the_data_is_kept_to_the_data_and_today(
    first: str, last: str, expected: tuple[dt.date, dt.date]
) -> None:
    span = (dt.date(2025, 1, 1), dt.date(2026, 12, 1))
    chosen = from_query({"from": [first], "to": [last]}, ["Infra"], dt.date(2026, 12, 1), span)
    assert (chosen.start, chosen.end) == expected


def test_extreme_dates_in_the_url_open_every_page(run_page, synced_world) -> None:
    for page in ("overview", "turnaround", "flood", "cluster", "reorg"):
        for first, last in (("0001-01-01", "9999-12-31"), ("1900-01-01", "2025-05-01")):
            at = run_page(synced_world.config_path, page, **{"from": first, "to": last})
            assert not at.exception, (page, first, [e.message for e in at.exception])
