"""The Jira collector against the sandbox over real HTTP: whole worlds, increments, kills, faults."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from leaks import found
from sqlalchemy import Engine, func, select, text

from collectors.base import NullProgress, StreamResult, run_stream
from collectors.jira import streams
from collectors.retry import RetryPolicy
from config.schema import Config
from db import models
from db.migrate import upgrade
from db.session import make_engine
from sandbox.server import Sandbox
from sandbox.world.generate import generate
from sandbox.world.model import World

END = dt.date(2025, 6, 30)
TOKEN_VAR = "TEAMTIDE_TEST_JIRA_TOKEN"
FAST = RetryPolicy(attempts=6, base_seconds=0.05, cap_seconds=0.5)
STAGES = {"Blocked": "waiting"}
ITEM_COLUMNS = (
    "project",
    "type",
    "summary",
    "status",
    "stage",
    "priority",
    "labels",
    "components",
    "parent_key",
    "epic_key",
    "assignee_account",
    "reporter_account",
    "created_at",
    "updated_at",
    "done_at",
    "story_points",
    "sprint",
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world() -> World:
    return generate(1, "tiny", end=END)


@pytest.fixture(scope="module")
def sandbox(world: World) -> Iterator[Sandbox]:
    """One Cloud sandbox for the tests that never move its clock."""
    with Sandbox(world) as sb:
        os.environ[TOKEN_VAR] = sb.state.tokens["jira"]
        yield sb


@pytest.fixture(autouse=True)
def calm(sandbox: Sandbox) -> Iterator[None]:
    sandbox.clear_faults()
    yield
    sandbox.clear_faults()


def config_for(sb: Sandbox, world: World, *, cloud: bool = True, **jira: Any) -> Config:
    who = {"email": world.bot_email} if cloud else {"user": world.bot_account}
    source = {
        "url": sb.jira_url,
        "token": "${" + TOKEN_VAR + "}",
        "jql": "project in (DS, ENG, OPS)",
        **who,
        **jira,
    }
    return Config.model_validate({"workflow": {"stages": STAGES}, "sources": {"jira": source}})


def sync(
    engine: Engine, config: Config, progress: Any = None, timeout: float = 5.0
) -> dict[str, StreamResult]:
    results = {}
    progress = progress or NullProgress()
    for stream in streams(config, engine, progress, timeout=timeout, retry=FAST):
        [results[stream.name]] = run_stream(engine, stream, progress=progress)
    return results


def jira_paths(sb: Sandbox) -> dict[str, int]:
    return {p.split("/rest/")[-1]: n for p, n in sb.stats()["paths"].get("jira", {}).items()}


def fresh_engine(tmp_path: Path, name: str) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / name}.db")
    upgrade(engine)
    return engine


# ---------------------------------------------------------------- what the world says


def ms(moment: dt.datetime) -> dt.datetime:
    """Jira shows milliseconds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def expected(
    world: World, *, worklogs: bool = False, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """Every visible issue as the collector should store it, worked out from the world itself."""
    clock = world.clock
    category = {s.name: s.category for s in world.statuses}
    stage = {
        name: STAGES.get(name) or {"new": "todo", "indeterminate": "active", "done": "done"}[c]
        for name, c in category.items()
    }
    out: dict[str, Any] = {}
    for issue in world.issues:
        if issue.created > clock or issue.key in skip:
            continue
        status, assignee, entry = issue.initial_status, issue.initial_assignee, None
        transitions, assignments = set(), set()
        events = [issue.created]
        for history in issue.histories:
            if history.at > clock:
                continue
            events.append(history.at)
            for item in history.items:
                if item.field == "status":
                    transitions.add((history.id, ms(history.at), item.from_string, item.to_string))
                    if (
                        stage[item.to_string] == "done"
                        and stage.get(item.from_string or "") != "done"
                    ):
                        entry = history.at
                    status = item.to_string
                elif item.field == "assignee":
                    assignments.add((history.id, ms(history.at), item.from_id, item.to_id))
                    assignee = item.to_id
        comments = {(c.id, ms(c.at), c.author) for c in issue.comments if c.at <= clock}
        events += [c.at for c in issue.comments if c.at <= clock]
        logs = {
            (w.id, ms(w.started), w.author, w.seconds) for w in issue.worklogs if w.started <= clock
        }
        events += [w.started for w in issue.worklogs if w.started <= clock]
        done = stage[status] == "done"
        out[issue.key] = {
            "item": {
                "project": issue.project,
                "type": issue.issue_type,
                "summary": issue.summary,
                "status": status,
                "stage": stage[status],
                "priority": issue.priority,
                "labels": list(issue.labels),
                "components": list(issue.components),
                "parent_key": issue.parent_key,
                "epic_key": issue.epic_key,
                "assignee_account": assignee,
                "reporter_account": issue.reporter,
                "created_at": ms(issue.created),
                "updated_at": ms(max(events)),
                "done_at": ms(entry or issue.created) if done else None,
                "story_points": issue.story_points,
                "sprint": issue.sprint,
            },
            "transitions": transitions,
            "assignments": assignments,
            "comments": comments,
            "worklogs": logs if worklogs else set(),
        }
    return out


def stored(engine: Engine) -> dict[str, Any]:
    """The same shape, read back from the database."""
    columns = ITEM_COLUMNS
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        rows = conn.execute(select(models.WorkItem)).mappings().all()
        key_of = {r["id"]: r["key"] for r in rows}
        for r in rows:
            out[r["key"]] = {
                "item": {c: r[c] for c in columns},
                "transitions": set(),
                "assignments": set(),
                "comments": set(),
                "worklogs": set(),
            }
        T, A, C, W = (
            models.ItemTransition,
            models.ItemAssignment,
            models.ItemComment,
            models.Worklog,
        )
        for r in conn.execute(select(T.item_id, T.change_id, T.at, T.from_status, T.to_status)):
            out[key_of[r[0]]]["transitions"].add(tuple(r[1:]))
        for r in conn.execute(select(A.item_id, A.change_id, A.at, A.from_account, A.to_account)):
            out[key_of[r[0]]]["assignments"].add(tuple(r[1:]))
        for r in conn.execute(select(C.item_id, C.comment_id, C.at, C.author_account)):
            out[key_of[r[0]]]["comments"].add(tuple(r[1:]))
        for r in conn.execute(
            select(W.item_id, W.worklog_id, W.started_at, W.author_account, W.seconds)
        ):
            out[key_of[r[0]]]["worklogs"].add(tuple(r[1:]))
    return out


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == want[key], key


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the collector writes, for before/after comparisons."""
    tables = [
        "work_items",
        "item_transitions",
        "item_assignments",
        "item_comments",
        "worklogs",
        "statuses",
        "identities",
    ]
    with engine.connect() as conn:
        return {
            t: [tuple(row) for row in conn.execute(text(f"select * from {t} order by id"))]
            for t in tables
        }


# ---------------------------------------------------------------- whole worlds


def test_a_full_sync_stores_the_sandbox_world_exactly(
    engine: Engine, sandbox: Sandbox, world: World
) -> None:
    results = sync(engine, config_for(sandbox, world))
    assert all(r.error is None and r.rejects == 0 for r in results.values())
    want = expected(world)
    assert_same(stored(engine), want)

    # spot checks: a history longer than the 40 Cloud's search shows inline came back whole
    def shown(issue: Any) -> int:
        return sum(h.at <= world.clock for h in issue.histories)

    longest = max((i for i in world.issues if i.key in want), key=shown)
    assert shown(longest) > 40
    assert stored(engine)[longest.key]["transitions"] == want[longest.key]["transitions"] != set()
    assert jira_paths(sandbox).get("api/3/changelog/bulkfetch", 0) >= 1
    assert sum(len(v["assignments"]) for v in want.values()) > 0
    assert sum(len(v["comments"]) for v in want.values()) > 0
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(models.Status.name, models.Status.category)).all())
        accounts = set(
            conn.scalars(select(models.Identity.value).where(models.Identity.source == "jira"))
        )
        urls = set(conn.scalars(select(models.WorkItem.url)))
    assert statuses == {s.name: s.category for s in world.statuses}
    people = {v["item"]["assignee_account"] for v in want.values()} | {
        v["item"]["reporter_account"] for v in want.values()
    }
    assert people - {None} <= accounts
    assert f"{sandbox.jira_url}/browse/{longest.key}" in urls


def test_order_by_inside_a_quoted_value_does_not_cut_the_filter(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Projects named with quotes and "order by", picked by name in a filter with its own ORDER BY."""
    renamed = dataclasses.replace(
        world,
        projects={
            **world.projects,
            "DS": 'Data "Science" order by',
            "OPS": "Law and Order by Night's Shift",
        },
    )
    jql = (
        r"""project in ("Data \"Science\" order by", ENG, 'Law and Order by Night\'s Shift')"""
        " ORDER BY created DESC"
    )
    with Sandbox(renamed) as sb:
        monkeypatch.setenv(TOKEN_VAR, sb.state.tokens["jira"])
        results = sync(engine, config_for(sb, renamed, jql=jql))
    assert all(r.error is None for r in results.values()), results
    assert_same(stored(engine), expected(world))


def test_a_second_sync_without_changes_makes_the_minimal_requests_and_changes_no_row(
    engine: Engine, sandbox: Sandbox, world: World
) -> None:
    config = config_for(sandbox, world)
    sync(engine, config)
    before = dump(engine)
    with sandbox.state.lock:
        sandbox.state.requests.clear()
    results = sync(engine, config)
    assert results["issues"].rows == 0
    # serverInfo to choose Cloud or Server, the statuses, the custom fields, the bot's
    # timezone for the JQL date, and one page of search that finds only the overlap
    assert jira_paths(sandbox) == {
        "api/2/serverInfo": 1,
        "api/3/status": 1,
        "api/3/field": 1,
        "api/3/myself": 1,
        "api/3/search/jql": 1,
    }
    after = dump(engine)
    assert after == before


def changed_since(world: World, since: dt.datetime) -> set[str]:
    keys = set()
    for issue in world.issues:
        if issue.created > world.clock:
            continue
        moments = [issue.created, *(h.at for h in issue.histories)]
        moments += [*(c.at for c in issue.comments), *(w.started for w in issue.worklogs)]
        if any(since < m <= world.clock for m in moments):
            keys.add(issue.key)
    return keys


def test_incremental_syncs_in_the_bot_users_timezone_pick_up_exactly_the_changes(
    engine: Engine,
) -> None:
    world = generate(1, "tiny", end=END)
    # the bot lives in Los Angeles (UTC-7): a JQL date written in UTC would be read 7 hours
    # late, so every step shorter than that would miss its changes
    assert world.bot_timezone == "America/Los_Angeles"
    with Sandbox(world) as sb:
        config = config_for(sb, world)
        sync(engine, config)
        seen = 0
        for _ in range(8):
            previous = world.clock
            before = {k: v["item"] for k, v in stored(engine).items()}
            sb.advance(dt.timedelta(hours=6))
            with sb.state.lock:
                sb.state.requests.clear()
            sync(engine, config)
            after = stored(engine)
            rewritten = {k for k, v in after.items() if before.get(k) != v["item"]}
            changes = changed_since(world, previous)
            assert rewritten == changes
            # requests: 4 for the site (serverInfo, statuses, fields, timezone), the search
            # pages the changes fill, and a changelog follow-up at most
            assert sum(jira_paths(sb).values()) <= 4 + max(1, math.ceil(len(changes) / 100)) + 1
            seen += len(changes)
        assert seen >= 15  # the steps did see work happen
        assert_same(stored(engine), expected(world))


def test_a_server_data_center_site_is_read_through_classic_search_with_worklogs(
    tmp_path: Path, world: World
) -> None:
    engine = fresh_engine(tmp_path, "server")
    with Sandbox(world, jira_cloud=False) as sb:
        sync(engine, config_for(sb, world, cloud=False, worklogs=True))
        paths = jira_paths(sb)
    assert paths.get("api/2/search", 0) >= 1 and "api/3/search/jql" not in paths
    want = expected(world, worklogs=True)
    assert sum(len(v["worklogs"]) for v in want.values()) > 0
    assert_same(stored(engine), want)


# ---------------------------------------------------------------- interruptions


CHILD = """
import json, sys
from collectors.base import NullProgress, run_stream
from collectors.jira import streams
from db.session import make_engine
from config.schema import Config
config = Config.model_validate(json.loads(sys.argv[1]))
engine = make_engine(sys.argv[2])
for stream in streams(config, engine, NullProgress()):
    run_stream(engine, stream)
"""


def test_a_sync_killed_halfway_and_run_again_ends_identical_to_an_uninterrupted_one(
    tmp_path: Path, sandbox: Sandbox, world: World
) -> None:
    config = config_for(sandbox, world, page_size=40)
    killed, whole = fresh_engine(tmp_path, "killed"), fresh_engine(tmp_path, "whole")
    sandbox.set_faults("jira", slow_seconds=0.15)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, config.model_dump_json(), str(killed.url)],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with killed.connect() as conn:
                cursor = conn.scalar(
                    select(models.SyncState.cursor).where(models.SyncState.stream == "issues")
                )
                items = conn.scalar(select(func.count()).select_from(models.WorkItem))
            if cursor is not None and items >= 80:
                break
            assert child.poll() is None, "the sync finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    sandbox.clear_faults()
    with killed.connect() as conn:
        partial = conn.scalar(select(func.count()).select_from(models.WorkItem))
    assert 0 < partial < len(expected(world))
    sync(killed, config)
    sync(whole, config)
    assert_same(stored(killed), stored(whole))
    assert_same(stored(killed), expected(world))
    for query in (
        "select source, name, category from statuses",
        "select source, value, display_name, email from identities",
    ):
        with killed.connect() as a, whole.connect() as b:
            assert sorted(a.execute(text(query)).all()) == sorted(b.execute(text(query)).all())
    with killed.connect() as a, whole.connect() as b:
        cursors = "select stream, cursor from sync_state order by stream"
        assert a.execute(text(cursors)).all() == b.execute(text(cursors)).all()


