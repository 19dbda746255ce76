"""Time in a generated world: org-timezone days, the working-hours axis, and UTC moments as epoch seconds."""

from __future__ import annotations

import bisect
import datetime as dt
from zoneinfo import ZoneInfo

from sandbox.world.draws import Draws

HOUR = 3600
DAY = 86400
WORK_START = 9 * HOUR  # the working window, 09:00-18:00 org time, on weekdays
WORK_LEN = 9 * HOUR


def at(t: int) -> dt.datetime:
    """Epoch seconds as an aware UTC datetime (what the records hold)."""
    return dt.datetime.fromtimestamp(t, dt.UTC)


class Calendar:
    """Org-timezone days as UTC epoch seconds, and a 'working time' axis that skips nights and weekends.

    Day 0 is a Monday; the calendar covers whole weeks. Working time counts seconds
    inside the 09:00-18:00 window of each weekday, so "n working hours later" and
    "a random moment during working hours between two instants" are one addition
    and one uniform draw.
    """

    def __init__(self, first_day: dt.date, days: int, tz: ZoneInfo) -> None:
        self.first_day, self.days, self.tz = first_day, days, tz
        starts = []
        for k in range(days + 1):
            d = first_day + dt.timedelta(days=k)
            starts.append(int(dt.datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()))
        self.day_start = starts
        self.workdays = [k for k in range(days) if k % 7 < 5]
        self.wd_ord = [0] * (days + 1)
        n = 0
        for k in range(days):
            self.wd_ord[k] = n
            n += k % 7 < 5
        self.wd_ord[days] = n

    def date(self, day: int) -> dt.date:
        return self.first_day + dt.timedelta(days=day)

    def day_of(self, t: int) -> int:
        return min(max(bisect.bisect_right(self.day_start, t) - 1, 0), self.days - 1)

    def to_work(self, t: int) -> float:
        d = self.day_of(t)
        base = self.wd_ord[d] * WORK_LEN
        if d % 7 >= 5:
            return float(base)
        return base + min(max(t - self.day_start[d] - WORK_START, 0), WORK_LEN)

    def from_work(self, w: float) -> int:
        k = int(w // WORK_LEN)
        if k < 0:
            return self.day_start[self.workdays[0]] + WORK_START
        if k >= len(self.workdays):
            return self.day_start[self.workdays[-1]] + WORK_START + WORK_LEN
        return self.day_start[self.workdays[k]] + WORK_START + int(w - k * WORK_LEN)

    def between(self, d: Draws, lo: int, hi: int, n: int) -> list[int]:
        """n sorted moments strictly inside (lo, hi), during working hours when the span allows."""
        if n == 0:
            return []
        wl = self.to_work(lo) + 1
        span = self.to_work(hi) - wl - 1
        u, from_work = d.u, self.from_work
        if span > 2 * n:
            out = sorted([from_work(wl + u() * span) for _ in range(n)])
        else:
            width = max(hi - lo - 2, 0)
            out = sorted([lo + 1 + int(u() * width) for _ in range(n)])
        low = lo + 1
        for i in range(n):  # strictly increasing and inside the span
            t = min(max(out[i], low), hi - (n - i))
            out[i], low = t, t + 1
        return out
