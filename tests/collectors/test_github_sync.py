"""The GitHub collector against the sandbox over real HTTP, with the real PyGithub.

Every expectation is worked out from the sandbox's world model (what happened, and when),
not from the fake API's code, so a mistake on either side shows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from github.GithubException import GithubException
from github_sync import END, TOKEN_VAR, config_for, sync
from leaks import found
from sqlalchemy import Engine, func, insert, select

from collectors.base import NullProgress
from collectors.github import RateLimitWait, api_error
from collectors.github_estimate import first_sync_estimate
from db import models
from db.migrate import upgrade
from db.session import make_engine
from sandbox.github.apps import app_of
from sandbox.server import Sandbox
from sandbox.world.generate import generate
from sandbox.world.model import World

ROOT = Path(__file__).resolve().parents[2]
ONE_REPO = "acme/model-serving"
TWO_REPOS = ["acme/model-serving", "acme/pipelines"]
THREE_REPOS = [*TWO_REPOS, "acme/notebooks"]
APIS = ["rest", "graphql"]


class Notes(NullProgress):
    """A progress display that remembers what it was told."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.totals: dict[str, int | None] = {}
        self.done: dict[str, int] = {}

    def note(self, message: str) -> None:
        self.notes.append(message)

    def start(self, stream: str, partition: str, total: int | None) -> None:
        self.totals[partition] = total

    def advance(self, stream: str, partition: str, items: int) -> None:
        self.done[partition] = self.done.get(partition, 0) + items


# ---------------------------------------------------------------- the world, as it happened


