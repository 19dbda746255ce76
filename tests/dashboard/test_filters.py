"""The dashboard's default window: whole ISO weeks that have ended, from the URL otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.filters import from_query, last_complete_sunday


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
