"""The sync runner: pages, cursors, rejects and failures, with a small stream over a list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from collectors.base import Bookmark, Page, Partitions, Reject, Stream, run_stream
from collectors.github import GithubRetrying, RateLimitWait
from collectors.retry import Retrying, RetryPolicy, call_with_retries
from config import redaction
from db import models

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


class Parts:
    """The stream's partitions, as given."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = names

    def names(self) -> tuple[str, ...]:
        return self._names

    def check(self, partition: str) -> None:
        pass


class ListStream(Stream):
    """Work items from a list, `per_page` at a time, ordered by their position (the cursor)."""

    source = "test"
    name = "items"
    table = models.WorkItem
    primary_key = ("source", "key")
    partitions = Partitions(per="part", listed_by="parts")

    def __init__(
        self,
        records: list[dict],
        per_page: int = 3,
        fail_on_page: int | None = None,
        parts: tuple[str, ...] = ("",),
    ):
        self.records, self.per_page, self.fail_on_page = records, per_page, fail_on_page
        self.parts = Parts(parts)

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        if bookmark.partition == "broken":
            raise ConnectionError("token=hunter2 refused")
        start = int(bookmark.cursor) if bookmark.cursor else 0
        for number, i in enumerate(range(start, len(self.records), self.per_page)):
            if number == self.fail_on_page:
                raise RuntimeError("crashed mid-sync")
            chunk = self.records[i : i + self.per_page]
            rows = [r for r in chunk if "key" in r]
            rejects = [Reject(None, "missing key", repr(r)) for r in chunk if "key" not in r]
            yield Page(rows=rows, rejects=rejects, cursor=str(i + len(chunk)), items=len(chunk))

    def write(self, session: Session, page: Page) -> int:
        rows = [
            {"source": "test", "key": r["key"], "created_at": T0, "summary": r.get("summary")}
            for r in page.rows
        ]
        return len(self.store(session, rows))


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def records(n: int) -> list[dict]:
    return [{"key": f"T-{i}"} for i in range(n)]


def test_a_malformed_record_is_set_aside_and_the_rest_of_its_page_loads(engine: Engine) -> None:
    data = records(7)
    data[4] = {"summary": "no key"}
    [result] = run_stream(engine, ListStream(data))
    assert (result.rows, result.rejects, result.pages) == (6, 1, 3)
    assert count(engine, models.WorkItem) == 6
    with engine.connect() as conn:
        reject = conn.execute(select(models.SyncReject.reason, models.SyncReject.payload)).one()
    assert reject.reason == "missing key" and "no key" in reject.payload


def test_a_crash_mid_sync_resumes_from_the_last_stored_page_without_gaps_or_doubles(
    engine: Engine,
) -> None:
    [failed] = run_stream(engine, ListStream(records(10), fail_on_page=2))
    assert failed.error == "RuntimeError: crashed mid-sync"
    assert count(engine, models.WorkItem) == 6  # two pages of three were committed
    with engine.connect() as conn:
        cursor = conn.execute(select(models.SyncState.cursor)).scalar_one()
    assert cursor == "6"
    [resumed] = run_stream(engine, ListStream(records(10)))
    assert resumed.error is None and resumed.rows == 4  # only what was missing
    assert count(engine, models.WorkItem) == 10


def test_a_failing_partition_is_recorded_and_the_others_go_on(engine: Engine) -> None:
    redaction.register("hunter2")  # a secret this process knows: masked where it is stored
    results = run_stream(engine, ListStream(records(4), parts=("a", "broken", "b")))
    assert [r.error for r in results] == [None, "ConnectionError: token=hunter2 refused", None]
    with engine.connect() as conn:
        states = dict(
            conn.execute(select(models.SyncState.partition, models.SyncState.last_error)).all()
        )
    assert states == {"a": None, "broken": "ConnectionError: token=*** refused", "b": None}


def test_running_twice_changes_nothing(engine: Engine) -> None:
    run_stream(engine, ListStream(records(5)))
    [again] = run_stream(engine, ListStream(records(5)))
    assert again.rows == 0 and again.pages == 0
    [full] = run_stream(engine, ListStream(records(5)), full=True)
    assert full.rows == 5 and count(engine, models.WorkItem) == 5


class Flaky(Exception):
    def __init__(self, status: int, retry_after: str | None = None):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = {"Retry-After": retry_after} if retry_after else {}


def test_transient_failures_are_retried_with_backoff_and_retry_after_is_honoured() -> None:
    waits: list[float] = []
    outcomes = [Flaky(503), Flaky(429, "7"), "ok"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_with_retries(call, sleep=waits.append, policy=RetryPolicy(base_seconds=1)) == "ok"
    assert 0 <= waits[0] <= 1 and waits[1] == 7


def test_a_permanent_failure_is_not_retried() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise Flaky(401)

    with pytest.raises(Flaky):
        call_with_retries(call, sleep=lambda s: None)
    assert len(calls) == 1


class Said(Exception):
    def __init__(self, status: int | None, retry_after: str | None = None) -> None:
        super().__init__("said")
        self.status_code = status
        self.headers = {"Retry-After": retry_after} if retry_after else {}


def test_every_service_says_its_retry_waits_the_same_way() -> None:
    said: list[str] = []
    jira_waits = Retrying("Jira", say=said.append)
    jira_waits.waiting(7, Said(429, "7"))
    jira_waits.waiting(1.25, Said(503))
    jira_waits.waiting(0.5, TimeoutError())
    Retrying("Prometheus", say=said.append, what="query").waiting(2, Said(502))
    assert said == [
        "Jira asked to wait (HTTP 429, Retry-After): waiting 7s",
        "Jira request failed (HTTP 503); retrying in 1.2s",
        "Jira request failed (TimeoutError); retrying in 0.5s",
        "Prometheus query failed (HTTP 502); retrying in 2.0s",
    ]


def test_github_leaves_a_spent_primary_budget_to_its_budget_check() -> None:
    waits = GithubRetrying("GitHub")
    assert waits.message(0, RateLimitWait("spent", 0, primary=True)) is None
    secondary = RateLimitWait("slow down", 60, primary=False)
    assert waits.message(60, secondary) == "GitHub secondary rate limit (Retry-After): waiting 60s"


def test_a_source_that_cannot_start_is_noted_in_sync_state_and_cleared_by_the_next_start(
    tmp_path,
) -> None:
    import datetime as dt

    from sqlalchemy import select

    from collectors.sync import sync
    from config.schema import Config
    from db import models
    from db.migrate import upgrade
    from db.session import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'teamtide.db'}")
    upgrade(engine)
    at = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
    broken = Config.model_validate(
        {"sources": {"cluster": {"kubeconfig": str(tmp_path / "missing-kubeconfig")}}}
    )
    [outcome] = sync(engine, broken, now=lambda: at)
    assert outcome.error
    with engine.connect() as conn:
        row = conn.execute(
            select(models.SyncState).where(models.SyncState.source == "cluster")
        ).one()
    assert (row.stream, row.partition) == ("", "")
    assert row.last_error == outcome.error and "missing-kubeconfig" in row.last_error
    from db.sync import record_source_start

    record_source_start(engine, "cluster", None, at)
    with engine.connect() as conn:
        assert conn.execute(select(models.SyncState.last_error)).scalar_one() is None