def second(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(dt.UTC).replace(microsecond=0)


def world_pulls(world: World, repos: list[str] | None = None) -> dict[tuple[str, int], dict]:
    """Each pull request as it stands at the world's clock, with its reviews."""
    clock = world.clock
    out: dict[tuple[str, int], dict] = {}
    for pr in world.pulls:
        if pr.created > clock or (repos is not None and pr.repo not in repos):
            continue

        def seen(moment: dt.datetime | None) -> dt.datetime | None:
            return second(moment) if moment is not None and moment <= clock else None

        reviews = [r for r in pr.reviews if r.submitted_at <= clock]
        closed = seen(pr.closed_at or pr.merged_at)
        ready = seen(pr.draft_until)
        out[pr.repo, pr.number] = {
            "title": pr.title,
            "branch": pr.branch,
            "author_account": pr.author,
            "state": "closed" if closed else "open",
            "draft": pr.still_draft or (pr.draft_until is not None and ready is None),
            "created_at": second(pr.created),
            "ready_at": ready,
            "first_review_at": min(
                (second(r.submitted_at) for r in reviews if r.user != pr.author), default=None
            ),
            "merged_at": seen(pr.merged_at),
            "closed_at": closed,
            "additions": pr.additions if closed else None,
            "deletions": pr.deletions if closed else None,
            "labels": list(pr.labels),
            "reviews": sorted(
                (str(r.id), r.user, r.state, second(r.submitted_at)) for r in reviews
            ),
        }
    return out


FIELDS = [
    "title",
    "branch",
    "author_account",
    "state",
    "draft",
    "created_at",
    "ready_at",
    "first_review_at",
    "merged_at",
    "closed_at",
    "additions",
    "deletions",
    "labels",
]


def stored_pulls(engine: Engine) -> dict[tuple[str, int], dict]:
    pr, rv = models.PullRequest, models.Review
    with engine.connect() as conn:
        pulls = conn.execute(select(pr)).mappings().all()
        reviews = conn.execute(
            select(
                pr.repo, pr.number, rv.review_id, rv.reviewer_account, rv.state, rv.submitted_at
            ).join(pr, pr.id == rv.pr_id)
        ).all()
    out = {(p["repo"], p["number"]): {name: p[name] for name in FIELDS} for p in pulls}
    for value in out.values():
        value["reviews"] = []
    for repo, number, *review in reviews:
        out[repo, number]["reviews"].append(tuple(review))
    for value in out.values():
        value["reviews"].sort()
    return out


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every table the collector writes, without surrogate ids and sighting times."""
    pr, st = models.PullRequest, models.SyncState
    with engine.connect() as conn:
        rows = conn.execute(select(pr)).mappings().all()
        identities = conn.execute(
            select(models.Identity.source, models.Identity.value, models.Identity.person_id)
        ).all()
        states = conn.execute(
            select(st.source, st.stream, st.partition, st.cursor, st.last_error)
        ).all()
    return {
        "pulls": {
            (r["repo"], r["number"]): {k: v for k, v in r.items() if k not in ("id", "stored_at")}
            for r in rows
        },
        "reviews": {k: v["reviews"] for k, v in stored_pulls(engine).items()},
        "identities": sorted(identities),
        "sync_state": sorted(tuple(s) for s in states),
    }


def subset(tables: dict[str, Any], repos: list[str]) -> dict[str, Any]:
    """The part of a snapshot that belongs to some repositories (identities are shared)."""
    return {
        "pulls": {k: v for k, v in tables["pulls"].items() if k[0] in repos},
        "reviews": {k: v for k, v in tables["reviews"].items() if k[0] in repos},
        "sync_state": [s for s in tables["sync_state"] if s[2] in repos],
    }


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# ---------------------------------------------------------------- fixtures and running


@pytest.fixture(scope="module")
def world() -> World:
    return generate(1, "tiny", end=END)


@pytest.fixture(scope="module")
def sandbox(world: World) -> Iterator[Sandbox]:
    with Sandbox(world) as running:
        yield running


@pytest.fixture(autouse=True)
def token(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    value = sandbox.state.tokens["github"]
    monkeypatch.setenv(TOKEN_VAR, value)
    yield value
    sandbox.clear_faults()
    with sandbox.state.lock:
        sandbox.state.rate_budgets.clear()


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    """Each test so marked runs on both paths: they must store the same rows."""
    return str(request.param)


def requests_served(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["services"].get("github", 0))


def fresh_sqlite() -> Engine:
    engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/github.db")
    upgrade(engine)
    return engine


@pytest.fixture(scope="module")
def reference(sandbox: Sandbox, world: World) -> dict[str, Any]:
    """An uninterrupted, fault-free full sync of `THREE_REPOS`, as table contents."""
    engine = fresh_sqlite()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_VAR, sandbox.state.tokens["github"])
        results = sync(engine, config_for(sandbox, api="rest", repos=THREE_REPOS))
        assert all(r.error is None for r in results)
    tables = snapshot(engine)
    engine.dispose()
    return tables


# ---------------------------------------------------------------- a full sync


def test_a_full_sync_equals_the_sandbox_world(
    api: str, engine: Engine, sandbox: Sandbox, world: World
) -> None:
    results = sync(engine, config_for(sandbox, api=api))  # the organisation: every repository
    expected = world_pulls(world)
    assert {r.partition for r in results} == {repo.full_name for repo in world.repos}
    assert [r.error for r in results if r.error] == [] and sum(r.rejects for r in results) == 0
    stored = stored_pulls(engine)
    assert stored.keys() == expected.keys()
    for key, want in expected.items():
        assert stored[key] == want, key
    # spot checks of what the world planted: draft exits, reviews by others, own reviews
    assert sum(p["ready_at"] is not None for p in stored.values()) > 10
    own_only = [
        k
        for k, p in expected.items()
        if p["reviews"] and all(user == p["author_account"] for _, user, _, _ in p["reviews"])
    ]
    assert own_only and all(stored[k]["first_review_at"] is None for k in own_only)
    assert count(engine, models.Review) == sum(len(p["reviews"]) for p in expected.values())
    pr, st = models.PullRequest, models.SyncState
    with engine.connect() as conn:
        links = conn.execute(select(pr.title, pr.branch, pr.linked_keys)).all()
        newest = dict(
            conn.execute(select(pr.repo, func.max(pr.updated_at)).group_by(pr.repo)).all()
        )
        cursors = dict(conn.execute(select(st.partition, st.cursor)).all())
        logins = set(conn.scalars(select(models.Identity.value)))
    # links: the keys of Jira projects named in the title or branch, nothing else
    issue_keys = {issue.key for issue in world.issues}
    mentioned = re.compile(r"\b(?:DS|ENG|OPS)-\d+", re.IGNORECASE)
    for title, branch, keys in links:
        assert set(keys) == {k.upper() for k in mentioned.findall(f"{title} {branch}")}
        assert set(keys) <= issue_keys
    assert sum(bool(keys) for _, _, keys in links) > len(links) / 2
    assert any(not keys and branch.startswith("renovate/") for _, branch, keys in links)
    # one cursor per repository: its newest update
    assert {repo: dt.datetime.fromisoformat(c) for repo, c in cursors.items()} == newest
    everyone = {p["author_account"] for p in expected.values()} | {
        r[1] for p in expected.values() for r in p["reviews"]
    }
    assert logins == {login.lower() for login in everyone}


def test_a_first_graphql_sync_says_its_cost_up_front_and_counts_pull_requests(
    sandbox: Sandbox, world: World
) -> None:
    engine = fresh_sqlite()
    notes = Notes()
    results = sync(engine, config_for(sandbox), notes)  # the organisation: every repository
    assert [r.error for r in results if r.error] == []
    per_repo = {repo.full_name: 0 for repo in world.repos}
    for repo, _ in world_pulls(world):
        per_repo[repo] += 1
    # a page of 100 with its labels and timeline costs (1 + 100 + 100) / 100 = 2 points
    points = sum(2 * max(1, -(-n // 100)) for n in per_repo.values())
    assert notes.notes[0] == (
        f"a first GitHub sync of {len(per_repo)} repositories: about "
        f"{sum(per_repo.values()):,} pull requests, {points} GraphQL points, "
        f"{points / 5000:.0%} of this token's 5,000 points an hour"  # under an hour: a share
    )
    # the same figures, asked without syncing (what `teamtide doctor` may call)
    asked = first_sync_estimate(config_for(sandbox))
    assert (asked.repositories, asked.pull_requests, asked.points) == (
        len(per_repo),
        sum(per_repo.values()),
        points,
    )
    # each repository's bar counts its pull requests, up to the total said at its start
    assert notes.totals == per_repo and notes.done == per_repo
    again = Notes()
    sync(engine, config_for(sandbox), again)
    assert again.notes == [] and set(again.totals.values()) == {None}  # nothing to estimate


def test_links_are_made_only_to_projects_known_from_jira(api: str, sandbox: Sandbox) -> None:
    engine = fresh_sqlite()
    with engine.begin() as conn:  # a Jira sync stored DS; the JQL names ENG; OPS is unknown
        conn.execute(
            insert(models.WorkItem),
            [
                {
                    "source": "jira",
                    "key": "DS-1",
                    "project": "DS",
                    "created_at": dt.datetime.now(dt.UTC),
                }
            ],
        )
    sync(engine, config_for(sandbox, api=api, repos=THREE_REPOS, jql="project = ENG"))
    with engine.connect() as conn:
        keys = [k for ks in conn.scalars(select(models.PullRequest.linked_keys)) for k in ks]
    assert {k.split("-")[0] for k in keys} == {"DS", "ENG"}


def test_an_organisation_that_cannot_be_listed_is_recorded_and_the_repositories_go_on(
    api: str,
    sandbox: Sandbox,
) -> None:
    engine = fresh_sqlite()
    results = sync(engine, config_for(sandbox, api=api, repos=[ONE_REPO], orgs=["no-such-org"]))
    by_partition = {r.partition: r.error for r in results}
    assert by_partition[ONE_REPO] is None
    assert "HTTP 404" in (by_partition["no-such-org/*"] or "")
    assert count(engine, models.PullRequest) > 0


def test_graphql_completes_reviews_and_labels_beyond_one_page_with_nested_queries(
    sandbox: Sandbox, world: World, reference: dict[str, Any]
) -> None:
    engine = fresh_sqlite()
    served = requests_served(sandbox)
    # one review, draft event or label a page: every pull request with more is completed
    results = sync(engine, config_for(sandbox, repos=[ONE_REPO]), inner_page=1)
    assert [r.error for r in results if r.error] == []
    # nothing truncated: what REST stored, row by row
    assert subset(snapshot(engine), [ONE_REPO]) == subset(reference, [ONE_REPO])
    pulls = world_pulls(world, [ONE_REPO]).values()
    # at least one nested query per review and per label past each pull request's first
    nested = sum(max(0, len(p["reviews"]) - 1) + max(0, len(p["labels"]) - 1) for p in pulls)
    assert nested > 10
    assert requests_served(sandbox) - served >= 2 + nested  # + its count and its page


# ---------------------------------------------------------------- incremental syncs


def test_a_second_sync_without_changes_makes_one_request_per_repository_and_changes_no_row(
    api: str, engine: Engine, sandbox: Sandbox, world: World
) -> None:
    config = config_for(sandbox, api=api, repos=TWO_REPOS)
    sync(engine, config)
    before = snapshot(engine)
    served = requests_served(sandbox)
    results = sync(engine, config)
    assert requests_served(sandbox) - served == len(TWO_REPOS)
    assert sum(r.rows for r in results) == 0
    assert snapshot(engine) == before


def test_after_the_sandbox_advances_an_incremental_sync_picks_up_exactly_the_changes(
    api: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = generate(1, "tiny", end=END)  # its own: advancing the clock changes the world
    with Sandbox(world) as sandbox:
        monkeypatch.setenv(TOKEN_VAR, sandbox.state.tokens["github"])
        config = config_for(sandbox, api=api, repos=THREE_REPOS)
        sync(engine, config)
        old = world_pulls(world, THREE_REPOS)
        sandbox.advance(world.clock + dt.timedelta(days=7))  # a week: reviews, merges, new
        new = world_pulls(world, THREE_REPOS)
        changed = {k for k, v in new.items() if k not in old or v != old[k]}
        newly_closed = {
            k for k in changed if new[k]["closed_at"] and not old.get(k, {}).get("closed_at")
        }
        assert len(changed) > 5 and newly_closed
        served = requests_served(sandbox)
        results = sync(engine, config)
        if api == "rest":
            # one list page per repository, one timeline per changed pull, one detail per
            # newly closed
            wanted = len(THREE_REPOS) + len(changed) + len(newly_closed)
        else:
            # one query per repository: its first page holds every change, complete
            assert all(sum(k[0] == repo for k in changed) < 100 for repo in THREE_REPOS)
            wanted = len(THREE_REPOS)
        assert requests_served(sandbox) - served == wanted
        assert sum(r.rows for r in results) >= len(changed)
        assert stored_pulls(engine) == new
        pr, st = models.PullRequest, models.SyncState
        with engine.connect() as conn:
            newest = dict(
                conn.execute(select(pr.repo, func.max(pr.updated_at)).group_by(pr.repo)).all()
            )
            cursors = dict(conn.execute(select(st.partition, st.cursor)).all())
        assert {repo: dt.datetime.fromisoformat(c) for repo, c in cursors.items()} == newest


# ---------------------------------------------------------------- a sync killed halfway

CHILD = """
import sys
from collectors.base import NullProgress, run_stream
from collectors.github_source import streams
from db.session import make_engine
from config.schema import Config
config = Config.model_validate_json(sys.argv[2])
engine = make_engine(sys.argv[1])
for stream in streams(config, engine, NullProgress()):
    run_stream(engine, stream)
"""


def test_a_sync_killed_with_sigkill_halfway_and_run_again_ends_identical_to_an_uninterrupted_one(
    api: str, engine: Engine, sandbox: Sandbox, reference: dict[str, Any]
) -> None:
    # pages committed one by one
    config = config_for(sandbox, api=api, repos=THREE_REPOS, per_page=10)
    sandbox.set_faults("github", slow_seconds=0.01)
    url = engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, config.model_dump_json(by_alias=True)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while count(engine, models.PullRequest) < 40:
            assert child.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    sandbox.clear_faults()
    killed_at = count(engine, models.PullRequest)
    assert 40 <= killed_at < len(reference["pulls"])
    results = sync(engine, config)
    assert [r.error for r in results if r.error] == []
    assert snapshot(engine) == reference


# ---------------------------------------------------------------- faults


FAULTS = {
    "429 with Retry-After": dict(rate_limit_every=9, retry_after_seconds=0),
    "a burst of 503s": dict(error_burst=4),
    "hung requests": dict(hang_next=1, hang_seconds=2),
    "slow responses": dict(slow_seconds=0.003),
}


@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
def test_a_sync_through_faults_ends_as_without_them(
    api: str, sandbox: Sandbox, reference: dict[str, Any], faults: dict[str, Any]
) -> None:
    engine = fresh_sqlite()
    notes = Notes()
    if api == "graphql" and "rate_limit_every" in faults:
        # the repository takes two queries (its count, its one page): make the second a 429
        faults = faults | {"rate_limit_every": 2}
    sandbox.set_faults("github", **faults)
    results = sync(engine, config_for(sandbox, api=api, repos=[ONE_REPO]), notes, timeout=1)
    sandbox.clear_faults()
    assert [r.error for r in results if r.error] == []
    assert subset(snapshot(engine), [ONE_REPO]) == subset(reference, [ONE_REPO])
    if "slow_seconds" not in faults:
        assert any("retrying" in n or "waiting" in n for n in notes.notes), notes.notes


def test_a_retry_after_is_honoured_and_said_in_the_progress_display(
    api: str, sandbox: Sandbox
) -> None:
    engine = fresh_sqlite()
    notes = Notes()
    # REST: a 429 every 60 of its ~100 requests; GraphQL: the second of its two queries
    every = 60 if api == "rest" else 2
    sandbox.set_faults("github", rate_limit_every=every, retry_after_seconds=1)
    started = time.monotonic()
    results = sync(engine, config_for(sandbox, api=api, repos=[ONE_REPO]), notes)
    assert [r.error for r in results if r.error] == []
    waits = [n for n in notes.notes if "Retry-After" in n]
    assert waits and all("waiting 1s" in n for n in waits)
    assert time.monotonic() - started >= len(waits)


def test_the_sync_waits_for_the_primary_rate_limit_reset_and_says_so(sandbox: Sandbox) -> None:
    engine = fresh_sqlite()
    notes = Notes()
    with sandbox.state.lock:
        sandbox.state.set_rate_budget("github", limit=50, window_seconds=2.5)
    results = sync(engine, config_for(sandbox, api="rest", repos=[ONE_REPO]), notes)
    assert [r.error for r in results if r.error] == []
    assert any("rate limit" in n and "for the reset" in n for n in notes.notes), notes.notes
    assert count(engine, models.PullRequest) == len(world_pulls(sandbox.state.world, [ONE_REPO]))


def test_a_budget_spent_by_another_client_is_waited_for_after_the_403(
    sandbox: Sandbox, token: str
) -> None:
    engine = fresh_sqlite()
    notes = Notes()
    with sandbox.state.lock:
        sandbox.state.set_rate_budget("github", limit=80, window_seconds=2.5)
    headers = {"Authorization": f"token {token}"}
    while requests.get(f"{sandbox.github_url}/user", headers=headers, timeout=5).status_code != 403:
        pass  # someone else's script spends the budget of the same token
    results = sync(engine, config_for(sandbox, api="rest", repos=[ONE_REPO]), notes)
    assert [r.error for r in results if r.error] == []
    # refused at once (the budget was already spent), not slowed down near its end
    assert "0 of 80 requests left" in notes.notes[0] and "for the reset" in notes.notes[0]
    assert count(engine, models.PullRequest) == len(world_pulls(sandbox.state.world, [ONE_REPO]))


def test_graphql_paces_itself_by_rate_limit_and_waits_for_the_reset_without_a_refusal(
    sandbox: Sandbox,
) -> None:
    engine = fresh_sqlite()
    notes = Notes()
    with sandbox.state.lock:
        sandbox.state.set_rate_budget("github:graphql", limit=4, window_seconds=2.5)
    served = requests_served(sandbox)
    results = sync(engine, config_for(sandbox, repos=[ONE_REPO], per_page=5), notes)
    assert [r.error for r in results if r.error] == []
    waits = [n for n in notes.notes if "GraphQL rate limit" in n]
    assert waits and all("for the reset" in n for n in waits), notes.notes
    expected = world_pulls(sandbox.state.world, [ONE_REPO])
    assert stored_pulls(engine) == expected
    # Pages of 5 cost a point each ((1 + 5 + 5) / 100 rounds to 0, at least 1); the count
    # query one more. Every query was answered: none was refused and sent again.
    pages = -(-len(expected) // 5)
    assert requests_served(sandbox) - served == 1 + pages
    assert len(waits) >= (1 + pages) // 4 - 1


def test_a_graphql_budget_spent_by_another_client_is_waited_for_after_rate_limited(
    sandbox: Sandbox, token: str
) -> None:
    engine = fresh_sqlite()
    notes = Notes()
    with sandbox.state.lock:
        sandbox.state.set_rate_budget("github:graphql", limit=6, window_seconds=2.5)
    headers = {"Authorization": f"bearer {token}"}
    query = {"query": "{ rateLimit { remaining } }"}
    while (
        "RATE_LIMITED"
        not in requests.post(
            f"{sandbox.github_url}/graphql", json=query, headers=headers, timeout=60
        ).text
    ):
        pass  # someone else's script spends the budget of the same token
    results = sync(engine, config_for(sandbox, repos=[ONE_REPO]), notes)
    assert [r.error for r in results if r.error] == []
    # refused at once (the budget was already spent); the reset came from the headers
    assert "0 of 6 points left" in notes.notes[0] and "for the reset" in notes.notes[0]
    assert stored_pulls(engine) == world_pulls(sandbox.state.world, [ONE_REPO])


def test_a_malformed_record_ends_in_sync_rejects_and_every_other_record_loads(
    api: str, engine: Engine, sandbox: Sandbox, world: World
) -> None:
    bad = [pr for pr in world.pulls if pr.malformed and pr.created <= world.clock]
    assert bad, "the world should hold a malformed pull request"
    repos = sorted({pr.repo for pr in bad})
    sandbox.set_faults("github", malformed=True)
    results = sync(engine, config_for(sandbox, api=api, repos=repos))
    assert [r.error for r in results if r.error] == []
    with engine.connect() as conn:
        rejects = conn.execute(
            select(models.SyncReject.key, models.SyncReject.reason, models.SyncReject.payload)
        ).all()
    assert len(rejects) == len(bad) == sum(r.rejects for r in results)
    for key, reason, payload in rejects:  # each names its record, says why, shows an excerpt
        assert reason and payload and len(payload) <= 500
        assert any(
            key.startswith(pr.repo) and json.loads(payload)["title"] == pr.title for pr in bad
        )
    expected = world_pulls(world, repos)
    stored = stored_pulls(engine)
    good = {k for k in expected if (k[0], k[1]) not in {(pr.repo, pr.number) for pr in bad}}
    assert stored.keys() == good
    assert all(stored[k] == expected[k] for k in good)


def token_exchanges(sandbox: Sandbox) -> int:
    paths = sandbox.stats()["paths"].get("github", {})
    return sum(n for path, n in paths.items() if path.endswith("/access_tokens"))


def test_a_github_app_signs_in_and_a_sync_that_outlives_its_tokens_goes_on(
    api: str, sandbox: Sandbox, tmp_path: Path, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_of(sandbox.state)
    key = tmp_path / "app.pem"
    key.write_bytes(app.private_pem())
    # PyGithub asks for a new token 20 s before the one it holds expires: with 21 s
    # tokens, after about a second; the sync is slowed to take several.
    monkeypatch.setattr(app, "token_seconds", 21.0)
    sandbox.set_faults("github", slow_seconds=0.4 if api == "graphql" else 0.04)
    caplog.set_level(logging.DEBUG)
    engine = fresh_sqlite()
    exchanged = token_exchanges(sandbox)
    started = time.monotonic()
    config = config_for(
        sandbox,
        api=api,
        repos=[ONE_REPO],
        per_page=5,
        token=None,
        app_id=app.app_id,
        installation_id=app.installation_id,
        private_key=str(key),
    )
    results = sync(engine, config)
    took = time.monotonic() - started
    sandbox.clear_faults()
    assert [r.error for r in results if r.error] == []
    assert stored_pulls(engine) == world_pulls(sandbox.state.world, [ONE_REPO])
    # a token at the start, and another each time the one held came within 20 s of expiry
    assert took > 3 and token_exchanges(sandbox) - exchanged >= 2
    issued = list(app.tokens)
    assert issued and not any(t in caplog.text for t in issued)
    assert app.private_pem().decode().splitlines()[3] not in caplog.text


# ---------------------------------------------------------------- secrets and issues


def test_tokens_never_reach_logs_errors_or_the_database(
    api: str, sandbox: Sandbox, token: str, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    engine = fresh_sqlite()
    caplog.set_level(logging.DEBUG)
    sandbox.set_faults("github", malformed=True, error_burst=2)
    sync(engine, config_for(sandbox, api=api, repos=[ONE_REPO]))
    wrong = "ghp_wrongTokenValue1234"
    monkeypatch.setenv(TOKEN_VAR, wrong)
    [failed] = sync(engine, config_for(sandbox, api=api, repos=["acme/pipelines"]))
    assert failed.error is not None and "401" in failed.error
    with engine.connect() as conn:
        stored = [
            str(v)
            for table in (models.SyncState, models.SyncReject, models.PullRequest, models.Identity)
            for row in conn.execute(select(table)).all()
            for v in row
        ]
    for secret in (token, wrong):
        assert secret not in caplog.text
        assert not any(secret in v for v in stored)


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param({"echo_status": 401}, id="401-quoting-the-header"),
        pytest.param({"echo_status": 502}, id="502-quoting-the-header-retried"),
        pytest.param({"echo_status": 404, "echo_path": "/timeline"}, id="404s-set-aside"),
    ],
)
def test_a_server_that_quotes_the_token_back_leaks_it_nowhere(
    api: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: Any, echo: dict[str, Any]
) -> None:
    if api == "graphql" and "echo_path" in echo:
        pytest.skip("GraphQL reads no timeline: the whole page is one query")
    token = "ghp_4Vb9XqLm2TzR8kYw1NcD6sHf0JpGa3EuIo7B"
    monkeypatch.setitem(sandbox.state.tokens, "github", token)
    monkeypatch.setenv(TOKEN_VAR, token)
    engine = fresh_sqlite()
    caplog.set_level(logging.DEBUG)
    sandbox.set_faults("github", **echo)
    results = sync(engine, config_for(sandbox, api=api, repos=[ONE_REPO]))
    with engine.connect() as conn:
        texts = [
            str(v)
            for table in (models.SyncState, models.SyncReject)
            for row in conn.execute(select(table)).all()
            for v in row
        ]
    said = [t for t in texts if "Authorization" in t]
    assert said and all("***" in t for t in said), texts  # the echo reached the database
    if echo["echo_status"] == 404:
        assert results[0].error is None and results[0].rejects > 0  # set aside, masked
    else:
        assert results[0].error
    assert found("\n".join([caplog.text, *texts]), {"token": token}) == []


def test_github_issues_are_collected_when_asked_and_pull_requests_are_not_taken_for_issues(
    api: str,
    sandbox: Sandbox,
) -> None:
    engine = fresh_sqlite()
    # the sandbox's world has no GitHub issues; its issues API lists the pull requests
    config = config_for(sandbox, api=api, repos=[ONE_REPO], issues=True)
    results = sync(engine, config)
    issues = [r for r in results if r.stream == "issues"]
    assert [r.partition for r in issues] == [ONE_REPO] and issues[0].error is None
    assert count(engine, models.WorkItem) == 0 and count(engine, models.PullRequest) > 0
    with engine.connect() as conn:
        cursor = conn.scalar(
            select(models.SyncState.cursor).where(models.SyncState.stream == "issues")
        )
        newest = conn.scalar(select(func.max(models.PullRequest.updated_at)))
    assert cursor is not None and dt.datetime.fromisoformat(cursor) == newest
    served = requests_served(sandbox)
    sync(engine, config)
    assert requests_served(sandbox) - served == 2  # one list page per stream


def test_rate_limit_answers_are_told_apart_from_other_refusals() -> None:
    """GitHub's words (REST docs, "Rate limits for the REST API") decide what is waited for."""
    url = "/repos/a/b/pulls"
    secondary = api_error(
        GithubException(
            403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
        ),
        url,
    )
    primary = api_error(
        GithubException(
            403,
            {"message": "API rate limit exceeded for user ID 1."},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1750000000"},
        ),
        url,
    )
    asked = api_error(
        GithubException(429, {"message": "Too many requests"}, {"retry-after": "7"}), url
    )
    forbidden = api_error(
        GithubException(403, {"message": "Resource not accessible by integration"}), url
    )
    assert isinstance(secondary, RateLimitWait) and not secondary.primary
    assert secondary.headers == {"Retry-After": "60"}  # a minute when GitHub names none
    assert isinstance(primary, RateLimitWait) and primary.primary
    assert isinstance(asked, RateLimitWait) and asked.headers == {"Retry-After": "7"}
    assert not isinstance(forbidden, RateLimitWait) and forbidden.status_code == 403
    assert (
        str(forbidden)
        == "HTTP 403 from GET /repos/a/b/pulls: Resource not accessible by integration"
    )
