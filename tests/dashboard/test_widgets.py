"""How figures are written on the pages: units a reader compares at a glance."""

from __future__ import annotations

from dashboard import widgets


def test_a_duration_takes_minutes_hours_or_days_by_its_size() -> None:
    assert widgets.duration(0.5) == "30 min"
    assert widgets.duration(30.5) == "30.5 h"
    assert widgets.duration(79.2) == "3.3 d"  # 79.2 / 24
    assert widgets.duration(None) == widgets.DASH


def test_durations_read_side_by_side_share_the_unit_the_largest_needs() -> None:
    # 30.5 h alone reads "30.5 h", beside 79.2 h it is 30.5 / 24 = 1.27 -> "1.3 d":
    # the p50 no longer looks larger than the p85.
    assert widgets.durations(30.5, 79.2) == ["1.3 d", "3.3 d"]
    assert widgets.durations(0.5, 3.0) == ["0.5 h", "3.0 h"]
    assert widgets.durations(None, 50.0) == [widgets.DASH, "2.1 d"]
    assert widgets.durations(None, None) == [widgets.DASH, widgets.DASH]
