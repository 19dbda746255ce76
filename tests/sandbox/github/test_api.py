"""The fake GitHub REST API, driven over real HTTP by the real PyGithub."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import realdata
import requests
from github import Auth, Github, GithubRetry
from github.GithubException import (
    BadAttributeException,
    BadCredentialsException,
    GithubException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
    UnknownObjectException,
)
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.github.service import app as github_app
from sandbox.http import SandboxHTTPServer, SandboxState
from sandbox.world.generate import generate
from sandbox.world.model import Cluster, Person, PullRequest, Repo, Review, Team, World

TOKEN = "github-token"
BOT = "teamtide-bot"
ORG = "acme"
SERVING, INFRA, EMPTY = f"{ORG}/model-serving", f"{ORG}/infra-eks", f"{ORG}/empty"
START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
CLOCK = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
END = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
LOGINS = ["adab", "boc", "cyd", "dee"]


# ---------------------------------------------------------------------------------------------
# A small hand-built world: named scenarios plus random filler for paging


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2025-{day}T{hour:02d}:00:00+00:00")


def scenarios() -> dict[str, dict[str, Any]]:
    """Pulls in `SERVING` with known lives (reviews as (login, state, time))."""
    return {
        "left_draft_then_merged": dict(
            author="adab",
            created=at("05-02"),
            draft_until=at("05-03", 10),
            reviews=[("boc", "COMMENTED", at("05-03", 15)), ("cyd", "APPROVED", at("05-04"))],
            merged_at=at("05-04", 12),
            labels=["infra"],
        ),
        "still_draft": dict(author="boc", created=at("05-10"), still_draft=True),
        "ready_after_clock": dict(
            author="cyd",
            created=at("05-30", 10),
            draft_until=at("06-03", 10),
            reviews=[("boc", "APPROVED", at("06-04"))],
            merged_at=at("06-05"),
        ),
        "reviewed_after_clock": dict(
            author="dee",
            created=at("05-28"),
            reviews=[("cyd", "CHANGES_REQUESTED", at("05-29")), ("adab", "APPROVED", at("06-02"))],
            merged_at=at("06-02", 15),
            labels=["bug", "ds-support"],
        ),
        "closed_unmerged": dict(author="adab", created=at("05-05"), closed_at=at("05-06")),
        "created_after_clock": dict(
            author="boc", created=at("06-10"), reviews=[("adab", "COMMENTED", at("06-11"))]
        ),
    }


def filler(rng: random.Random, created: dt.datetime) -> dict[str, Any]:
    author = rng.choice(LOGINS)
    draft_until = created + dt.timedelta(hours=rng.randint(2, 60)) if rng.random() < 0.3 else None
    moment, reviews = draft_until or created, []
    for _ in range(rng.randint(0, 3)):
        moment += dt.timedelta(hours=rng.randint(1, 40))
        reviewer = rng.choice([login for login in LOGINS if login != author])
        reviews.append(
            (reviewer, rng.choice(["COMMENTED", "APPROVED", "CHANGES_REQUESTED"]), moment)
        )
    end = moment + dt.timedelta(hours=rng.randint(1, 30))
    fate = rng.random()
    return dict(
        author=author,
        created=created,
        draft_until=draft_until,
        reviews=reviews,
        merged_at=end if fate < 0.6 else None,
        closed_at=end if 0.6 <= fate < 0.75 else None,
        labels=rng.sample(["infra", "bug", "ds-support"], rng.randint(0, 2)),
    )


def hand_world(seed: int = 7) -> World:
    rng = random.Random(seed)
    specs: list[tuple[str, str, dict[str, Any]]] = [(SERVING, k, v) for k, v in scenarios().items()]
    for repo, count in ((SERVING, 40), (INFRA, 12)):
        for i in range(count):
            created = START + dt.timedelta(seconds=rng.random() * (CLOCK - START).total_seconds())
            specs.append((repo, f"filler-{i}", filler(rng, created)))
    specs.sort(key=lambda spec: spec[2]["created"])
    numbers: dict[str, int] = {}
    pulls, review_id = [], 90_000
    for pr_id, (repo, key, spec) in enumerate(specs, start=7_000_001):
        numbers[repo] = numbers.get(repo, 0) + 1
        reviews = []
        for login, state, moment in spec.pop("reviews", []):
            review_id += 1
            reviews.append(Review(review_id, login, state, moment))
        merged = spec.get("merged_at")
        spec.setdefault("closed_at", merged)
        pull = PullRequest(
            repo=repo,
            number=numbers[repo],
            id=pr_id,
            title=f"{key} in {repo}",
            branch=f"feature/{key}",
            additions=rng.randint(1, 900),
            deletions=rng.randint(0, 300),
            reviews=reviews,
            body=f"Body of {key}",
            **spec,
        )
        pulls.append(pull)
    serving_fillers = [p for p in pulls if p.repo == SERVING and "filler" in p.title]
    for variant in range(3):  # one malformed pull of each kind of breakage
        next(p for p in serving_fillers if p.number % 3 == variant).malformed = True
    return World(
        seed=seed,
        scale="hand",
        start=START,
        clock=CLOCK,
        end=END,
        timezone="UTC",
        teams=[Team("Research", "research")],
        people=[
            Person(
                "Ada Byrne", "ada@acme.example", "acc-ada", "adab", other_emails=["ada@gh.example"]
            ),
            Person("Bo Chen", "bo@acme.example", "acc-bo", "boc"),
            Person("Cy Diaz", "cy@acme.example", "acc-cy", "cyd"),
            Person("Dee Eng", "dee@acme.example", "acc-dee", "dee"),
            Person("Teamtide Bot", "bot@acme.example", "acc-bot", BOT, in_org_file=False),
        ],
        reorg_date=dt.date(2025, 4, 1),
        reorg_name="Squad split",
        statuses=[],
        projects={},
        issues=[],
        repos=[Repo(SERVING, 700_001, "Model serving"), Repo(INFRA, 700_002), Repo(EMPTY, 700_003)],
        pulls=pulls,
        cluster=Cluster(),
        bot_account=BOT,
    )


def scenario(world: World, key: str) -> PullRequest:
    return next(p for p in world.pulls if p.title == f"{key} in {SERVING}")


def visible(world: World, repo: str) -> list[PullRequest]:
    return [p for p in world.pulls if p.repo == repo and p.created <= world.clock]


def second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


# ---------------------------------------------------------------------------------------------
# Fixtures: a fresh world and server per test (a test may move the clock or set faults)


@pytest.fixture
def world() -> World:
    return hand_world()


@pytest.fixture
def state(world: World) -> SandboxState:
    return SandboxState(world=world)


def serve(state: SandboxState) -> SandboxHTTPServer:
    return SandboxHTTPServer(Starlette(routes=[Mount("/github", github_app(state))]))


@pytest.fixture
def api(state: SandboxState) -> Iterator[str]:
    with serve(state) as server:
        yield f"{server.url}/github"


def client(api: str, *, token: str = TOKEN, per_page: int = 30, retry: Any = None) -> Github:
    return Github(
        base_url=api,
        auth=Auth.Token(token),
        per_page=per_page,
        seconds_between_requests=0,
        retry=retry,
        timeout=10,
    )


def get(api: str, path: str, **headers: str) -> requests.Response:
    url = path if path.startswith("http") else f"{api}{path}"
    return requests.get(url, headers={"Authorization": f"token {TOKEN}", **headers}, timeout=10)


# ---------------------------------------------------------------------------------------------
# Listing, detail, reviews and events through PyGithub


def test_pygithub_lists_every_visible_pull_of_every_repo_newest_update_first(
    api: str, world: World
) -> None:
    gh = client(api, per_page=4)
    repos = list(gh.get_organization(ORG).get_repos())
    assert sorted(r.full_name for r in repos) == sorted(r.full_name for r in world.repos)
    for repo in repos:
        pulls = list(repo.get_pulls(state="all", sort="updated", direction="desc"))
        numbers = [p.number for p in pulls]
        assert sorted(numbers) == sorted(p.number for p in visible(world, repo.full_name))
        assert len(set(numbers)) == len(numbers)
        updated = [p.updated_at for p in pulls]
        assert updated == sorted(updated, reverse=True)
    assert gh.get_repo(SERVING).get_pulls(state="all").totalCount == len(visible(world, SERVING))
    future = scenario(world, "created_after_clock")
    with pytest.raises(UnknownObjectException):
        gh.get_repo(SERVING).get_pull(future.number)


def test_state_filters_split_open_and_closed_pulls_as_of_the_clock(api: str, world: World) -> None:
    repo = client(api, per_page=100).get_repo(SERVING)
    shown = visible(world, SERVING)
    closed = {p.number for p in shown if (p.closed_at or p.merged_at or END) <= CLOCK}
    assert {p.number for p in repo.get_pulls(state="closed")} == closed
    assert {p.number for p in repo.get_pulls()} == {p.number for p in shown} - closed
    merged = {p.number for p in repo.get_pulls(state="closed") if p.merged_at is not None}
    assert merged == {p.number for p in shown if p.merged_at and p.merged_at <= CLOCK}


def test_list_items_agree_with_the_detail_of_each_pull(api: str, world: World) -> None:
    repo = client(api, per_page=10).get_repo(SERVING)
    listed = {p.number: p for p in repo.get_pulls(state="all")[:25]}
    rows = {
        r["number"]: r for r in get(api, f"/repos/{SERVING}/pulls?state=all&per_page=100").json()
    }
    for number, item in listed.items():
        row = rows[number]
        assert "additions" not in row and "merged" not in row and "comments" not in row
        detail = repo.get_pull(number)
        for key in (
            "title",
            "state",
            "draft",
            "created_at",
            "updated_at",
            "closed_at",
            "merged_at",
        ):
            assert row[key] == detail.raw_data[key], key
        assert (item.title, item.state, item.draft, item.updated_at, item.merged_at) == (
            detail.title,
            detail.state,
            detail.draft,
            detail.updated_at,
            detail.merged_at,
        )
        assert row["head"]["ref"] == detail.head.ref == item.head.ref
        assert row["user"]["login"] == detail.user.login == item.user.login
        pr = next(p for p in world.pulls if p.repo == SERVING and p.number == number)
        assert (detail.additions, detail.deletions) == (pr.additions, pr.deletions)
        assert item.additions == pr.additions  # a list item completes itself from its `url`
        assert detail.merged == (pr.merged_at is not None and pr.merged_at <= CLOCK)
        assert [label.name for label in detail.labels] == pr.labels


def test_reviews_and_ready_for_review_follow_the_world_up_to_the_clock(
    api: str, world: World
) -> None:
    repo = client(api, per_page=2).get_repo(SERVING)
    for pr in visible(world, SERVING):
        pull = repo.get_pull(pr.number)
        reviews = list(pull.get_reviews())
        expected = [r for r in pr.reviews if r.submitted_at <= CLOCK]
        assert [(r.user.login, r.state, r.submitted_at) for r in reviews] == [
            (r.user, r.state, second(r.submitted_at)) for r in expected
        ]
        ready = [e.created_at for e in pull.get_issue_events() if e.event == "ready_for_review"]
        left_draft = pr.draft_until is not None and pr.draft_until <= CLOCK
        assert ready == ([second(pr.draft_until)] if left_draft else [])  # type: ignore[arg-type]
        assert pull.draft == (pr.still_draft or (pr.draft_until is not None and not left_draft))


def test_timeline_orders_commits_ready_event_reviews_and_merge(api: str, world: World) -> None:
    pr = scenario(world, "left_draft_then_merged")
    issue = client(api, per_page=3).get_repo(SERVING).get_issue(pr.number)
    events = list(issue.get_timeline())
    kinds = [e.event for e in events]
    assert kinds[0] == "committed"
    assert kinds.index("ready_for_review") < kinds.index("reviewed") < kinds.index("merged")
    assert kinds.count("reviewed") == 2 and kinds[-1] == "closed"
    ready = next(e for e in events if e.event == "ready_for_review")
    assert ready.created_at == pr.draft_until and ready.actor.login == pr.author
    reviewed = [e.raw_data for e in events if e.event == "reviewed"]
    assert [r["state"] for r in reviewed] == ["commented", "approved"]  # lower case on the timeline
    commits = list(client(api).get_repo(SERVING).get_pull(pr.number).get_commits())
    assert [c.sha for c in commits] == [e.raw_data["sha"] for e in events if e.event == "committed"]


def test_issues_list_pulls_with_a_pull_request_key_and_honour_since(api: str, world: World) -> None:
    repo = client(api, per_page=5).get_repo(SERVING)
    since = dt.datetime(2025, 5, 20, tzinfo=dt.UTC)
    issues = list(repo.get_issues(state="all", since=since, sort="updated", direction="asc"))
    assert issues and all(i.pull_request is not None for i in issues)
    assert all(i.updated_at >= since for i in issues)
    assert [i.updated_at for i in issues] == sorted(i.updated_at for i in issues)
    everything = {p.number: p.updated_at for p in repo.get_pulls(state="all")}
    assert {i.number for i in issues} == {
        n for n, updated in everything.items() if updated >= since
    }
    late = scenario(world, "reviewed_after_clock")
    issue = repo.get_issue(late.number)
    assert issue.state == "open" and issue.pull_request.html_url.endswith(f"/pull/{late.number}")
    assert [label.name for label in issue.labels] == late.labels


def test_pull_sorts_and_directions_order_the_listing(api: str, world: World) -> None:
    for sort, key in (("created", "created_at"), ("updated", "updated_at")):
        for direction in ("asc", "desc"):
            rows = get(
                api,
                f"/repos/{SERVING}/pulls?state=all&per_page=100&sort={sort}&direction={direction}",
            ).json()
            values = [r[key] for r in rows]
            assert values == sorted(values, reverse=direction == "desc"), (sort, direction)
    default = [
        r["created_at"] for r in get(api, f"/repos/{SERVING}/pulls?state=all&per_page=100").json()
    ]
    assert default == sorted(default, reverse=True)  # created, newest first, unless asked otherwise
    long_running = get(api, f"/repos/{SERVING}/pulls?sort=long-running&per_page=100").json()
    month_ago = (CLOCK - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(
        r["created_at"] < month_ago <= r["updated_at"] and r["state"] == "open"
        for r in long_running
    )
    assert get(api, f"/repos/{SERVING}/pulls?state=bogus").status_code == 422


def test_users_orgs_and_repositories_answer_like_github(api: str, world: World) -> None:
    gh = client(api)
    me = gh.get_user()
    assert me.login == BOT and me.type == "User"
    assert gh.get_user("adab").name == "Ada Byrne"
    assert gh.get_organization(ORG).login == ORG
    assert sorted(r.full_name for r in me.get_repos()) == sorted(r.full_name for r in world.repos)
    repo = gh.get_repo(SERVING)
    assert (repo.id, repo.private, repo.default_branch) == (700_001, True, "main")
    assert repo.open_issues_count == len(list(repo.get_pulls()))
    with pytest.raises(UnknownObjectException):
        gh.get_repo(f"{ORG}/nope")
    with pytest.raises(UnknownObjectException):
        gh.get_user("nobody-here")
    missing = get(api, f"/repos/{SERVING}/pulls/9999")
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"


# ---------------------------------------------------------------------------------------------
# Shapes against the recordings from api.github.com


def same_shape(real: Any, ours: Any, where: str = "$") -> list[str]:
    """Keys the recording has and we lack, and JSON types that differ, where both have a value."""
    if real is None or ours is None:
        return []
    if isinstance(real, dict):
        if not isinstance(ours, dict):
            return [f"{where}: object expected"]
        problems = [f"{where}.{key}: missing" for key in real if key not in ours]
        for key in real.keys() & ours.keys():
            problems += same_shape(real[key], ours[key], f"{where}.{key}")
        return problems
    if isinstance(real, list):
        if not isinstance(ours, list):
            return [f"{where}: array expected"]
        return same_shape(real[0], ours[0], f"{where}[0]") if real and ours else []
    kinds = (bool, int, float, str)
    real_kind = next(k for k in kinds if isinstance(real, k))
    return (
        []
        if type(ours) is real_kind
        else [f"{where}: {type(ours).__name__} is not {real_kind.__name__}"]
    )


def recorded(name: str) -> Any:
    return json.loads((realdata.folder("github") / name).read_text())["body"]


def test_shapes_match_the_recordings_from_api_github_com(api: str, world: World) -> None:
    merged = scenario(world, "left_draft_then_merged").number
    draft = scenario(world, "still_draft").number
    base = f"/repos/{SERVING}"
    pairs = [
        ("PullRequest.setUp__01__repos_PyGithub_PyGithub.json", base, None),
        (
            "Repository.testGetPullsWithArguments__01__repos_PyGithub_PyGithub_pulls_state_closed.json",
            f"{base}/pulls?state=closed",
            None,
        ),
        (
            "PullRequest.setUp__02__repos_PyGithub_PyGithub_pulls_31.json",
            f"{base}/pulls/{merged}",
            None,
        ),
        (
            "PullRequest.setUp__10__repos_austinsasko_PyGithub_pulls_21.json",
            f"{base}/pulls/{merged}",
            None,
        ),
        (
            "PullRequest.testMarkReadyForReview__01__repos_didot_PyGithub_pulls_2.json",
            f"{base}/pulls/{draft}",
            None,
        ),
        (
            "PullRequestReview.testAttributes__01__repos_PyGithub_PyGithub_pulls_538_reviews.json",
            f"{base}/pulls/{merged}/reviews",
            None,
        ),
        (
            "PullRequest.testGetCommits__01__repos_PyGithub_PyGithub_pulls_31_commits.json",
            f"{base}/pulls/{merged}/commits",
            None,
        ),
        (
            "PullRequest.testGetIssueEvents__01__repos_PyGithub_PyGithub_issues_31_events.json",
            f"{base}/issues/{merged}/events",
            "event",
        ),
        (
            "PullRequest.testGetIssueTimeline__01__repos_PyGithub_PyGithub_issues_31_timeline.json",
            f"{base}/issues/{merged}/timeline",
            "event",
        ),
        (
            "Issue.testGetTimeline__01__repos_PyGithub_PyGithub_issues_28_timeline.json",
            f"{base}/issues/{merged}/timeline",
            "event",
        ),
    ]
    problems, compared = [], 0
    for name, path, by in pairs:
        real, ours = recorded(name), get(api, path).json()
        if by is None:
            problems += [f"{name}: {p}" for p in same_shape(real, ours)]
            compared += 1
            continue
        ours_by_kind = {item[by]: item for item in reversed(ours)}
        for item in real:
            if item[by] in ours_by_kind:
                problems += [
                    f"{name} {item[by]}: {p}" for p in same_shape(item, ours_by_kind[item[by]])
                ]
                compared += 1
    assert not problems
    assert compared >= 15  # labeled, merged, closed, committed and reviewed events took part
    closed = next(
        e for e in get(api, f"{base}/issues/{merged}/events").json() if e["event"] == "closed"
    )
    ready = next(
        e
        for e in get(api, f"{base}/issues/{merged}/events").json()
        if e["event"] == "ready_for_review"
    )
    assert set(ready) == set(closed) - {"state_reason"}  # an issue event like any other


# ---------------------------------------------------------------------------------------------
# Paging, conditional requests, rate limits, faults and credentials


def test_link_headers_walk_every_page_from_the_same_host_and_prefix(api: str, world: World) -> None:
    first = get(api, f"/repos/{SERVING}/pulls?state=all&per_page=7")
    links = requests.utils.parse_header_links(first.headers["Link"])
    assert [link["rel"] for link in links] == ["next", "last"]
    seen, response, pages = [], first, 0
    while True:
        pages += 1
        seen += [row["number"] for row in response.json()]
        rels = {
            link["rel"]: link["url"]
            for link in requests.utils.parse_header_links(response.headers["Link"])
        }
        for url in rels.values():
            assert url.startswith(f"{api}/repositories/700001/pulls?state=all&per_page=7&page=")
        if "next" not in rels:
            assert set(rels) == {"prev", "first"}
            break
        if pages > 1:
            assert set(rels) == {"prev", "next", "last", "first"}
        response = get(api, rels["next"])
    assert pages == int(
        urllib.parse.parse_qs(urllib.parse.urlsplit(links[1]["url"]).query)["page"][0]
    )
    assert sorted(seen) == sorted(p.number for p in visible(world, SERVING))
    whole = get(api, f"/repos/{SERVING}/pulls?state=all&per_page=500")
    assert "Link" not in whole.headers and len(whole.json()) == len(seen)  # per_page caps at 100


def test_conditional_requests_answer_304_without_spending_the_budget(api: str) -> None:
    first = get(api, f"/repos/{SERVING}/pulls/1")
    remaining = int(first.headers["X-RateLimit-Remaining"])
    again = get(api, f"/repos/{SERVING}/pulls/1", **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.content
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining
    changed = get(api, f"/repos/{SERVING}/pulls/2", **{"If-None-Match": first.headers["ETag"]})
    assert (
        changed.status_code == 200
        and int(changed.headers["X-RateLimit-Remaining"]) == remaining - 1
    )


def test_rate_limit_headers_count_down_and_rate_limit_itself_is_free(api: str) -> None:
    gh = client(api)
    gh.get_repo(SERVING)
    before, limit = gh.rate_limiting
    gh.get_repo(INFRA)
    assert gh.rate_limiting == (before - 1, limit) and limit == 5000
    core = gh.get_rate_limit().resources.core
    assert (core.remaining, core.limit, core.used) == (before - 1, 5000, 5000 - before + 1)
    assert gh.get_rate_limit().resources.core.remaining == before - 1
    headers = get(api, "/user").headers
    assert (
        headers["X-RateLimit-Resource"] == "core"
        and int(headers["X-RateLimit-Used"]) == 5000 - before + 2
    )
    assert int(headers["X-RateLimit-Reset"]) > time.time()


def test_an_exhausted_budget_raises_rate_limit_exceeded_without_retries(
    api: str, state: SandboxState
) -> None:
    state.set_rate_budget("github", limit=3, window_seconds=60)
    gh = client(api)
    for _ in range(3):
        gh.get_repo(SERVING)
    with pytest.raises(RateLimitExceededException) as refused:
        gh.get_repo(SERVING)
    assert refused.value.status == 403
    assert refused.value.data["message"].startswith("API rate limit exceeded for user ID")
    assert refused.value.headers["x-ratelimit-remaining"] == "0"
    capped = client(api, retry=GithubRetry(total=3, max_rate_limit_wait=5))
    with pytest.raises(RateLimitExceededExceedsMaxWait):  # the reset is a minute away
        capped.get_repo(SERVING)


def test_pygithub_retry_waits_for_the_primary_reset_then_succeeds(
    api: str, state: SandboxState
) -> None:
    state.set_rate_budget("github", limit=2, window_seconds=1)
    gh = client(api, retry=GithubRetry(total=3))
    started = time.monotonic()
    names = [gh.get_repo(name).full_name for name in (SERVING, INFRA, EMPTY)]
    assert names == [SERVING, INFRA, EMPTY]
    assert time.monotonic() - started >= 0.5  # it slept until X-RateLimit-Reset


def test_secondary_limit_retry_after_is_honoured_by_pygithub_retry(
    api: str, state: SandboxState
) -> None:
    state.set_faults("github", rate_limit_every=2, retry_after_seconds=1)
    assert get(api, "/user").status_code == 200
    refused = get(api, "/user")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert "X-RateLimit-Remaining" in refused.headers
    gh = client(api, retry=GithubRetry(total=3))
    started = time.monotonic()
    assert [gh.get_repo(name).id for name in (SERVING, INFRA)] == [700_001, 700_002]
    assert time.monotonic() - started >= 1.0
    with pytest.raises(GithubException) as without_retry:
        client(api).get_repo(SERVING)  # the 6th request of the server, an even one
    assert without_retry.value.status == 429


def test_bursts_of_server_errors_are_retried_by_pygithub(api: str, state: SandboxState) -> None:
    state.set_faults("github", error_burst=2, error_status=502)
    assert client(api, retry=GithubRetry(total=3)).get_repo(SERVING).id == 700_001
    state.set_faults("github", error_burst=1, error_status=503)
    with pytest.raises(GithubException) as failed:
        client(api).get_repo(SERVING)
    assert failed.value.status == 503


def test_bad_credentials_raise_and_bearer_tokens_work(api: str) -> None:
    with pytest.raises(BadCredentialsException) as refused:
        _ = client(api, token="wrong").get_user().login
    assert refused.value.status == 401 and refused.value.data["message"] == "Bad credentials"
    bearer = requests.get(f"{api}/user", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert bearer.status_code == 200 and bearer.json()["login"] == BOT


# ---------------------------------------------------------------------------------------------
# The clock and malformed records


def test_advancing_the_clock_reveals_pulls_reviews_and_moves_updated_at(
    api: str, state: SandboxState, world: World
) -> None:
    repo = client(api).get_repo(SERVING)
    late = scenario(world, "reviewed_after_clock")
    before = repo.get_pull(late.number)
    assert before.state == "open" and len(list(before.get_reviews())) == 1
    draft = scenario(world, "ready_after_clock")
    assert repo.get_pull(draft.number).draft
    count = repo.get_pulls(state="all").totalCount

    state.advance(dt.datetime(2025, 6, 12, tzinfo=dt.UTC))
    after = repo.get_pull(late.number)
    assert [r.user.login for r in after.get_reviews()] == ["cyd", "adab"]
    assert after.merged and after.updated_at == late.merged_at > before.updated_at
    assert not repo.get_pull(draft.number).draft
    ready = [
        e.created_at
        for e in repo.get_pull(draft.number).get_issue_events()
        if e.event == "ready_for_review"
    ]
    assert ready == [draft.draft_until]
    assert repo.get_pulls(state="all").totalCount == count + 1
    newest = repo.get_pulls(state="all", sort="created", direction="desc")[0]
    assert newest.number == scenario(world, "created_after_clock").number


def test_malformed_pulls_are_broken_only_while_the_fault_is_on(
    api: str, state: SandboxState, world: World
) -> None:
    flagged = {p.number for p in world.pulls if p.repo == SERVING and p.malformed}
    assert len(flagged) == 3
    path = f"/repos/{SERVING}/pulls?state=all&per_page=100"
    assert all(
        "number" in r and r["user"] and r["created_at"] != "not-a-date"
        for r in get(api, path).json()
    )

    state.set_faults("github", malformed=True)
    rows = get(api, path).json()
    broken = [
        r for r in rows if "number" not in r or r["user"] is None or r["created_at"] == "not-a-date"
    ]
    assert len(broken) == 3 and len(rows) == len(visible(world, SERVING))
    assert {r["url"].rsplit("/", 1)[1] for r in broken} == {str(n) for n in flagged}
    gh = client(api, per_page=100)
    by_number = {n: gh.get_repo(SERVING).get_pull(n) for n in flagged}
    variants = {n % 3: pull for n, pull in by_number.items()}
    with pytest.raises(BadAttributeException):
        _ = variants[0].created_at
    assert variants[1].user is None
    assert variants[2].raw_data.get("number") is None and variants[2].title


# ---------------------------------------------------------------------------------------------
# The generated world, when the generator is there


def test_pygithub_reads_the_generated_tiny_world() -> None:
    world = generate(1, "tiny", end=dt.date(2025, 6, 30))
    state = SandboxState(world=world)
    with serve(state) as server:
        api = f"{server.url}/github"
        gh = client(api, per_page=50)
        listed = 0
        for repo in gh.get_organization(ORG).get_repos():
            pulls = list(repo.get_pulls(state="all", sort="updated", direction="desc"))
            truth = {p.number: p for p in visible(world, repo.full_name)}
            assert sorted(p.number for p in pulls) == sorted(truth)
            assert [p.updated_at for p in pulls] == sorted(
                (p.updated_at for p in pulls), reverse=True
            )
            listed += len(pulls)
            for pull in pulls[:3]:
                seen = [r for r in truth[pull.number].reviews if r.submitted_at <= world.clock]
                assert len(list(pull.get_reviews())) == len(seen)
        assert listed == sum(1 for p in world.pulls if p.created <= world.clock)

        left = [p for p in world.pulls if p.draft_until and p.draft_until <= world.clock][:3]
        for pr in left:
            events = gh.get_repo(pr.repo).get_pull(pr.number).get_issue_events()
            assert [e.created_at for e in events if e.event == "ready_for_review"] == [
                second(pr.draft_until)  # type: ignore[arg-type]
            ]
        broken = next(p for p in world.pulls if p.malformed)
        state.advance(max(world.clock, broken.created))  # seed 1's only one opens after the clock
        intact = get(api, f"/repos/{broken.repo}/pulls/{broken.number}").json()
        state.set_faults("github", malformed=True)
        served = get(api, f"/repos/{broken.repo}/pulls/{broken.number}").json()
        assert served != intact and intact["number"] == broken.number
