"""The stream contract and the sync runner, written once for every source.

A stream declares what it collects as class data, the way Singer taps and dlt sources
do: its `source` and `name`, the `table` its records go to and their `primary_key`
there, its `cursor_field` (replication key) with the `overlap` re-read before the
cursor, whether its pages come in cursor order (`is_sorted`), and its `partitions`.
What is truly its own is how to fetch and parse a page (`pages`), and a write that is
genuinely special (`write`, e.g. replacing child rows).

The runner (`run_stream`) does the rest, once: partitions, the bookmark each partition
starts from (the stored cursor minus the overlap), the page loop, state, rejects and
progress. It writes a page's rows, its rejects and the new cursor in ONE transaction,
so a crash at any point resumes from the last stored page with nothing lost and, thanks
to upserts on natural keys, nothing doubled. A failing partition is recorded and the
others go on. What a source says (errors, reasons) is redacted where it is stored
(`db.sync`) or logged, by the process's redactor (`config.redaction`).
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from collectors.identities import resolve_identities
from config.redaction import shorten
from db import models
from db import sync as db_sync
from db.session import session_factory
from db.upsert import upsert

if TYPE_CHECKING:
    from config.schema import Config

log = logging.getLogger(__name__)

ERROR_CHARS = 1000

# ---------------------------------------------------------------- what a stream yields


@dataclass
class Reject:
    """A record that could not be parsed: kept with the reason, never silently dropped."""

    key: str | None
    reason: str
    payload: str | None = None


@dataclass
class Page:
    """One unit of progress, stored in one transaction.

    `cursor`: for a sorted stream, the cursor that is safe once this page is stored; for
    an unsorted one, the newest `cursor_field` value the page saw. None leaves it be.
    """

    rows: Any
    rejects: list[Reject] = field(default_factory=list)
    cursor: dt.datetime | str | None = None
    items: int = 0  # source records this page covered, for progress
    requests: int = 1


@dataclass(frozen=True)
class Bookmark:
    """Where one partition's sync starts: what the runner hands `Stream.pages`."""

    partition: str
    cursor: str | None = None  # as stored; None on a first sync and on a full one
    overlap: dt.timedelta = dt.timedelta(0)
    full: bool = False  # ignore what is stored: fetch and write everything again

    @property
    def position(self) -> dt.datetime | None:
        """The stored cursor as a time."""
        return dt.datetime.fromisoformat(self.cursor) if self.cursor else None

    @property
    def since(self) -> dt.datetime | None:
        """The stored cursor minus the overlap: the oldest change to ask the source for.

        Clocks and replicas lag, so the last moments before the cursor are read again;
        upserts make the repeat harmless.
        """
        position = self.position
        return position - self.overlap if position is not None else None


class PartitionList(Protocol):
    """What lists a partitioned stream's parts (e.g. the repositories of a GitHub sync)."""

    def names(self) -> Sequence[str]: ...

    def check(self, partition: str) -> None:
        """Raise why a partition cannot be read (an organisation that cannot be listed)."""


@dataclass(frozen=True)
class Partitions:
    """How a stream splits into parts that keep a cursor each."""

    per: str | None = None  # what one part is ("repository"); None: the stream is one part
    listed_by: str | None = None  # the stream's attribute (a `PartitionList`) naming them


WHOLE = Partitions()


# ---------------------------------------------------------------- the contract


class Stream(abc.ABC):
    """What a source collects. A new source is a new small subclass, not a new loop."""

    source: ClassVar[str]  # the org file's `sources:` key: jira | github | cluster
    name: ClassVar[str]  # the stream, in `sync_state`, `sync_rejects` and the summary
    table: ClassVar[type[models.Base]]  # where its records go
    primary_key: ClassVar[tuple[str, ...]]  # their natural key there (a unique constraint)
    cursor_field: ClassVar[str | None] = None  # the replication key; None: whole every run
    # Pages come in cursor order, so each page's cursor is stored with it (a crash
    # resumes there). False for a newest-first list: the newest cursor seen is stored
    # once the partition is read to its end, as one stored earlier would skip older changes.
    is_sorted: ClassVar[bool] = True
    overlap: ClassVar[dt.timedelta] = dt.timedelta(0)  # re-read this much before the cursor
    partitions: ClassVar[Partitions] = WHOLE
    maps_accounts: ClassVar[bool] = False  # records accounts: map them to people after each part

    def total(self, bookmark: Bookmark) -> int | None:
        """How many records to expect, when the source says cheaply; for the progress bar."""
        return None

    @abc.abstractmethod
    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        """Fetch and parse, page by page, everything changed since `bookmark.since`."""

    def write(self, session: Session, page: Page) -> int:
        """Store a page's rows; returns how many rows were written. By default: `store`."""
        return len(self.store(session, page.rows))

    def store(
        self, session: Session, rows: Sequence[Mapping[str, Any]], *, returning: Sequence[str] = ()
    ) -> list[Any]:
        """Upsert rows into `table` on `primary_key`, one row per key (the last one given).

        Returns the rows stored, or with `returning`, those columns of each row stored.
        """
        by_key = {tuple(row[k] for k in self.primary_key): row for row in rows}
        # In key order: two syncs writing the same rows lock them in one order (PostgreSQL
        # would otherwise find a deadlock and fail one of them).
        unique = [by_key[key] for key in sorted(by_key, key=lambda k: tuple(map(str, k)))]
        returned = upsert(session, self.table, unique, self.primary_key, returning=returning)
        return returned if returning else unique


