"""GitHub JSON to rows, on payloads recorded from api.github.com (found by tests/realdata.py)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
import realdata

from collectors.github import next_link
from collectors.github_parse import (
    ParseError,
    add_sizes,
    add_timeline,
    excerpt,
    first_review_at,
    linked_keys,
    parse_issue,
    parse_pull,
    parse_reviews,
    parse_timeline,
    projects_in_jql,
)


def body(name: str) -> Any:
    return json.loads((realdata.folder("github") / name).read_text())["body"]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


CLOSED_LIST = (
    "Repository.testGetPullsWithArguments__01__repos_PyGithub_PyGithub_pulls_state_closed.json"
)
PULL_31 = "PullRequest.setUp__02__repos_PyGithub_PyGithub_pulls_31.json"
DRAFT_PULL = "PullRequest.testMarkReadyForReview__01__repos_didot_PyGithub_pulls_2.json"
REVERT_PULL = "PullRequest.setUp__10__repos_austinsasko_PyGithub_pulls_21.json"
TIMELINE_31 = (
    "PullRequest.testGetIssueTimeline__01__repos_PyGithub_PyGithub_issues_31_timeline.json"
)
EVENTS_31 = "PullRequest.testGetIssueEvents__01__repos_PyGithub_PyGithub_issues_31_events.json"
ISSUE_TIMELINE_28 = "Issue.testGetTimeline__01__repos_PyGithub_PyGithub_issues_28_timeline.json"
REVIEWS_538 = "PullRequestReview.testAttributes__01__repos_PyGithub_PyGithub_pulls_538_reviews.json"


def test_a_listed_pull_request_becomes_a_row_with_its_dates_author_and_branch() -> None:
    [first, *_] = body(CLOSED_LIST)
    pull = parse_pull(first, "PyGithub/PyGithub", frozenset())
    row = pull.row
    assert (row["repo"], row["number"], row["source_id"]) == ("PyGithub/PyGithub", 39, "1448168")
    assert (row["author_account"], row["branch"], row["state"]) == ("jacquev6", "master", "closed")
    assert row["created_at"] == utc("2012-05-29T18:06:07")
    assert row["merged_at"] == row["closed_at"] == utc("2012-05-29T18:07:54")
    assert row["url"] == "https://github.com/PyGithub/PyGithub/pull/39"
    # this recording was trimmed of `draft` and `labels`: optional fields default
    assert row["draft"] is False and row["labels"] == [] and row["linked_keys"] == []
    assert [a.value for a in pull.accounts] == ["jacquev6"]
    assert "additions" not in row and not pull.sized


def test_a_draft_pull_request_is_marked_draft_and_has_no_ready_time_yet() -> None:
    pull = parse_pull(body(DRAFT_PULL), "didot/PyGithub", frozenset())
    add_timeline(pull, [])
    assert pull.row["draft"] is True and pull.row["state"] == "open"
    assert pull.row["ready_at"] is None and pull.row["first_review_at"] is None


def test_sizes_come_from_the_detail_endpoint() -> None:
    detail = body(PULL_31)
    pull = parse_pull(detail, "PyGithub/PyGithub", frozenset())
    add_sizes(pull, detail)
    assert (pull.row["additions"], pull.row["deletions"], pull.sized) == (511, 384, True)


def test_reviews_come_from_the_timeline_in_upper_case_and_other_events_are_skipped() -> None:
    events = body(TIMELINE_31)  # 3 commits, subscribed, merged, ..., line-commented, 2 reviews
    ready_at, reviews = parse_timeline(events)
    assert ready_at is None
    assert reviews == [
        {
            "review_id": "105701257",
            "reviewer_account": "sfdye",
            "state": "COMMENTED",
            "submitted_at": utc("2018-03-21T12:34:59"),
        },
        {
            "review_id": "131593233",
            "reviewer_account": "eamanu",
            "state": "COMMENTED",
            "submitted_at": utc("2018-06-25T12:54:43"),
        },
    ]


def test_the_timeline_completes_a_pull_request_with_reviews_and_reviewer_accounts() -> None:
    pull = parse_pull(body(PULL_31), "PyGithub/PyGithub", frozenset())
    add_timeline(pull, body(TIMELINE_31))
    # author jacquev6; the first review by someone else is sfdye's
    assert pull.row["first_review_at"] == utc("2018-03-21T12:34:59")
    assert [a.value for a in pull.accounts] == ["jacquev6", "eamanu", "sfdye"]


def test_issue_events_alone_and_an_issue_timeline_give_no_reviews_and_no_ready_time() -> None:
    assert parse_timeline(body(EVENTS_31)) == (None, [])
    assert parse_timeline(body(ISSUE_TIMELINE_28)) == (None, [])


def test_the_reviews_endpoint_parses_the_same_way() -> None:
    reviews = parse_reviews(body(REVIEWS_538))
    assert [(r["reviewer_account"], r["state"]) for r in reviews] == [
        ("jzelinskie", "APPROVED"),
        ("electrofelix", "COMMENTED"),
        ("sfdye", "COMMENTED"),
        ("sfdye", "COMMENTED"),
        ("sfdye", "COMMENTED"),
    ]


def test_first_review_ignores_the_authors_own_reviews_whatever_the_case_of_the_login() -> None:
    reviews = parse_reviews(body(REVIEWS_538))
    # jzelinskie reviewed first (2017-03-22); as the author, the first other review is
    # electrofelix's on 2018-03-16 14:23:47
    assert first_review_at(reviews, "JZelinskie") == utc("2018-03-16T14:23:47")
    assert first_review_at(reviews, "someone-else") == utc("2017-03-22T19:06:59")
    only_own = [r for r in reviews if r["reviewer_account"] == "sfdye"]
    assert first_review_at(only_own, "sfdye") is None


def test_a_dismissed_review_counts_and_a_pending_one_does_not() -> None:
    reviews = parse_reviews(body(REVIEWS_538))[1:3]  # electrofelix, then sfdye
    reviews[0] = reviews[0] | {"state": "PENDING", "submitted_at": None}
    reviews[1] = reviews[1] | {"state": "DISMISSED"}
    assert first_review_at(reviews, "jzelinskie") == utc("2018-03-20T14:03:38")


def _event(kind: str, at: str) -> dict[str, Any]:
    """A recorded issue event, retyped: the shape GitHub gives every issue event."""
    merged = next(e for e in body(EVENTS_31) if e["event"] == "merged")
    return copy.deepcopy(merged) | {"event": kind, "created_at": at}


def test_ready_at_is_the_first_time_a_pull_created_as_draft_left_draft() -> None:
    events = [
        _event("ready_for_review", "2025-03-02T10:00:00Z"),
        _event("convert_to_draft", "2025-03-03T10:00:00Z"),
        _event("ready_for_review", "2025-03-04T10:00:00Z"),
    ]
    assert parse_timeline(events)[0] == utc("2025-03-02T10:00:00")


def test_a_pull_created_ready_and_later_drafted_was_ready_at_creation() -> None:
    events = [
        _event("convert_to_draft", "2025-03-03T10:00:00Z"),
        _event("ready_for_review", "2025-03-04T10:00:00Z"),
    ]
    assert parse_timeline(events)[0] is None


def test_keys_in_title_and_branch_link_only_to_known_projects() -> None:
    known = frozenset({"ENG", "DS"})
    assert linked_keys(["ENG-123 Retry uploads", "eng-123-retries"], known) == ["ENG-123"]
    assert linked_keys(["[DS-7] Fix", "feature/ENG-12-slug"], known) == ["DS-7", "ENG-12"]
    assert linked_keys(["Bump feature-2", "feature-2"], known) == []
    assert linked_keys(["ENG-1234 and ENG-12", None], known) == ["ENG-1234", "ENG-12"]
    assert linked_keys(["XENG-5 is not ENG", "ds-9x", "ds-10_y"], known) == ["DS-10"]


def test_a_real_branch_full_of_dashes_and_numbers_links_nothing() -> None:
    pull = parse_pull(body(REVERT_PULL), "austinsasko/PyGithub", frozenset({"ENG"}))
    assert pull.row["branch"].startswith("revert-20-revert-19") and pull.row["linked_keys"] == []


def test_pull_request_links_use_the_given_projects() -> None:
    raw = copy.deepcopy(body(PULL_31))
    raw["title"], raw["head"]["ref"] = "OPS-4 Rotate keys", "ds-11-rotate"
    assert parse_pull(raw, "r/r", frozenset({"OPS", "DS"})).row["linked_keys"] == ["OPS-4", "DS-11"]


def test_projects_are_read_from_a_jql_filter() -> None:
    assert projects_in_jql('project in (DS, "ENG") AND status != Done') == {"DS", "ENG"}
    assert projects_in_jql("Project = ops ORDER BY updated") == {"OPS"}
    assert projects_in_jql("assignee = currentUser()") == set()
    assert projects_in_jql(None) == set()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"user": None}, "user (the author) is missing"),
        ({"created_at": "not-a-date"}, "created_at is not a timestamp: 'not-a-date'"),
        ({"number": None}, "number is missing or not a positive integer: None"),
        ({"updated_at": None}, "updated_at is missing or not text: None"),
        ({"state": "merged"}, "state is neither open nor closed: 'merged'"),
    ],
)
def test_a_broken_pull_request_is_refused_with_the_reason(
    change: dict[str, Any], reason: str
) -> None:
    raw = copy.deepcopy(body(PULL_31)) | change
    with pytest.raises(ParseError) as refused:
        parse_pull(raw, "PyGithub/PyGithub", frozenset())
    assert str(refused.value) == reason


def test_a_timeline_review_without_a_state_is_refused() -> None:
    events = copy.deepcopy(body(TIMELINE_31))
    events[-1]["state"] = None
    with pytest.raises(ParseError, match="state is missing"):
        parse_timeline(events)


def test_the_excerpt_names_the_record_without_copying_all_of_it() -> None:
    raw = copy.deepcopy(body(PULL_31)) | {"user": None}
    shown = json.loads(excerpt(raw))
    assert shown["number"] == 31 and shown["user"] is None and shown["branch"] == "master"
    assert len(excerpt(raw)) < 500 < len(json.dumps(raw))


def _issue(**changes: Any) -> dict[str, Any]:
    """An issue in the shape of GET /repos/{owner}/{repo}/issues (GitHub's REST reference)."""
    user = body(REVIEWS_538)[0]["user"]  # a recorded simple-user object
    issue = {
        "id": 1,
        "number": 1347,
        "html_url": "https://github.com/octocat/Hello-World/issues/1347",
        "title": "Found a bug",
        "user": user,
        "labels": [{"id": 208045946, "name": "bug"}],
        "state": "closed",
        "assignee": {**user, "login": "octocat"},
        "created_at": "2011-04-22T13:33:48Z",
        "updated_at": "2011-04-23T13:33:48Z",
        "closed_at": "2011-04-23T13:30:00Z",
    }
    return issue | changes


def test_a_github_issue_becomes_a_work_item() -> None:
    row = parse_issue(_issue(), "octocat/Hello-World")
    assert row is not None
    assert (row["key"], row["source"], row["project"]) == (
        "octocat/Hello-World#1347",
        "github",
        "octocat/Hello-World",
    )
    assert (row["status"], row["stage"], row["done_at"]) == (
        "closed",
        "done",
        utc("2011-04-23T13:30:00"),
    )
    assert (row["assignee_account"], row["reporter_account"]) == ("octocat", "jzelinskie")
    assert row["labels"] == ["bug"]
    open_row = parse_issue(_issue(state="open", closed_at=None), "octocat/Hello-World")
    assert open_row is not None and (open_row["stage"], open_row["done_at"]) == ("todo", None)


def test_a_pull_request_listed_by_the_issues_api_is_not_a_work_item() -> None:
    assert parse_issue(_issue(pull_request={"url": "https://x"}), "octocat/Hello-World") is None


def test_the_next_page_comes_from_the_link_header() -> None:
    link = (
        '<https://api.github.com/repositories/1/pulls?state=all&page=2>; rel="next", '
        '<https://api.github.com/repositories/1/pulls?state=all&page=5>; rel="last"'
    )
    assert next_link(link) == "https://api.github.com/repositories/1/pulls?state=all&page=2"
    assert next_link('<https://x/?page=1>; rel="prev"') is None and next_link(None) is None
