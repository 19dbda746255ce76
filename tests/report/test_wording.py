"""The report's English: counts of support requests."""

from __future__ import annotations

from report import wording


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
