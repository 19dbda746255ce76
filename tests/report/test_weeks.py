"""ISO weeks: read and written, and the default week, the last one that ended."""

from __future__ import annotations

import pytest

from report import weeks


def test_parse_week_reads_iso_weeks_and_rejects_others() -> None:
    assert str(weeks.parse_week("2025-W26")) == "2025-06-23"
    assert weeks.week_label(weeks.parse_week("2020-W53")) == "2020-W53"
    for bad in ("2025-26", "2025-W54", "W26"):
        with pytest.raises(ValueError):
            weeks.parse_week(bad)


def test_the_default_week_is_the_last_one_that_ended_in_the_org_timezone(report_world) -> None:
    import datetime as dt

    _, config = report_world.write_config()  # Europe/Dublin: UTC+1 in summer
    monday_8am = dt.datetime(2025, 6, 30, 7, 0, tzinfo=dt.UTC)
    assert weeks.last_complete_week(monday_8am, config) == dt.date(2025, 6, 23)
    # 23:30 UTC on Sunday is already Monday in Dublin: the week of the 23rd has ended
    assert weeks.last_complete_week(dt.datetime(2025, 6, 29, 23, 30, tzinfo=dt.UTC), config) == (
        dt.date(2025, 6, 23)
    )
    # 22:30 UTC on Sunday is still Sunday there: the last ended week is the one before
    assert weeks.last_complete_week(dt.datetime(2025, 6, 29, 22, 30, tzinfo=dt.UTC), config) == (
        dt.date(2025, 6, 16)
    )
