"""The stream contract and the sync runner, written once for every source.

A stream declares what it collects (source, name, partitions) and yields pages; each
page carries its parsed rows, the records it had to set aside, and the cursor that is
safe once the page is stored. The runner writes a page's rows, its rejects and the new
cursor in ONE transaction, so a crash at any point resumes from the last stored page
with nothing lost and, thanks to upserts on natural keys, nothing doubled.
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from db import models
from db.session import session_factory

log = logging.getLogger(__name__)

EXCERPT_CHARS = 500


@dataclass
class Reject:
    """A record that could not be parsed: kept with the reason, never silently dropped."""

    key: str | None
    reason: str
    payload: str | None = None


@dataclass
class Page:
    """One unit of progress. `cursor=None` leaves the stored cursor where it is."""

    rows: Any
    rejects: list[Reject] = field(default_factory=list)
    cursor: str | None = None
    items: int = 0  # source records this page covered, for progress
    requests: int = 1


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


class Stream(abc.ABC):
    """What a source collects. A new source is a new small subclass, not a new loop."""

    source: ClassVar[str]
    name: ClassVar[str]

    def partitions(self) -> Sequence[str]:
        """Independent parts with a cursor each (e.g. one per repository); one by default."""
        return ("",)

    def total(self, partition: str, cursor: str | None) -> int | None:
        """How many records to expect, when the source says cheaply; for the progress bar."""
        return None

    @abc.abstractmethod
    def pages(self, partition: str, cursor: str | None, full: bool) -> Iterator[Page]:
        """Fetch and parse, page by page, everything changed since `cursor`."""

    @abc.abstractmethod
    def write(self, session: Session, page: Page) -> int:
        """Store a page's rows (upserts on natural keys); returns how many rows were written."""

    def finish(self, session: Session, partition: str) -> str | None:
        """After the last page: a cursor to store (for newest-first sources), or None."""
        return None


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


def _state(session: Session, stream: Stream, partition: str) -> models.SyncState:
    row = session.scalar(
        select(models.SyncState).where(
            models.SyncState.source == stream.source,
            models.SyncState.stream == stream.name,
            models.SyncState.partition == partition,
        )
    )
    if row is None:
        row = models.SyncState(
            source=stream.source, stream=stream.name, partition=partition, rows=0, rejects=0
        )
        session.add(row)
        session.flush()
    return row


def store_rejects(
    session: Session, source: str, stream: str, rejects: Sequence[Reject], at: dt.datetime
) -> None:
    rows = [
        {
            "source": source,
            "stream": stream,
            "key": r.key,
            "reason": r.reason[:2000],
            "payload": (r.payload or "")[:EXCERPT_CHARS] or None,
            "at": at,
        }
        for r in rejects
    ]
    if rows:
        session.execute(insert(models.SyncReject), rows)


def describe_error(exc: BaseException, redact: Callable[[str], str]) -> str:
    """A one-line cause for sync_state and the summary, with every secret removed."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)[:1000]


def run_stream(
    engine: Engine,
    stream: Stream,
    *,
    full: bool = False,
    progress: Progress | None = None,
    redact: Callable[[str], str] = lambda s: s,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    should_stop: Callable[[], bool] = lambda: False,
) -> list[StreamResult]:
    """Run every partition of a stream; a failing partition is recorded and the others go on.

    `should_stop` is asked after every stored page: a stop request (SIGTERM) ends the run
    there, with everything fetched so far committed and the cursor where it belongs.
    """
    progress = progress or NullProgress()
    make_session = session_factory(engine)
    results: list[StreamResult] = []
    for partition in stream.partitions():
        if should_stop():
            break
        result = StreamResult(stream.source, stream.name, partition)
        results.append(result)
        with make_session() as session, session.begin():
            state = _state(session, stream, partition)
            state.last_started, state.rows, state.rejects = now(), 0, 0
            cursor = None if full else state.cursor
        try:
            progress.start(stream.name, partition, stream.total(partition, cursor))
            for page in stream.pages(partition, cursor, full):
                with make_session() as session, session.begin():
                    written = stream.write(session, page)
                    store_rejects(session, stream.source, stream.name, page.rejects, now())
                    state = _state(session, stream, partition)
                    if page.cursor is not None:
                        state.cursor = page.cursor
                    state.rows += written
                    state.rejects += len(page.rejects)
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
                final = stream.finish(session, partition)
                state = _state(session, stream, partition)
                if final is not None:
                    state.cursor = final
                state.last_success, state.last_error = now(), None
        except Exception as exc:  # one partition's failure must not stop the others
            result.error = describe_error(exc, redact)
            log.warning("%s/%s %s failed: %s", stream.source, stream.name, partition, result.error)
            log.debug("%s", redact(traceback.format_exc()))
            with make_session() as session, session.begin():
                _state(session, stream, partition).last_error = result.error
    return results
