"""Before/after a reorg: medians, relative change, bootstrap CI and Mann-Whitney U p-value.

Windows around a reorg date D (local midnight, org timezone): the after window runs
from D for `days` days but stops at `now`; the before window has the same length,
ending at D, and starts no earlier than the data (the first item or PR created). Equal
lengths keep the comparison fair when only a few weeks have passed since D.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.intervals import NAT_NS, ns
from metrics.weeks import local_midnights

RESAMPLES = 2000
SEED = 0
DEFAULT_DAYS = 91


@dataclass(frozen=True)
class Periods:
    """The before window [before_start, split) and the after window [split, after_end), UTC."""

    before_start: pd.Timestamp
    split: pd.Timestamp
    after_end: pd.Timestamp


def periods(
    date: dt.date,
    now: pd.Timestamp,
    timezone: str,
    data_start: pd.Timestamp | None = None,
    days: int = DEFAULT_DAYS,
) -> Periods:
    """The before and after windows of a reorg on `date` (see the module docstring)."""
    split = local_midnights(date, 1, timezone)[0]
    after_end = max(min(split + pd.Timedelta(days=days), pd.Timestamp(now)), split)
    before_start = split - (after_end - split)
    if data_start is not None and pd.notna(data_start):
        before_start = min(max(before_start, pd.Timestamp(data_start)), split)
    return Periods(before_start=before_start, split=split, after_end=after_end)


def _median_or_none(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None


def bootstrap_medians(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Medians of `resamples` bootstrap resamples (with replacement) of `values`.

    Drawn exactly but without materialising the resamples: on sorted data the median
    of a resample is the value at the middle order statistic of its n uniform random
    indexes, and the k-th smallest of n uniform indexes is floor(n U) with U ~ Beta(k,
    n - k + 1); for even n the next order statistic is U + (1 - U) Beta(1, n - k). So
    each resample costs O(1) instead of O(n), with the same distribution as resampling.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n % 2:
        k = (n + 1) // 2
        u = rng.beta(k, n - k + 1, resamples)
        return x[np.minimum((n * u).astype(np.int64), n - 1)]
    k = n // 2
    low = rng.beta(k, n - k + 1, resamples)
    high = low + (1.0 - low) * rng.beta(1, n - k, resamples)
    i = np.minimum((n * low).astype(np.int64), n - 1)
    j = np.minimum((n * high).astype(np.int64), n - 1)
    return (x[i] + x[j]) / 2.0


def compare_samples(
    before: np.ndarray | list[float],
    after: np.ndarray | list[float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, object]:
    """Compare two samples of a turnaround metric.

    Output keys: before_median, after_median, change ((after - before) / before),
    ci95 ([low, high]: 2.5 and 97.5 percentiles of the bootstrap distribution of
    median(after) - median(before), divided by the observed before median; both samples
    resampled with replacement, `resamples` times, from `default_rng(seed)`, see
    `bootstrap_medians`),
    p_value (two-sided Mann-Whitney U), n_before, n_after. Undefined values are None:
    change and ci95 need a non-zero before median, ci95 two values on each side,
    p_value one on each side.
    """
    x = np.asarray(before, dtype=np.float64)
    y = np.asarray(after, dtype=np.float64)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    before_median, after_median = _median_or_none(x), _median_or_none(y)
    change = ci95 = p_value = None
    if before_median is not None and after_median is not None:
        if before_median != 0:
            change = (after_median - before_median) / before_median
        # Imported here: scipy.stats takes most of a second to import, and only the
        # comparisons need it (the dashboard's first page shows none).
        from scipy.stats import mannwhitneyu

        p = float(mannwhitneyu(x, y, alternative="two-sided").pvalue)
        p_value = None if np.isnan(p) else p
    if before_median and len(x) >= 2 and len(y) >= 2:
        rng = np.random.default_rng(seed)
        diffs = bootstrap_medians(y, rng, resamples) - bootstrap_medians(x, rng, resamples)
        low, high = np.percentile(diffs / before_median, [2.5, 97.5])
        ci95 = [float(low), float(high)]
    return {
        "before_median": before_median,
        "after_median": after_median,
        "change": change,
        "ci95": ci95,
        "p_value": p_value,
        "n_before": len(x),
        "n_after": len(y),
    }


def compare_periods(
    samples: pd.DataFrame,
    when: Periods,
    groups: list[tuple[str, str]],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> pd.DataFrame:
    """Compare every (team, metric) group of `samples` across the two windows.

    Input: samples with columns team, metric, at (UTC instant placing the sample in
    time), value; `groups`: the (team, metric) pairs to report, in order (present even
    without samples). Output columns: team, metric and `compare_samples`' keys.
    """
    at = ns(samples["at"]) if len(samples) else np.array([], np.int64)
    lo, mid, hi = (int(t.value) for t in (when.before_start, when.split, when.after_end))
    side = np.full(len(samples), 0, np.int8)
    side[(at != NAT_NS) & (at >= lo) & (at < mid)] = 1
    side[(at != NAT_NS) & (at >= mid) & (at < hi)] = 2
    frame = samples.assign(side=side)
    frame = frame[frame["side"] > 0]
    grouped = {key: g for key, g in frame.groupby(["team", "metric"], sort=False)}
    rows = []
    for team, metric in groups:
        group = grouped.get((team, metric))
        values = group["value"].to_numpy(np.float64) if group is not None else np.array([])
        sides = group["side"].to_numpy() if group is not None else np.array([])
        result = compare_samples(values[sides == 1], values[sides == 2], resamples, seed)
        rows.append({"team": team, "metric": metric, **result})
    return pd.DataFrame(rows)