@dataclass(frozen=True)
class Source:
    """A source a sync can run: its name in the org file, and how to open its streams.

    `streams(config, engine, progress, **options)` builds the streams in the order they
    must run; a `clocked` source's also take the sync's `clock` (a snapshot is stamped
    with it, and a sandbox's clock is not the wall's).
    """

    name: str  # the key under `sources:` in the org file, and `--source`
    streams: Callable[..., list[Stream]]
    clocked: bool = False

    def configured(self, config: Config) -> bool:
        return getattr(config.sources, self.name) is not None


# ---------------------------------------------------------------- progress


class Progress(Protocol):
    def start(self, stream: str, partition: str, total: int | None) -> None: ...
    def advance(self, stream: str, partition: str, items: int) -> None: ...
    def note(self, message: str) -> None: ...


class NullProgress:
    def start(self, stream: str, partition: str, total: int | None) -> None:
        pass

    def advance(self, stream: str, partition: str, items: int) -> None:
        pass

    def note(self, message: str) -> None:
        log.info(message)


# ---------------------------------------------------------------- the runner


@dataclass
class StreamResult:
    source: str
    stream: str
    partition: str
    rows: int = 0
    rejects: int = 0
    pages: int = 0
    requests: int = 0
    error: str | None = None
    stopped: bool = False  # a stop was requested; the partition resumes next run


def describe_error(exc: BaseException) -> str:
    """A one-line cause for sync_state and the summary (redacted where it is stored or shown).

    Cut between words only: a secret in it stays whole, so the redactor recognises it.
    """
    text = f"{type(exc).__name__}: {exc}".strip()
    return shorten(text.splitlines()[0] if text else type(exc).__name__, ERROR_CHARS)


def reject_rows(rejects: Sequence[Reject], at: dt.datetime) -> list[dict[str, Any]]:
    """`sync_rejects` rows (but their source and stream); `db.sync` redacts and cuts them."""
    return [
        {"key": r.key, "reason": r.reason, "payload": r.payload or None, "at": at} for r in rejects
    ]


def _stored_form(cursor: dt.datetime | str) -> str:
    return cursor.isoformat() if isinstance(cursor, dt.datetime) else cursor


def _partitions(stream: Stream) -> tuple[Sequence[str], PartitionList | None]:
    if stream.partitions.listed_by is None:
        return ("",), None
    listed: PartitionList = getattr(stream, stream.partitions.listed_by)
    return listed.names(), listed


def run_stream(
    engine: Engine,
    stream: Stream,
    *,
    full: bool = False,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    should_stop: Callable[[], bool] = lambda: False,
) -> list[StreamResult]:
    """Run every partition of a stream; a failing partition is recorded and the others go on.

    `should_stop` is asked after every stored page: a stop request (SIGTERM) ends the run
    there, with everything fetched so far committed and the cursor where it belongs.
    """
    progress = progress or NullProgress()
    make_session = session_factory(engine)
    names, listed = _partitions(stream)
    results: list[StreamResult] = []
    for partition in names:
        if should_stop():
            break
        result = StreamResult(stream.source, stream.name, partition)
        results.append(result)
        where = (stream.source, stream.name, partition)
        with make_session() as session, session.begin():
            stored = db_sync.partition_started(session, *where, now())
        bookmark = Bookmark(partition, None if full else stored, stream.overlap, full)
        try:
            progress.start(stream.name, partition, stream.total(bookmark))
            if listed is not None:
                listed.check(partition)
            # A newest-first stream's cursor: the newest seen, stored at the partition's end.
            newest = None if stream.is_sorted else bookmark.position
            for page in stream.pages(bookmark):
                cursor = page.cursor if stream.is_sorted else None
                if not stream.is_sorted and isinstance(page.cursor, dt.datetime):
                    newest = page.cursor if newest is None else max(newest, page.cursor)
                with make_session() as session, session.begin():
                    written = stream.write(session, page)
                    db_sync.page_stored(
                        session,
                        *where,
                        rows=written,
                        rejects=reject_rows(page.rejects, now()),
                        cursor=_stored_form(cursor) if cursor is not None else None,
                    )
                result.rows += written
                result.rejects += len(page.rejects)
                result.pages += 1
                result.requests += page.requests
                progress.advance(stream.name, partition, page.items)
                if should_stop():
                    result.stopped = True
                    break
            if result.stopped:
                continue
            with make_session() as session, session.begin():
                if stream.maps_accounts:
                    resolve_identities(session)
                db_sync.partition_done(
                    session,
                    *where,
                    cursor=_stored_form(newest) if newest is not None else None,
                    at=now(),
                )
        except Exception as exc:  # one partition's failure must not stop the others
            result.error = describe_error(exc)
            log.warning("%s/%s %s failed: %s", stream.source, stream.name, partition, result.error)
            log.debug("%s", traceback.format_exc())
            with make_session() as session, session.begin():
                db_sync.partition_failed(session, *where, result.error)
    return results
