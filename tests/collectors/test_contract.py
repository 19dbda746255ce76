"""The streams' declared contract: what each one states as data, checked against the schema."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, UniqueConstraint, select

from collectors import cluster, github, github_source, jira
from collectors.base import Bookmark, Page, Partitions, Stream, run_stream
from collectors.github_graphql import GraphqlPullStream
from collectors.sync import SOURCES
from db import models

MODULES = {"jira": jira, "github": github, "cluster": cluster}  # where streams are declared
SOURCE_MODULES = {"jira": jira, "github": github_source, "cluster": cluster}  # their SOURCE
STREAMS = sorted(
    (
        cls
        for module in MODULES.values()
        for cls in vars(module).values()
        if inspect.isclass(cls)
        and issubclass(cls, Stream)
        and cls is not Stream
        and not inspect.isabstract(cls)  # a shared base, such as the hourly histories
        and cls.__module__ == module.__name__
    ),
    key=lambda cls: (cls.source, cls.name),
)
T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def ids(cls: type[Stream]) -> str:
    return f"{cls.source}/{cls.name}"


def test_the_sources_are_the_source_modules_in_the_order_a_sync_runs_them() -> None:
    assert [s.name for s in SOURCES] == ["jira", "github", "cluster"]
    assert [s.streams for s in SOURCES] == [m.streams for m in SOURCE_MODULES.values()]
    assert [s.name for s in SOURCES if s.clocked] == ["cluster"]


def test_every_source_module_declares_its_seven_streams_once() -> None:
    assert [ids(cls) for cls in STREAMS] == [
        "cluster/pod_history",
        "cluster/prometheus_backfill",
        "cluster/snapshot",
        "github/issues",
        "github/pull_requests",
        "jira/issues",
        "jira/statuses",
    ]
    for cls in STREAMS:
        assert cls.source == SOURCE_MODULES[cls.source].SOURCE.name


CONTRACT = ("source", "name", "table", "primary_key", "cursor_field", "is_sorted", "partitions")


def test_the_graphql_pull_stream_is_the_rest_one_fetched_another_way() -> None:
    """Same table, key, cursor and partitions: both paths keep one stream's state."""
    assert issubclass(GraphqlPullStream, github.PullStream)
    assert not set(CONTRACT) & set(vars(GraphqlPullStream))


@pytest.mark.parametrize("cls", STREAMS, ids=ids)
def test_every_stream_declares_a_primary_key_that_is_a_unique_constraint_of_its_table(
    cls: type[Stream],
) -> None:
    table = cls.table.__table__
    uniques = {
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    }
    assert cls.primary_key in uniques, (table.name, uniques)


@pytest.mark.parametrize("cls", STREAMS, ids=ids)
def test_every_cursor_field_is_a_time_column_of_the_streams_table(cls: type[Stream]) -> None:
    if cls.cursor_field is None:
        assert cls.overlap == dt.timedelta(0) and cls.is_sorted
        return
    column = cls.table.__table__.c[cls.cursor_field]
    assert isinstance(column.type, models.UTCDateTime)


@pytest.mark.parametrize("cls", STREAMS, ids=ids)
def test_a_partitioned_stream_is_given_what_lists_its_partitions(cls: type[Stream]) -> None:
    listed_by = cls.partitions.listed_by
    if listed_by is None:
        assert cls.partitions.per is None
        return
    assert listed_by in inspect.signature(cls.__init__).parameters


def test_the_bookmark_starts_the_overlap_before_the_stored_cursor() -> None:
    mark = Bookmark("acme/x", T0.isoformat(), dt.timedelta(minutes=5))
    assert (mark.position, mark.since) == (T0, T0 - dt.timedelta(minutes=5))
    assert Bookmark("acme/x", None, dt.timedelta(minutes=5), full=True).since is None


class Repos:
    def __init__(self, names: tuple[str, ...], unreadable: str | None = None) -> None:
        self._names, self.unreadable = names, unreadable

    def names(self) -> tuple[str, ...]:
        return self._names

    def check(self, partition: str) -> None:
        if partition == self.unreadable:
            raise LookupError(f"cannot list {partition}")


class NewestFirst(Stream):
    """Work items listed newest-updated first, `per_page` at a time, down to `since`."""

    source = "test"
    name = "newest_first"
    table = models.WorkItem
    primary_key = ("source", "key")
    cursor_field = "updated_at"
    is_sorted = False
    overlap = dt.timedelta(minutes=1)
    partitions = Partitions(per="repository", listed_by="repos")

    def __init__(self, hours: int, repos: Repos, fail_on_page: int | None = None) -> None:
        self.hours, self.repos, self.fail_on_page = hours, repos, fail_on_page
        self.asked: list[dt.datetime | None] = []

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        self.asked.append(bookmark.since)
        times = [T0 + dt.timedelta(hours=h) for h in reversed(range(self.hours))]
        if bookmark.since is not None:
            times = [t for t in times if t >= bookmark.since]
        for number, i in enumerate(range(0, len(times), 2)):
            if number == self.fail_on_page:
                raise RuntimeError("crashed mid-sync")
            chunk = times[i : i + 2]
            rows = [
                {
                    "source": "test",
                    "key": f"{bookmark.partition}-{t:%H}",
                    "created_at": T0,
                    "updated_at": t,
                }
                for t in chunk
            ]
            yield Page(rows=rows, cursor=max(chunk), items=len(chunk))


def cursors(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        s = models.SyncState
        return dict(conn.execute(select(s.partition, s.cursor).where(s.source == "test")).all())


def test_a_newest_first_stream_stores_its_newest_cursor_only_once_a_partition_is_read(
    engine: Engine,
) -> None:
    [failed] = run_stream(engine, NewestFirst(5, Repos(("a",)), fail_on_page=1))
    assert failed.error == "RuntimeError: crashed mid-sync" and failed.rows == 2
    assert cursors(engine) == {"a": None}  # the newest seen so far would skip older changes
    stream = NewestFirst(5, Repos(("a",)))
    [done] = run_stream(engine, stream)
    assert done.error is None and done.rows == 5
    assert cursors(engine) == {"a": (T0 + dt.timedelta(hours=4)).isoformat()}
    [again] = run_stream(engine, stream)
    assert stream.asked[-1] == T0 + dt.timedelta(hours=4) - dt.timedelta(minutes=1)
    assert again.rows == 1  # only the overlap, re-read
    assert cursors(engine) == {"a": (T0 + dt.timedelta(hours=4)).isoformat()}


def test_a_partition_its_list_cannot_read_is_recorded_and_the_others_go_on(
    engine: Engine,
) -> None:
    stream = NewestFirst(3, Repos(("a", "org/*", "b"), unreadable="org/*"))
    results = run_stream(engine, stream)
    assert [(r.partition, r.rows, r.error) for r in results] == [
        ("a", 3, None),
        ("org/*", 0, "LookupError: cannot list org/*"),
        ("b", 3, None),
    ]
