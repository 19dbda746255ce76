"""GraphQL answers turned into the REST shapes the parsers read, and the first-sync arithmetic.

The GraphQL path parses through the REST parsers, so a pull request read either way
must become the same row: checked here on one hand-written node (the shape of the
`Pulls` query's answer) against its REST twin.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from collectors.github import GithubApiError
from collectors.github_app import InstallationAuth, sign_in
from collectors.github_estimate import Estimate, page_cost
from collectors.github_graphql import broken_nodes, rest_events, rest_pull, unresolved
from collectors.github_parse import ParseError, add_timeline, listed_pull, parse_pull
from config import redaction
from config.schema import GithubSource

NODE = {
    "id": "PR_kwDOAbc",
    "number": 7,
    "fullDatabaseId": "1007",
    "title": "ENG-12 Retry uploads",
    "headRefName": "eng-12-retries",
    "author": {"login": "adab"},
    "state": "MERGED",
    "isDraft": False,
    "createdAt": "2025-06-01T09:00:00Z",
    "updatedAt": "2025-06-03T10:00:00Z",
    "mergedAt": "2025-06-03T10:00:00Z",
    "closedAt": "2025-06-03T10:00:00Z",
    "additions": 10,
    "deletions": 2,
    "url": "https://github.com/acme/x/pull/7",
    "labels": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [{"name": "bug"}]},
}
REST = {
    "number": 7,
    "id": 1007,
    "title": "ENG-12 Retry uploads",
    "head": {"ref": "eng-12-retries"},
    "user": {"login": "adab", "id": 1},
    "state": "closed",
    "draft": False,
    "created_at": "2025-06-01T09:00:00Z",
    "updated_at": "2025-06-03T10:00:00Z",
    "merged_at": "2025-06-03T10:00:00Z",
    "closed_at": "2025-06-03T10:00:00Z",
    "labels": [{"name": "bug", "color": "f00"}],
    "html_url": "https://github.com/acme/x/pull/7",
}
ITEMS = [
    {"__typename": "ConvertToDraftEvent", "createdAt": "2025-06-01T09:30:00Z"},
    {"__typename": "ReadyForReviewEvent", "createdAt": "2025-06-02T09:00:00Z"},
    {
        "__typename": "PullRequestReview",
        "fullDatabaseId": "501",
        "author": {"login": "boli"},
        "state": "APPROVED",
        "submittedAt": "2025-06-02T11:00:00Z",
    },
]
EVENTS = [
    {"event": "convert_to_draft", "created_at": "2025-06-01T09:30:00Z"},
    {"event": "ready_for_review", "created_at": "2025-06-02T09:00:00Z"},
    {
        "event": "reviewed",
        "id": 501,
        "user": {"login": "boli"},
        "state": "approved",
        "submitted_at": "2025-06-02T11:00:00Z",
    },
]


def test_a_graphql_pull_request_becomes_the_row_its_rest_twin_becomes() -> None:
    projects = {"ENG"}
    from_graphql = parse_pull(rest_pull(NODE), "acme/x", projects)
    add_timeline(from_graphql, rest_events(ITEMS))
    from_rest = parse_pull(REST, "acme/x", projects)
    add_timeline(from_rest, EVENTS)
    assert from_graphql.row == from_rest.row
    assert from_graphql.reviews == from_rest.reviews
    assert from_graphql.row["state"] == "closed" and from_graphql.row["source_id"] == "1007"
    assert from_graphql.row["linked_keys"] == ["ENG-12"]
    # converted to draft first: it was created ready, so no ready_at (as on the REST path)
    assert from_graphql.row["ready_at"] is None
    assert from_graphql.row["first_review_at"] == dt.datetime(2025, 6, 2, 11, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"author": None}, "user (the author) is missing"),
        ({"createdAt": "not-a-date"}, "created_at"),
        ({"state": "SHUT"}, "state is neither open nor closed"),
    ],
)
def test_a_broken_graphql_record_is_refused_for_the_rest_paths_reason(
    broken: dict, reason: str
) -> None:
    with pytest.raises(ParseError, match=re.escape(reason)):
        parse_pull(rest_pull(NODE | broken), "acme/x", {"ENG"})
    with pytest.raises(ParseError, match="number"):
        listed_pull(rest_pull(NODE | {"number": None}))


def test_the_cost_of_a_page_follows_githubs_formula() -> None:
    # 1 request for pullRequests + 100 for labels + 100 for timelineItems = 201 / 100 -> 2
    assert page_cost(100) == 2
    # 1 + 20 + 20 = 41 / 100 -> 0, and a query costs at least one point
    assert page_cost(20) == 1


def test_the_estimate_says_repositories_pull_requests_points_and_hours() -> None:
    # medium-like: 12,000 pull requests in 40 repositories of 300 -> 3 pages each, 2 points
    # a page: 40 * 3 * 2 = 240 points; 240 / 5000 = 0.048 of an hour's budget: 5%
    said = Estimate(40, 12_000, 240, limit=5000, remaining=5000).sentence()
    assert "40 repositories" in said and "12,000 pull requests" in said
    assert "240 GraphQL points" in said and "5% of this token's" in said and "left now" not in said
    # 11,000 points with 1,000 left: (11,000 - 1,000) / 5,000 = 2 resets to wait for
    over = Estimate(400, 500_000, 11_000, limit=5000, remaining=1000).sentence()
    assert "2.2 h" in over and "1,000 are left now" in over and "about 2 reset(s)" in over


def pem(path: Path) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(text)
    return text


def test_an_app_signs_in_with_a_key_file_that_joins_the_redactor(tmp_path: Path) -> None:
    text = pem(tmp_path / "app.pem")
    auth = sign_in(
        GithubSource(app_id=12, installation_id=34, private_key=str(tmp_path / "app.pem"))
    )
    assert isinstance(auth, InstallationAuth) and auth.installation_id == 34
    body = text.strip().splitlines()[5]
    assert body not in redaction.redact(f"the key was {text.strip()}")


def test_an_app_key_that_cannot_sign_is_refused_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
    )
    with pytest.raises(ValueError, match="cannot sign"):
        sign_in(GithubSource(app_id=1, installation_id=2, private_key=str(tmp_path / "bad.pem")))
    with pytest.raises(ValueError, match="cannot read the key file"):
        sign_in(GithubSource(app_id=1, installation_id=2, private_key=str(tmp_path / "none")))


@pytest.mark.parametrize(
    ("keys", "where"),
    [
        ({"token": "t", "app_id": 1, "installation_id": 2, "private_key": "k"}, "app_id"),
        ({"app_id": 1}, "installation_id"),
        ({"installation_id": 2, "private_key": "k"}, "installation_id"),
    ],
)
def test_a_token_and_an_app_exclude_each_other_and_an_app_needs_all_three(
    keys: dict, where: str
) -> None:
    with pytest.raises(ValueError, match=where):
        GithubSource(**keys)


def test_a_pull_request_github_could_not_resolve_is_set_aside_with_what_github_said() -> None:
    # GitHub nulls a node whose non-null field failed, and names it in the error's path
    errors = [
        {
            "message": "Cannot return null for non-nullable field PullRequest.number",
            "path": ["repository", "pullRequests", "nodes", 1, "number"],
        }
    ]
    broken = broken_nodes(errors, 3)
    assert list(broken) == [1]
    reject = unresolved("acme/x", None, broken[1])
    assert reject.key == "acme/x"
    assert reject.reason.startswith("GitHub could not resolve number: Cannot return null")
    assert json.loads(reject.payload or "")["path"][3] == 1
    # an error outside the page's pull requests leaves the page incomplete: never stored
    with pytest.raises(GithubApiError, match="partial answer"):
        broken_nodes([{"message": "timeout", "path": ["repository", "pullRequests"]}], 3)