# ---------------------------------------------------------------- faults


class Notes(NullProgress):
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.items = 0

    def advance(self, stream: str, partition: str, items: int) -> None:
        self.items += items

    def note(self, message: str) -> None:
        self.notes.append(message)


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({"rate_limit_every": 4, "retry_after_seconds": 1}, id="429-retry-after"),
        pytest.param({"error_burst": 4, "error_status": 503}, id="5xx-burst"),
        pytest.param({"error_burst": 2, "error_status": 500}, id="500-burst"),
        pytest.param({"slow_seconds": 0.3}, id="slow-but-in-time"),
        pytest.param({"hang_next": 2, "hang_seconds": 3}, id="hanging-past-the-timeout"),
    ],
)
def test_every_fault_of_the_sandbox_costs_a_wait_not_the_sync(
    tmp_path: Path, sandbox: Sandbox, world: World, faults: dict[str, Any]
) -> None:
    engine = fresh_engine(tmp_path, "faults")
    sandbox.set_faults("jira", **faults)
    progress = Notes()
    started = time.monotonic()
    results = sync(engine, config_for(sandbox, world), progress, timeout=1.0)
    took = time.monotonic() - started
    assert all(r.error is None for r in results.values()), results
    assert_same(stored(engine), expected(world))
    assert progress.items >= len(expected(world))
    if "retry_after_seconds" in faults:
        assert any("Retry-After" in n for n in progress.notes)
        assert took >= 1.0  # the server's Retry-After was honoured, not hammered
    if "error_burst" in faults or "hang_next" in faults:
        assert progress.notes  # each failure was said out loud before the retry
    if "hang_next" in faults:
        # the client gave up on each hung request at its own time-out and asked again
        timeouts = [n for n in progress.notes if "Timeout" in n]
        assert len(timeouts) == faults["hang_next"], progress.notes


