"""The sandbox's GitHub GraphQL API, over real HTTP: GitHub's validation, limits, cost and facts."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from github import Auth, Github
from github.GithubException import GithubException, UnknownObjectException

from sandbox.github.limits import GRAPHQL_BUDGET
from sandbox.server import Sandbox
from sandbox.world.generate import generate

TOKEN = "github-token"
REPO = "acme/model-serving"  # 39 pull requests at the clock in the tiny world of seed 1

PULLS = """
query Pulls($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        number fullDatabaseId title body url state isDraft createdAt updatedAt mergedAt closedAt
        author { login } headRefName baseRefName additions deletions
        labels(first: 100) { nodes { name } }
        reviews(first: 100) { totalCount nodes { fullDatabaseId author { login } state submittedAt } }
        timelineItems(first: 100, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {
          nodes { __typename ... on ReadyForReviewEvent { createdAt } }
        }
      }
    }
  }
}
"""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(generate(1, "tiny")) as served:
        yield served


def post(sandbox: Sandbox, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
    token = kw.pop("token", TOKEN)
    path = kw.pop("path", "/graphql")
    return requests.post(
        f"{sandbox.github_url}{path}",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"bearer {token}"},
        timeout=30,
    )


def errors(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" not in body, body
    return body["errors"]


def pulls_page(
    sandbox: Sandbox, first: int, after: str | None = None, repo: str = REPO
) -> dict[str, Any]:
    owner, name = repo.split("/")
    response = post(sandbox, PULLS, {"owner": owner, "name": name, "first": first, "after": after})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["repository"]["pullRequests"]


# ---------------------------------------------------------------------------------------------
# Refusals with GitHub's shapes


def test_an_unknown_field_or_argument_is_refused_as_github_refuses_it(sandbox: Sandbox) -> None:
    found = errors(post(sandbox, "query Me { viewer { login nickname } }"))
    assert found == [
        {
            "path": ["query Me", "viewer", "nickname"],
            "extensions": {"code": "undefinedField", "typeName": "User", "fieldName": "nickname"},
            "locations": [{"line": 1, "column": 27}],
            "message": "Field 'nickname' doesn't exist on type 'User'",
        }
    ]
    found = errors(post(sandbox, '{ repository(owner: "acme", name: "x", sort: 1) { id } }'))
    assert found[0]["extensions"] == {
        "code": "argumentNotAccepted",
        "name": "repository",
        "typeName": "Field",
        "argumentName": "sort",
    }
    assert found[0]["message"] == "Field 'repository' doesn't accept argument 'sort'"
    found = errors(post(sandbox, '{ repository(owner: "acme") { id } }'))
    assert found[0]["message"] == "Field 'repository' is missing required arguments: name"
    assert found[0]["extensions"]["code"] == "missingRequiredArguments"


def test_a_field_the_sandbox_does_not_model_is_refused_not_answered_null(sandbox: Sandbox) -> None:
    found = errors(post(sandbox, "{ viewer { login bio } }"))  # valid on GitHub
    assert found[0]["type"] == "SANDBOX_UNSUPPORTED"
    assert "User.bio" in found[0]["message"]
    owner, name = REPO.split("/")
    query = (
        f'{{ repository(owner: "{owner}", name: "{name}") {{ pullRequest(number: 1) {{'
        " timelineItems(first: 5) { totalCount } } } }"
    )
    body = post(sandbox, query).json()  # every kind of item, commits too: not modelled
    assert body["data"]["repository"]["pullRequest"] is None
    assert body["errors"][0]["type"] == "SANDBOX_UNSUPPORTED"


def test_every_connection_needs_first_or_last_within_one_to_a_hundred(sandbox: Sandbox) -> None:
    missing = errors(
        post(sandbox, '{ organization(login: "acme") { repositories { totalCount } } }')
    )
    assert missing == [
        {
            "type": "MISSING_PAGINATION_BOUNDARIES",
            "path": ["organization", "repositories"],
            "locations": [{"line": 1, "column": 33}],
            "message": "You must provide a `first` or `last` value to properly paginate the "
            "`repositories` connection.",
        }
    ]
    too_many = errors(
        post(sandbox, '{ organization(login: "acme") { repositories(last: 101) { totalCount } } }')
    )
    assert too_many[0]["type"] == "EXCESSIVE_PAGINATION"
    assert too_many[0]["message"] == (
        "Requesting 101 records on the `repositories` connection exceeds the `last` limit of "
        "100 records."
    )


def test_a_query_over_half_a_million_nodes_is_refused(sandbox: Sandbox) -> None:
    query = """{ organization(login: "acme") { repositories(first: 100) { nodes {
      pullRequests(first: 100) { nodes { reviews(first: 100) { totalCount } } } } } } }"""
    found = errors(post(sandbox, query))
    # 100 repositories + 100 x 100 pulls + 100 x 100 x 100 reviews = 1,010,100 nodes
    assert found[0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert found[0]["message"] == (
        "By the time this query traverses to the reviews connection, it is requesting up to "
        "1,010,100 possible nodes which exceeds the maximum limit of 500,000."
    )
    assert sandbox.state.rate_budgets[GRAPHQL_BUDGET].used == 0  # refused queries cost nothing


def test_bad_json_is_a_400_and_a_missing_query_an_error(sandbox: Sandbox) -> None:
    response = requests.post(
        f"{sandbox.github_url}/graphql",
        data=b"{not json",
        headers={"Authorization": f"bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Problems parsing JSON"
    response = requests.post(
        f"{sandbox.github_url}/graphql",
        json={"variables": {}},
        headers={"Authorization": f"bearer {TOKEN}"},
        timeout=10,
    )
    assert errors(response) == [
        {"message": "A query attribute must be specified and must be a string."}
    ]


def test_without_a_valid_token_graphql_answers_401(sandbox: Sandbox) -> None:
    response = post(sandbox, "{ viewer { login } }", token="wrong")
    assert response.status_code == 401
    assert response.json()["message"] == "Bad credentials"


# ---------------------------------------------------------------------------------------------
# Cost, rateLimit and the budget


COST_10 = """query {
  rateLimit { limit cost remaining resetAt used nodeCount }
  organization(login: "acme") {
    repositories(first: 10) { nodes { pullRequests(first: 100) { nodes {
      timelineItems(first: 100, itemTypes: [READY_FOR_REVIEW_EVENT]) { totalCount } } } } }
  }
}"""


def test_cost_and_rate_limit_follow_githubs_formula(sandbox: Sandbox) -> None:
    # requests: 1 (repositories) + 10 (pull pages, one per repository)
    #   + 10 x 100 (timeline pages, one per pull) = 1,011 -> 1,011 / 100 = 10.11 -> cost 10
    # nodes: 10 + 10 x 100 + 10 x 100 x 100 = 101,010
    response = post(sandbox, COST_10)
    rate = response.json()["data"]["rateLimit"]
    assert rate["cost"] == 10 and rate["nodeCount"] == 101_010
    assert (rate["limit"], rate["used"], rate["remaining"]) == (5000, 10, 4990)
    assert response.headers["x-ratelimit-resource"] == "graphql"
    assert response.headers["x-ratelimit-remaining"] == "4990"
    assert response.headers["x-ratelimit-used"] == "10"
    reset = dt.datetime.fromisoformat(rate["resetAt"].replace("Z", "+00:00"))
    assert int(reset.timestamp()) == int(response.headers["x-ratelimit-reset"])
    # a small query: 1 request (one connection) -> 1 / 100 rounds to 0 -> the minimum, 1
    small = post(sandbox, "{ rateLimit { cost remaining used } viewer { login } }").json()
    assert small["data"]["rateLimit"] == {"cost": 1, "remaining": 4989, "used": 11}
    # a dry run tells the cost and charges nothing
    dry = post(sandbox, "{ rateLimit(dryRun: true) { cost remaining } viewer { login } }").json()
    assert dry == {"data": {"rateLimit": {"cost": 1, "remaining": 4989}}}
    # REST's core budget is another one: GraphQL spent none of it
    core = requests.get(
        f"{sandbox.github_url}/rate_limit", headers={"Authorization": f"token {TOKEN}"}, timeout=10
    ).json()["resources"]
    assert core["core"]["used"] == 0 and core["graphql"]["used"] == 11


def test_rate_limited_once_the_points_are_spent_and_back_after_the_reset(sandbox: Sandbox) -> None:
    sandbox.state.set_rate_budget(GRAPHQL_BUDGET, limit=12, window_seconds=2)
    first = post(sandbox, COST_10).json()["data"]["rateLimit"]
    assert first["remaining"] == 2
    user_id = None
    # 10 more points do not fit in the 2 left: refused, nothing spent
    refused = post(sandbox, COST_10)
    assert refused.status_code == 200
    (error,) = errors(refused)
    assert error["type"] == "RATE_LIMITED"
    assert error["message"].startswith("API rate limit exceeded for user ID ")
    user_id = error["message"].rsplit(" ", 1)[1]
    assert refused.headers["x-ratelimit-remaining"] == "2"
    for _ in range(2):  # two 1-point queries spend the rest
        assert "errors" not in post(sandbox, "{ viewer { login } }").json()
    spent = post(sandbox, "{ viewer { login } }")
    assert errors(spent) == [
        {
            "type": "RATE_LIMITED",
            "message": f"API rate limit already exceeded for user ID {user_id}",
        }
    ]
    assert spent.headers["x-ratelimit-remaining"] == "0"
    reset = int(spent.headers["x-ratelimit-reset"])
    time.sleep(max(0.0, reset - time.time()) + 0.2)
    again = post(sandbox, "{ rateLimit { remaining used } }").json()
    assert again["data"]["rateLimit"] == {"remaining": 11, "used": 1}


def test_secondary_limits_answer_403_with_retry_after_on_graphql(sandbox: Sandbox) -> None:
    sandbox.set_faults("github", rate_limit_every=2, rate_limit_status=403, retry_after_seconds=7)
    assert post(sandbox, "{ viewer { login } }").status_code == 200
    limited = post(sandbox, "{ viewer { login } }")
    assert limited.status_code == 403
    assert limited.headers["retry-after"] == "7"
    assert "secondary rate limit" in limited.json()["message"]
    assert limited.headers["x-ratelimit-resource"] == "graphql"


def test_a_failing_node_leaves_the_rest_of_the_page(sandbox: Sandbox) -> None:
    world = sandbox.state.world
    bad = next(p for p in world.pulls if p.malformed)
    sandbox.set_faults("github", malformed=True)
    owner, name = bad.repo.split("/")
    query = """query($o: String!, $n: String!) { repository(owner: $o, name: $n) {
      pullRequests(first: 100) { nodes { number createdAt author { login } } } } }"""
    body = post(sandbox, query, {"o": owner, "n": name}).json()
    nodes = body["data"]["repository"]["pullRequests"]["nodes"]
    assert len(nodes) == sum(
        1 for p in world.pulls if p.repo == bad.repo and p.created <= world.clock
    )
    variant = bad.number % 3  # the same field REST breaks for this pull
    if variant == 2:  # number is non-null: the node is null, an error beside it
        assert nodes.count(None) == 1 and body["errors"][0]["path"][-1] == "number"
    else:
        broken = [n for n in nodes if n["createdAt"] == "not-a-date" or n["author"] is None]
        assert [n["number"] for n in broken] == [bad.number]


def test_pygithub_graphql_query_raises_not_found_for_a_missing_repository(
    sandbox: Sandbox,
) -> None:
    gh = Github(base_url=sandbox.github_url, auth=Auth.Token(TOKEN), retry=None)
    _, data = gh.requester.graphql_query("query { viewer { login } }", {})
    assert data == {"data": {"viewer": {"login": sandbox.state.world.bot_account}}}
    with pytest.raises(UnknownObjectException):
        gh.requester.graphql_query('{ repository(owner: "acme", name: "nope") { id } }', {})
    with pytest.raises(GithubException):
        gh.requester.graphql_query("{ viewer { nickname } }", {})


def test_the_enterprise_server_path_answers_too(sandbox: Sandbox) -> None:
    body = post(sandbox, "{ viewer { login } }", path="/api/graphql").json()
    assert body == {"data": {"viewer": {"login": sandbox.state.world.bot_account}}}


# ---------------------------------------------------------------------------------------------
# The same facts as REST, and cursors that hold


def _rest_pulls(sandbox: Sandbox) -> dict[int, dict[str, Any]]:
    session = requests.Session()
    session.headers["Authorization"] = f"token {TOKEN}"
    base = f"{sandbox.github_url}/repos/{REPO}"
    pulls = session.get(f"{base}/pulls", params={"state": "all", "per_page": 100}).json()
    facts = {}
    for pull in pulls:
        number = pull["number"]
        reviews = session.get(f"{base}/pulls/{number}/reviews", params={"per_page": 100}).json()
        timeline = session.get(f"{base}/issues/{number}/timeline", params={"per_page": 100}).json()
        detail = session.get(f"{base}/pulls/{number}").json()
        facts[number] = {
            "fullDatabaseId": str(pull["id"]),
            "title": pull["title"],
            "body": pull["body"] or "",
            "url": pull["html_url"],
            "state": "MERGED" if pull["merged_at"] else pull["state"].upper(),
            "isDraft": pull["draft"],
            "createdAt": pull["created_at"],
            "updatedAt": pull["updated_at"],
            "mergedAt": pull["merged_at"],
            "closedAt": pull["closed_at"],
            "author": pull["user"]["login"],
            "headRefName": pull["head"]["ref"],
            "baseRefName": pull["base"]["ref"],
            "additions": detail["additions"],
            "deletions": detail["deletions"],
            "labels": [label["name"] for label in pull["labels"]],
            "reviews": [
                (str(r["id"]), r["user"]["login"], r["state"], r["submitted_at"]) for r in reviews
            ],
            "ready": [e["created_at"] for e in timeline if e["event"] == "ready_for_review"],
        }
    return facts


def _graphql_pulls(sandbox: Sandbox) -> dict[int, dict[str, Any]]:
    facts, after = {}, None
    while True:
        found = pulls_page(sandbox, 10, after)
        for node in found["nodes"]:
            facts[node["number"]] = {
                **{k: v for k, v in node.items() if k not in ("number", "labels", "reviews")},
                "author": node["author"]["login"],
                "labels": [label["name"] for label in node["labels"]["nodes"]],
                "reviews": [
                    (r["fullDatabaseId"], r["author"]["login"], r["state"], r["submittedAt"])
                    for r in node["reviews"]["nodes"]
                ],
                "ready": [item["createdAt"] for item in node["timelineItems"]["nodes"]],
            }
            del facts[node["number"]]["timelineItems"]
        if not found["pageInfo"]["hasNextPage"]:
            return facts
        after = found["pageInfo"]["endCursor"]


def test_rest_and_graphql_tell_the_same_facts_of_every_pull(sandbox: Sandbox) -> None:
    rest, graphql = _rest_pulls(sandbox), _graphql_pulls(sandbox)
    world = sandbox.state.world
    assert len(rest) == sum(1 for p in world.pulls if p.repo == REPO and p.created <= world.clock)
    assert sorted(graphql) == sorted(rest)
    for number, facts in rest.items():
        assert graphql[number] == facts, number
    # the world has drafts that left draft, labels and reviews: the comparison compared something
    assert any(f["ready"] for f in rest.values()) and any(f["labels"] for f in rest.values())
    assert sum(len(f["reviews"]) for f in rest.values()) > len(rest)


def _busiest_next_week(sandbox: Sandbox) -> str:
    """The repository with the most pulls, already open, that something happens to in the
    week after the clock (a review, leaving draft, merge or close): the world moves with
    the date it is generated for, so the test reads it rather than naming one."""
    world = sandbox.state.world
    now, later = world.clock, world.clock + dt.timedelta(days=7)
    moves: dict[str, int] = {}
    for p in world.pulls:
        times = [p.merged_at, p.closed_at, p.draft_until, *(r.submitted_at for r in p.reviews)]
        if p.created <= now and any(t is not None and now < t <= later for t in times):
            moves[p.repo] = moves.get(p.repo, 0) + 1
    return max(sorted(moves), key=lambda repo: moves[repo])


def test_cursors_hold_while_the_clock_moves(sandbox: Sandbox) -> None:
    busy = _busiest_next_week(sandbox)  # open pulls behind the cursor move on
    page1 = pulls_page(sandbox, 3, repo=busy)
    cursor = page1["pageInfo"]["endCursor"]
    key = json.loads(base64.b64decode(cursor).decode().removeprefix("cursor:v2:"))
    assert key == [page1["nodes"][-1]["updatedAt"], page1["nodes"][-1]["number"]]
    before = pulls_page(sandbox, 100, cursor, busy)["nodes"]
    sandbox.advance(dt.timedelta(days=7))  # pulls get reviewed, merged, created meanwhile
    after = pulls_page(sandbox, 100, cursor, busy)["nodes"]
    seen = {node["number"] for node in page1["nodes"]}
    assert not seen & {node["number"] for node in after}  # nothing served twice
    assert all([n["updatedAt"], n["number"]] < key for n in after)  # only beyond the cursor
    unchanged = [n["number"] for n in before if n in after]
    changed = [n["number"] for n in before if n not in after]
    assert [n["number"] for n in after] == unchanged  # the rest of the walk, same order
    assert changed, "the clock moved nothing the walk had not reached yet"
    # the ones that changed moved to the front of a new walk, with their new times
    fresh = {n["number"]: n for n in pulls_page(sandbox, 100, repo=busy)["nodes"]}
    assert all(fresh[n]["updatedAt"] > key[0] for n in changed)


def test_paging_backwards_with_last_and_before_meets_the_forward_walk(sandbox: Sandbox) -> None:
    owner, name = REPO.split("/")
    query = """query($o: String!, $n: String!, $before: String) { repository(owner: $o, name: $n) {
      pullRequests(last: 7, before: $before) {
        pageInfo { hasPreviousPage startCursor } nodes { number } } } }"""
    backwards, before = [], None
    while True:
        found = post(sandbox, query, {"o": owner, "n": name, "before": before}).json()
        connection = found["data"]["repository"]["pullRequests"]
        backwards = [n["number"] for n in connection["nodes"]] + backwards
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    # default order: by creation, which is by number within a repository
    assert backwards == sorted(backwards) == list(range(1, len(backwards) + 1))
    assert len(backwards) == pulls_page(sandbox, 1)["totalCount"]


def test_node_finds_a_pull_by_the_node_id_rest_gives(sandbox: Sandbox) -> None:
    rest = requests.get(
        f"{sandbox.github_url}/repos/{REPO}/pulls/3",
        headers={"Authorization": f"token {TOKEN}"},
        timeout=10,
    ).json()
    query = "query($id: ID!) { node(id: $id) { ... on PullRequest { number title } } }"
    found = post(sandbox, query, {"id": rest["node_id"]}).json()
    assert found == {"data": {"node": {"number": 3, "title": rest["title"]}}}
    missing = post(sandbox, query, {"id": "MDQ6VXNlcjA="}).json()  # "04:User0"
    assert missing["data"] == {"node": None}
    assert missing["errors"][0]["type"] == "NOT_FOUND"


def test_a_burst_of_server_errors_reaches_graphql_too(sandbox: Sandbox) -> None:
    sandbox.set_faults("github", error_burst=2, error_status=502)
    assert [post(sandbox, "{ viewer { login } }").status_code for _ in range(3)] == [502, 502, 200]
    # the failed answers spent no points
    assert sandbox.state.rate_budgets[GRAPHQL_BUDGET].used == 1
