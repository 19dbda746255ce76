"""Days and ISO weeks in the org timezone: the analysis window and bucketing of UTC instants.

Local days are handled as integer day numbers (days since 1970-01-01 in local wall
time) so bucketing millions of instants stays vectorised; day boundaries come from
real local midnights, so a 23- or 25-hour DST day is exactly as long as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from metrics.frames import UTC_NS, utc

NAT_DAY = np.iinfo(np.int64).min  # the day number of a missing timestamp


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return int(np.datetime64(day, "D").astype(np.int64))


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_midnights(first: dt.date, count: int, timezone: str) -> pd.DatetimeIndex:
    """UTC instants of the local midnights starting `first`, `count` of them.

    Where midnight does not exist (a DST jump at 00:00) the day starts at the first
    existing instant; where it happens twice, at the first one.
    """
    naive = pd.date_range(pd.Timestamp(first), periods=count, freq="D")
    local = naive.tz_localize(timezone, nonexistent="shift_forward", ambiguous=True)
    return local.tz_convert("UTC").astype(UTC_NS)


def local_day_numbers(instants: pd.Series, timezone: str) -> np.ndarray:
    """The local calendar day (day number) of each UTC instant; NaT gives `NAT_DAY`."""
    series = utc(instants)
    if series.empty:
        return np.array([], dtype=np.int64)
    wall = series.dt.tz_convert(timezone).dt.tz_localize(None)
    return wall.to_numpy().astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class Window:
    """Whole ISO weeks, Monday `first_day` to Sunday `last_day` inclusive, in `timezone`."""

    first_day: dt.date
    last_day: dt.date
    timezone: str = "UTC"

    @cached_property
    def n_days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @cached_property
    def n_weeks(self) -> int:
        return self.n_days // 7

    @cached_property
    def first_day_number(self) -> int:
        return day_number(self.first_day)

    @cached_property
    def bounds_ns(self) -> np.ndarray:
        """UTC nanoseconds of each day's local midnight, plus the end of the last day."""
        midnights = local_midnights(self.first_day, self.n_days + 1, self.timezone)
        return midnights.asi8.astype(np.int64)

    @property
    def start_ns(self) -> int:
        return int(self.bounds_ns[0])

    @property
    def end_ns(self) -> int:
        """Exclusive end: the local midnight after `last_day`."""
        return int(self.bounds_ns[-1])

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.start_ns, tz="UTC")

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.end_ns, tz="UTC")

    @cached_property
    def weeks(self) -> list[dt.date]:
        """The Monday of each week of the window, in order."""
        return [self.first_day + dt.timedelta(days=7 * w) for w in range(self.n_weeks)]

    @cached_property
    def weekdays(self) -> np.ndarray:
        """Per day index of the window: True on Monday to Friday."""
        return (np.arange(self.n_days) % 7) < 5

    def day_index(self, instants: pd.Series) -> np.ndarray:
        """Window day index of each instant (may fall outside 0..n_days-1; NaT is very negative)."""
        numbers = local_day_numbers(instants, self.timezone)
        return np.where(numbers == NAT_DAY, NAT_DAY, numbers - self.first_day_number)

    def week_of_day(self, day_index: np.ndarray) -> np.ndarray:
        return np.floor_divide(day_index, 7)


def back(day: dt.date, delta: dt.timedelta) -> dt.date:
    """`day - delta`, stopping at the calendar's first day instead of overflowing."""
    return day - delta if day - dt.date.min >= delta else dt.date.min


def last_complete_sunday(last: dt.date, today: dt.date) -> dt.date:
    """The end of the last whole ISO week on or before `last`: the default view ends there,
    so a week still in progress (a fifth of its FTE on a Monday) never looks like a drought."""
    if last.weekday() == 6 and today > last:
        return last
    return back(last, dt.timedelta(days=last.weekday() + 1))


DEFAULT_WINDOW_WEEKS = 26  # the dashboard's default view


def default_window(
    today: dt.date, span: tuple[dt.date, dt.date] | None, weeks: int = DEFAULT_WINDOW_WEEKS
) -> tuple[dt.date, dt.date]:
    """The dashboard's default window on `today` for data spanning the days `span`: the
    last `weeks` whole weeks of the data. Here, not in the dashboard, because the rollups
    keep the figures of this window (`metrics.rollup.keep_results`)."""
    end_of_data = min(today, span[1]) if span else today
    last = last_complete_sunday(end_of_data, today)
    first = back(last, dt.timedelta(weeks=weeks))
    if span:
        first = max(first, span[0])
        if first > last:  # no whole week of data yet: the days there are, then
            last = max(end_of_data, first)
    return first, last


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before `start`..`end` (what a view compares with)."""
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def widen(start: dt.date, end: dt.date, timezone: str = "UTC") -> Window:
    """The window of whole ISO weeks covering `start`..`end` (Monday of start's week to
    Sunday of end's week), read in the org timezone."""
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    return Window(monday(start), monday(end) + dt.timedelta(days=6), timezone)
