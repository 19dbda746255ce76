"""Reorg comparisons in words: a change only when its interval excludes zero, never past -100%."""

from __future__ import annotations

from dashboard.comparisons import sentence, shown_interval


def row(**over: object) -> dict[str, object]:
    base = {
        "metric": "support_resolution_hours",
        "before_median": 52.0,
        "after_median": 30.0,
        "change": (30.0 - 52.0) / 52.0,  # -0.423
        "ci95": [-0.55, -0.20],
        "p_value": 0.003,
        "n_before": 40,
        "n_after": 38,
    }
    return base | over


def test_a_change_whose_interval_excludes_zero_is_said_with_its_interval():
    assert sentence(row()) == (
        "**support resolution p50 fell 42% (95% CI 20% to 55%), p = 0.003**: "
        "2.2 d → 30.0 h (n = 40 before, 38 after)."
    )


def test_an_interval_across_zero_is_no_detectable_change():
    text = sentence(row(ci95=[-0.60, 0.10], p_value=0.2))
    assert text == (
        "support resolution p50: no detectable change (-42%, 95% CI -60% to +10%, p = 0.200; "
        "n = 40 before, 38 after)."
    )

    # a change that rounds to nothing reads 0%, not -0%
    flat = sentence(row(change=-0.004, ci95=[-0.30, 0.0049], p_value=0.78))
    assert "no detectable change (0%, 95% CI -30% to 0%, p = 0.780;" in flat


def test_a_shift_of_the_distribution_without_one_of_the_median_says_so():
    text = sentence(row(change=-0.05, ci95=[-0.15, 0.03], p_value=0.014))
    assert text == (
        "support resolution p50: no detectable change (-5%, 95% CI -15% to +3%, p = 0.014; "
        "n = 40 before, 38 after). The distributions do differ (Mann-Whitney), though not "
        "their medians."
    )


def test_a_bound_past_minus_100_percent_is_shown_as_100_percent_and_called_wide():
    # 8 samples each side: the resampled before medians exceed the observed 10 h, so the
    # difference's lower bound (-13 h) over 10 h is -130%, more than a median can fall.
    text = sentence(
        row(
            metric="pr_first_review_hours",
            before_median=10.0,
            after_median=5.0,
            change=-0.5,
            ci95=[-1.3, -0.1],
            p_value=0.04,
            n_before=8,
            n_after=8,
        )
    )
    assert text.startswith(
        "**PR time to first review p50 fell 50% (95% CI 10% to 100%), p = 0.040**"
    )
    assert text.endswith(
        "(n = 8 before, 8 after; the interval is wide, too few samples to bound it)."
    )
    assert "130%" not in text


def test_shown_interval_raises_only_the_bounds_below_minus_one():
    assert shown_interval([-1.4, 0.2]) == (-1.0, 0.2, True)
    assert shown_interval([-1.4, -1.1]) == (-1.0, -1.0, True)
    assert shown_interval([-0.9, 0.5]) == (-0.9, 0.5, False)


def test_missing_samples_say_which_side_is_empty():
    assert sentence(row(n_before=0, change=None, ci95=None)) == (
        "support resolution: nothing to compare, no samples before the reorg "
        "(n = 0 before, 38 after)."
    )
    assert sentence(row(n_after=1, change=-0.4, ci95=None)) == (
        "support resolution: too few samples to compare (n = 40 before, 1 after)."
    )
