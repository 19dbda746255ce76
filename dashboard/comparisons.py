"""Before/after comparisons in words, and their intervals as a reader can take them in."""

from __future__ import annotations

from typing import Any

from dashboard import widgets

LABELS = {
    "cycle_time_hours": "cycle time",
    "lead_time_hours": "lead time",
    "pr_first_review_hours": "PR time to first review",
    "pr_merge_hours": "PR time to merge",
    "support_first_response_hours": "support first response",
    "support_resolution_hours": "support resolution",
    "requested_support_first_response_hours": "first response to its requests",
    "requested_support_resolution_hours": "resolution of its requests",
}


SIGNIFICANT = 0.05
FLOOR = -1.0  # a median of durations can fall by all of itself, never more


def shown_interval(ci95: list[float]) -> tuple[float, float, bool]:
    """The CI as a relative change can be read: bounds below -100% raised to -100%.

    The bootstrap interval of the difference of medians, over the before median, goes
    past -100% when the samples are few and spread (the resampled before medians exceed
    the observed one); a median cannot fall more than all of itself, so such a bound
    says only "as much as all of it". Returns (low, high, whether a bound was raised).
    """
    low, high = ci95
    return max(low, FLOOR), max(high, FLOOR), low < FLOOR


def sentence(row: dict[str, Any]) -> str:
    """One honest sentence about a comparison: a change only when its 95% CI excludes zero."""
    label = LABELS.get(row["metric"], row["metric"])
    n = f"n = {row['n_before']} before, {row['n_after']} after"
    if not row["n_before"] or not row["n_after"]:
        side = "before" if not row["n_before"] else "after"
        return f"{label}: nothing to compare, no samples {side} the reorg ({n})."
    if row["change"] is None or row["ci95"] is None:
        return f"{label}: too few samples to compare ({n})."
    low, high, capped = shown_interval(row["ci95"])
    p = ""
    if row["p_value"] is not None:
        p = ", p < 0.001" if row["p_value"] < 0.001 else f", p = {row['p_value']:.3f}"
    wide = "; the interval is wide, too few samples to bound it" if capped else ""
    if low <= 0 <= high:
        # Mann-Whitney tests the whole distribution, the interval only the median: they
        # can disagree, and the sentence says which is which rather than pick one.
        shifted = row["p_value"] is not None and row["p_value"] < SIGNIFICANT
        also = (
            " The distributions do differ (Mann-Whitney), though not their medians."
            if shifted
            else ""
        )
        return (
            f"{label} p50: no detectable change ({_signed(row['change'])}, 95% CI "
            f"{_signed(low)} to {_signed(high)}{p}{wide}; {n}).{also}"
        )
    verb = "fell" if row["change"] < 0 else "rose"
    bounds = sorted((abs(low), abs(high)))
    return (
        f"**{label} p50 {verb} {abs(row['change']):.0%} (95% CI {bounds[0]:.0%} to {bounds[1]:.0%})"
        f"{p}**: {widgets.duration(row['before_median'])} → {widgets.duration(row['after_median'])}"
        f" ({n}{wide})."
    )


def _signed(share: float) -> str:
    """A change as a signed whole percentage; one that rounds to zero reads 0%, not -0%."""
    return "0%" if round(share * 100) == 0 else f"{share:+.0%}"
