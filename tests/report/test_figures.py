"""Reading the figures: the streak of a load state."""

from __future__ import annotations

from report import figures


def test_streak_counts_the_weeks_in_a_row_ending_with_the_last() -> None:
    # ... normal, flood, flood, flood: the 3rd week of a flood
    assert figures.weeks_running(["normal", "flood", "flood", "flood"]) == 3
    assert figures.weeks_running(["flood", "normal"]) == 1
    assert figures.weeks_running([None, None]) == 0
    assert figures.weeks_running([]) == 0
