"""ISO weeks, the report's period: `2025-W26` read and written, and the last one that ended."""

from __future__ import annotations

import datetime as dt
import re

from config.schema import Config

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(value: str) -> dt.date:
    """The Monday of an ISO week written `YYYY-Www` (e.g. 2025-W26)."""
    found = WEEK_RE.match(value.strip())
    if not found:
        raise ValueError(f"{value!r} is not an ISO week: write YYYY-Www, e.g. 2025-W26")
    year, week = int(found[1]), int(found[2])
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{value!r}: {year} has no ISO week {week}") from None


def week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: dt.datetime, config: Config) -> dt.date:
    """The Monday of the last ISO week (org timezone) that has ended by `now`."""
    today = now.astimezone(config.org.tz).date()
    return today - dt.timedelta(days=today.weekday() + 7)
