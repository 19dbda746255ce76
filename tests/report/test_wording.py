"""The report's English: counts of support requests."""

from __future__ import annotations

from report import wording
from report.content import turnaround_rows


def test_counts_of_requests_read_as_english():
    some_of, opened_words = wording.some_of, wording.opened_words
    assert some_of(3, 8) == "3 of the 8 support requests"
    assert some_of(2, 2) == "all 2 support requests"
    assert some_of(1, 1) == "the one support request"
    assert opened_words(0, 0) == "No support requests were opened this week."
    assert opened_words(1, 1) == "1 support request was opened this week; it is still open."
    assert opened_words(1, 0) == "1 support request was opened this week; it is resolved."
    assert (
        opened_words(6, 1) == "6 support requests were opened this week; 1 of them is still open."
    )
    assert (
        opened_words(6, 0)
        == "6 support requests were opened this week; none of them are still open."
    )


def test_a_row_of_durations_reads_in_one_unit():
    def block(p50: float | None, p85: float | None, n: int = 3) -> dict:
        return {"n": n, "p50": p50, "p85": p85}

    def measure(this: dict, before: dict) -> dict:
        return {"this": this, "before": before}

    team = {
        # a p50 of 26 hours beside a p85 of 100: both in days, as the larger needs
        "turnaround": {
            "cycle_time_hours": measure(block(26.0, 100.0), block(20.0, 30.0)),
            "pr_first_review_hours": measure(block(2.0, 5.0), block(None, None, 0)),
        },
        "support": {
            "first_response_hours": measure(block(None, None, 0), block(None, None, 0)),
            "resolution_hours": measure(block(3.0, 6.0), block(1.5, 50.0)),
        },
    }
    rows = {r["Measure"]: r for r in turnaround_rows(team)}
    cycle = rows["Cycle time"]
    assert (cycle["p50"], cycle["p85"]) == ("1.1 d", "4.2 d")
    assert cycle["4 weeks before p50 / p85"] == "0.8 d / 1.2 d"
    review = rows["PR time to first review"]
    assert (review["p50"], review["p85"], review["4 weeks before p50 / p85"]) == (
        "2.0 h",
        "5.0 h",
        "– / –",
    )
    assert rows["Support resolution"]["p50"] == "0.1 d"  # the row's largest is 50 h
    assert rows["Support first response"]["p50"] == "–"
    assert wording.hours(30.0) == "30.0 h" and wording.hours(60.0) == "2.5 d"
