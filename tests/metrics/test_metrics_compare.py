"""Before/after a reorg: windows, medians, bootstrap CI and Mann-Whitney p-value."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.compare import bootstrap_medians, compare_periods, compare_samples, periods
from tests.metrics.metrics_world import ts

BEFORE = np.arange(1.0, 31.0)  # 1..30 hours, median 15.5


def test_a_clear_shift_is_detected_with_its_sign():
    result = compare_samples(BEFORE, BEFORE / 2)
    assert result["before_median"] == 15.5
    assert result["after_median"] == 7.75
    assert result["change"] == -0.5  # (7.75 - 15.5) / 15.5
    assert result["p_value"] < 0.05
    low, high = result["ci95"]
    assert low < -0.2 and high < 0  # the whole interval is a decrease
    assert (result["n_before"], result["n_after"]) == (30, 30)


def test_no_shift_gives_a_large_p_value_and_an_interval_around_zero():
    result = compare_samples(BEFORE, BEFORE[::-1].copy())
    assert result["change"] == 0.0
    assert result["p_value"] > 0.5
    low, high = result["ci95"]
    assert low < 0 < high


def test_the_bootstrap_is_deterministic_under_its_seed():
    after = BEFORE * 0.8
    assert compare_samples(BEFORE, after) == compare_samples(BEFORE, after)
    assert compare_samples(BEFORE, after, seed=1)["ci95"] != compare_samples(BEFORE, after)["ci95"]


def test_the_shortcut_bootstrap_matches_resampling_with_replacement():
    values = np.array([3.0, 7.0, 1.0, 12.0, 5.0, 9.0, 2.0, 30.0])  # even n: two middle values
    fast = bootstrap_medians(values, np.random.default_rng(0), 40_000)
    rng = np.random.default_rng(1)
    slow = np.median(values[rng.integers(0, len(values), (40_000, len(values)))], axis=1)
    for q in (10, 25, 50, 75, 90):
        assert np.percentile(fast, q) == pytest.approx(np.percentile(slow, q), abs=0.51)
    assert fast.mean() == pytest.approx(slow.mean(), rel=0.02)
    odd = bootstrap_medians(values[:7], np.random.default_rng(0), 1000)
    assert set(odd) <= set(values[:7])  # odd n: a resample's median is one of the values


def test_undefined_parts_are_none():
    assert compare_samples([], [1.0, 2.0]) == {
        "before_median": None,
        "after_median": 1.5,
        "change": None,
        "ci95": None,
        "p_value": None,
        "n_before": 0,
        "n_after": 2,
    }
    single = compare_samples([4.0], [2.0, 3.0])
    assert single["change"] == -0.375 and single["ci95"] is None and single["p_value"] is not None
    zero = compare_samples([0.0, 0.0], [1.0, 2.0])
    assert zero["change"] is None and zero["ci95"] is None


def test_windows_have_the_same_length_and_stop_at_now():
    when = periods(dt.date(2025, 3, 3), ts("2025-04-01 00:00"), "Europe/Dublin")
    assert when.split == ts("2025-03-03 00:00")  # Dublin is on UTC in early March
    assert when.after_end == ts("2025-04-01 00:00")  # 29 days after, cut at now
    assert when.before_start == ts("2025-02-02 00:00")  # 29 days before
    longer = periods(dt.date(2025, 3, 3), ts("2026-01-01 00:00"), "UTC", days=91)
    assert longer.after_end - longer.split == pd.Timedelta(days=91)
    bounded = periods(dt.date(2025, 3, 3), ts("2026-01-01 00:00"), "UTC", ts("2025-02-01 00:00"))
    assert bounded.before_start == ts("2025-02-01 00:00")  # no data before that


def test_compare_periods_places_samples_by_their_instant_and_reports_every_group():
    samples = pd.DataFrame(
        {
            "team": ["Infra"] * 4,
            "metric": ["cycle_time_hours"] * 4,
            "at": [
                ts("2025-02-20 00:00"),
                ts("2025-02-25 00:00"),
                ts("2025-03-05 00:00"),
                ts("2025-01-01 00:00"),
            ],
            "value": [10.0, 20.0, 5.0, 99.0],  # the last one is outside both windows
        }
    )
    when = periods(dt.date(2025, 3, 3), ts("2025-04-01 00:00"), "UTC")
    table = compare_periods(
        samples, when, [("Infra", "cycle_time_hours"), ("Infra", "lead_time_hours")]
    )
    first, second = table.to_dict("records")
    assert (first["n_before"], first["n_after"], first["before_median"], first["after_median"]) == (
        2,
        1,
        15.0,
        5.0,
    )
    assert second["n_before"] == 0 and pd.isna(second["before_median"])