def test_a_malformed_record_is_set_aside_with_its_reason_and_all_others_load(
    engine: Engine, sandbox: Sandbox, world: World
) -> None:
    sandbox.set_faults("jira", malformed=True)
    bad = {i.key for i in world.issues if i.malformed and i.created <= world.clock}
    assert bad
    results = sync(engine, config_for(sandbox, world))
    assert results["issues"].rejects == len(bad) and results["issues"].error is None
    assert_same(stored(engine), expected(world, skip=bad))
    with engine.connect() as conn:
        rejects = conn.execute(
            select(models.SyncReject.key, models.SyncReject.reason, models.SyncReject.payload)
        ).all()
        cursor = conn.scalar(
            select(models.SyncState.cursor).where(models.SyncState.stream == "issues")
        )
    assert {r.key for r in rejects} == bad
    for r in rejects:
        assert any(
            word in r.reason for word in ("not a timestamp", "unknown status", "missing field")
        )
        assert r.key in r.payload
    newest = max(v["item"]["updated_at"] for v in expected(world, skip=bad).values())
    assert dt.datetime.fromisoformat(cursor) >= newest  # the cursor moved on past the rest


def test_the_token_never_reaches_logs_errors_or_the_database(
    tmp_path: Path, sandbox: Sandbox, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    token = sandbox.state.tokens["jira"]
    secrets = {token, base64.b64encode(f"{world.bot_email}:{token}".encode()).decode()}
    engine = fresh_engine(tmp_path, "secret")
    caplog.set_level("DEBUG")
    sandbox.set_faults(
        "jira", rate_limit_every=3, retry_after_seconds=0, error_burst=2, malformed=True
    )
    sync(engine, config_for(sandbox, world), Notes())
    sandbox.set_faults("jira", error_burst=50)  # fails for good: the error is stored
    results = sync(engine, config_for(sandbox, world))
    assert results["issues"].error
    texts = [caplog.text, *(r.error or "" for r in results.values())]
    with engine.connect() as conn:
        for table in ("work_items", "sync_state", "sync_rejects", "identities", "statuses"):
            texts += [repr(row) for row in conn.execute(text(f"select * from {table}"))]
    leaked = [t for t in texts for s in secrets if s in t]
    assert not leaked


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param({"echo_status": 401}, id="401-quoting-the-header"),
        pytest.param({"echo_status": 500}, id="500-quoting-the-header-retried"),
        pytest.param({"echo_status": 502, "echo_format": "proxy"}, id="proxy-userinfo-page"),
        pytest.param({"echo_status": 401, "echo_format": "login"}, id="proxy-sign-in-link"),
    ],
)
def test_a_site_that_quotes_the_credentials_back_leaks_them_nowhere(
    tmp_path: Path,
    sandbox: Sandbox,
    world: World,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    echo: dict[str, Any],
) -> None:
    token = "ATATT3xFfGF0Q-8k_zT2=pL9vYbN1dE6+w/R"  # real tokens carry base64's characters
    monkeypatch.setitem(sandbox.state.tokens, "jira", token)
    monkeypatch.setenv(TOKEN_VAR, token)
    engine = fresh_engine(tmp_path, "echo")
    caplog.set_level("DEBUG")
    sandbox.set_faults("jira", **echo)
    results = sync(engine, config_for(sandbox, world))
    assert all(r.error for r in results.values())
    with engine.connect() as conn:
        errors = conn.scalars(select(models.SyncState.last_error)).all()
        stored = [
            repr(row)
            for table in ("sync_state", "sync_rejects")
            for row in conn.execute(text(f"select * from {table}"))
        ]
    # the echo reached the database and the log, with the credentials masked
    assert errors and all("***" in e for e in errors) and "***" in caplog.text, errors
    assert found("\n".join([caplog.text, *stored]), {"token": token}) == []


def test_a_refused_token_fails_both_streams_with_one_request_and_a_hint(
    tmp_path: Path, sandbox: Sandbox, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_VAR, "not-the-token")
    with sandbox.state.lock:
        sandbox.state.requests.clear()
    results = sync(fresh_engine(tmp_path, "refused"), config_for(sandbox, world))
    for result in results.values():
        assert result.error and "HTTP 401" in result.error and "sources.jira" in result.error
    assert jira_paths(sandbox) == {"api/2/serverInfo": 1}  # no retry of a refusal, no second try


def test_requests_are_counted_per_page_for_the_progress_summary(
    tmp_path: Path, sandbox: Sandbox, world: World
) -> None:
    engine = fresh_engine(tmp_path, "count")
    with sandbox.state.lock:
        sandbox.state.requests.clear()
    results = sync(engine, config_for(sandbox, world))
    served = sum(jira_paths(sandbox).values())
    assert sum(r.requests for r in results.values()) == served
    assert jira_paths(sandbox)["api/3/search/jql"] == math.ceil(len(expected(world)) / 100)
