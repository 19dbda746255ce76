"""Vectorised interval arithmetic on int64 nanoseconds: clipping and splitting into local days."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.frames import utc

NS_PER_HOUR = 3_600_000_000_000
NAT_NS = np.iinfo(np.int64).min


def ns(instants: pd.Series) -> np.ndarray:
    """UTC nanoseconds since the epoch of each instant; NaT gives `NAT_NS`."""
    series = utc(instants)
    return series.array.asi8.astype(np.int64, copy=False) if len(series) else np.array([], np.int64)


def hours(delta_ns: np.ndarray) -> np.ndarray:
    return np.asarray(delta_ns, dtype=np.float64) / NS_PER_HOUR


def to_timestamps(values_ns: np.ndarray) -> pd.Series:
    """Back from nanoseconds to a `datetime64[ns, UTC]` series (NAT_NS gives NaT)."""
    return pd.Series(pd.to_datetime(np.asarray(values_ns, dtype=np.int64), unit="ns", utc=True))


@dataclass(frozen=True)
class DayPieces:
    """Intervals cut at day boundaries: for each piece, the source row, the day, the overlap."""

    row: np.ndarray  # index into the input arrays
    day: np.ndarray  # window day index
    overlap_ns: np.ndarray


def split_by_day(start_ns: np.ndarray, end_ns: np.ndarray, bounds_ns: np.ndarray) -> DayPieces:
    """Cut half-open intervals [start, end) at the day boundaries `bounds_ns` (len days+1).

    Intervals are clipped to the bounds first; empty ones (end <= start after clipping)
    give no piece. A piece exists for every day the interval overlaps by a positive time,
    which is what "at any moment of that day" means.
    """
    start = np.maximum(np.asarray(start_ns, np.int64), bounds_ns[0])
    end = np.minimum(np.asarray(end_ns, np.int64), bounds_ns[-1])
    keep = np.flatnonzero(end > start)
    start, end = start[keep], end[keep]
    first = np.searchsorted(bounds_ns, start, side="right") - 1
    last = np.searchsorted(bounds_ns, end, side="left") - 1
    counts = last - first + 1
    total = int(counts.sum())
    row = np.repeat(keep, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    day = np.repeat(first, counts) + offsets
    piece_start = np.maximum(np.repeat(start, counts), bounds_ns[day])
    piece_end = np.minimum(np.repeat(end, counts), bounds_ns[day + 1])
    return DayPieces(row=row, day=day, overlap_ns=piece_end - piece_start)


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int array (numpy 2.4's hash-based np.unique is slow here)."""
    ordered = np.sort(np.asarray(values))
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def contained(values: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """values[i] in sorted_unique, by binary search."""
    if len(sorted_unique) == 0:
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(sorted_unique, values), len(sorted_unique) - 1)
    return sorted_unique[at] == values


def group_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct sorted values, code of each value, count of each distinct value)."""
    unique = unique_sorted(values)
    codes = np.searchsorted(unique, values)
    return unique, codes, np.bincount(codes, minlength=len(unique))


def order_by(pos: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A stable sort order by (pos, at): rows equal on both keep their input order.

    Cheaper than `np.lexsort` at a million rows: already ordered input (as the loader
    gives it) is detected in one pass; otherwise both keys are packed into one int64
    (pos x distinct times + rank of the time) for a single stable argsort.
    """
    pos = np.asarray(pos, np.int64)
    at = np.asarray(at, np.int64)
    n = len(pos)
    step_pos, step_at = pos[1:] - pos[:-1], at[1:] >= at[:-1]
    if n < 2 or bool(np.all((step_pos > 0) | ((step_pos == 0) & step_at))):
        return np.arange(n)
    times = unique_sorted(at)
    if pos.min() < 0 or (int(pos.max()) + 1) * len(times) >= 2**62:
        return np.lexsort((np.arange(n), at, pos))
    return np.argsort(pos * len(times) + np.searchsorted(times, at), kind="stable")
