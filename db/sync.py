"""The collectors' SQL: sync state and rejects, what a stream has stored, and special writes.

`collectors/` builds rows and decides what to fetch; every statement it needs is here
(or is the one upsert, `db.upsert`). A stream's partition is named by three strings,
`(source, stream, partition)`, as in `sync_state`. The free text a source sends back (an
error, a reject's reason and excerpt) enters the database here, through the process's
redactor (`config.redaction`), and is cut to its column's length only after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from config.redaction import redact
from db import models
from db.upsert import dialect_insert, upsert

ERROR_CHARS = 1000  # sync_state.last_error
REASON_CHARS = 2000  # sync_rejects.reason
EXCERPT_CHARS = 500  # sync_rejects.payload: an excerpt, never the whole record

# ---------------------------------------------------------------- sync state and rejects


def _state(session: Session, source: str, stream: str, partition: str) -> models.SyncState:
    """The partition's `sync_state` row, created on its first sync.

    Created by `INSERT ... ON CONFLICT DO NOTHING`, never by a read then an insert: two
    syncs starting together on a new database (a manual one beside the scheduler, say)
    would both find no row and one would fail on the unique key.
    """
    s = models.SyncState
    session.execute(
        dialect_insert(session, s)
        .values(source=source, stream=stream, partition=partition, rows=0, rejects=0)
        .on_conflict_do_nothing(index_elements=["source", "stream", "partition"])
    )
    return session.scalars(
        select(s).where(s.source == source, s.stream == stream, s.partition == partition)
    ).one()


def partition_started(
    session: Session, source: str, stream: str, partition: str, at: dt.datetime
) -> str | None:
    """Note a partition's run as started (its counts start from zero); returns its cursor."""
    state = _state(session, source, stream, partition)
    state.last_started, state.rows, state.rejects = at, 0, 0
    return state.cursor


def page_stored(
    session: Session,
    source: str,
    stream: str,
    partition: str,
    *,
    rows: int,
    rejects: Sequence[Mapping[str, Any]],
    cursor: str | None,
) -> None:
    """In the page's own transaction: its rejects, its counts, and its cursor (None: unchanged).

    `rejects` are `sync_rejects` rows without `source` and `stream`; their texts are
    redacted and cut here.
    """
    if rejects:
        session.execute(
            insert(models.SyncReject),
            [{"source": source, "stream": stream, **_clean_reject(r)} for r in rejects],
        )
    state = _state(session, source, stream, partition)
    if cursor is not None:
        state.cursor = cursor
    state.rows += rows
    state.rejects += len(rejects)


def _clean_reject(reject: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(reject)
    for column, limit in (("key", None), ("reason", REASON_CHARS), ("payload", EXCERPT_CHARS)):
        if isinstance(row.get(column), str):
            row[column] = redact(row[column], limit)
    return row


def partition_done(
    session: Session,
    source: str,
    stream: str,
    partition: str,
    *,
    cursor: str | None,
    at: dt.datetime,
) -> None:
    """A partition read to its end: its success, and a final cursor (None: unchanged)."""
    state = _state(session, source, stream, partition)
    if cursor is not None:
        state.cursor = cursor
    state.last_success, state.last_error = at, None


def partition_failed(
    session: Session, source: str, stream: str, partition: str, error: str
) -> None:
    """A partition's run failed: its error, redacted."""
    _state(session, source, stream, partition).last_error = redact(error, ERROR_CHARS)


def record_source_start(engine: Engine, source: str, error: str | None, now: dt.datetime) -> None:
    """A source that could not even start (bad URL, refused token) has no stream to note it.

    Its error goes on a source-wide `sync_state` row (empty stream and partition), so
    `teamtide status` shows it; the next run that starts clears it.
    """
    error = redact(error, ERROR_CHARS) if error is not None else None
    s = models.SyncState
    where = (s.source == source, s.stream == "", s.partition == "")
    with engine.begin() as conn:
        if error is None:
            conn.execute(update(s).where(*where).values(last_error=None))
            return
        found = conn.execute(update(s).where(*where).values(last_started=now, last_error=error))
        if found.rowcount == 0:  # the first: another sync may be writing it right now
            first = dialect_insert(conn, s).values(
                source=source,
                stream="",
                partition="",
                last_started=now,
                last_error=error,
                rows=0,
                rejects=0,
            )
            conn.execute(
                first.on_conflict_do_update(
                    index_elements=["source", "stream", "partition"],
                    set_={"last_started": now, "last_error": first.excluded.last_error},
                )
            )


# ---------------------------------------------------------------- what a stream has stored


def stored_updates(
    conn: Connection, source: str, keys: Sequence[str]
) -> dict[str, dt.datetime | None]:
    """`updated_at` of the work items of `source` among `keys`, by key."""
    if not keys:
        return {}
    w = models.WorkItem
    rows = conn.execute(select(w.key, w.updated_at).where(w.source == source, w.key.in_(keys)))
    return dict(rows.all())


def stored_pulls(
    conn: Connection, repo: str, numbers: Sequence[int]
) -> dict[int, tuple[dt.datetime | None, dt.datetime | None, int | None]]:
    """`(updated_at, closed_at, additions)` of the repository's pull requests among `numbers`."""
    if not numbers:
        return {}
    pr = models.PullRequest
    rows = conn.execute(
        select(pr.number, pr.updated_at, pr.closed_at, pr.additions).where(
            pr.repo == repo, pr.number.in_(numbers)
        )
    ).all()
    return {number: (updated, closed, adds) for number, updated, closed, adds in rows}


def stored_cursors(conn: Connection, source: str, stream: str) -> dict[str, str]:
    """The stored cursor of each partition of a stream that has one."""
    st = models.SyncState
    rows = conn.execute(
        select(st.partition, st.cursor).where(
            st.source == source, st.stream == stream, st.cursor.is_not(None)
        )
    )
    return {partition: cursor for partition, cursor in rows.all()}


def stored_projects(conn: Connection, source: str) -> list[str]:
    """The distinct projects of `source`'s stored work items."""
    w = models.WorkItem
    return list(
        conn.scalars(
            select(w.project).where(w.source == source, w.project.is_not(None)).distinct()
        ).all()
    )


def earliest_cluster_sample(conn: Connection, *, observed: bool = False) -> dt.datetime | None:
    """The time of the earliest stored cluster sample (UTC), or None when there is none.

    `observed`: only samples a snapshot or Prometheus took, not those rebuilt from pods.
    """
    s = models.ClusterSample
    query = select(func.min(s.at))
    if observed:
        query = query.where(s.origin.is_(None) | s.origin.not_in(sorted(models.REBUILT_ORIGINS)))
    value = conn.execute(query).scalar()
    if value is None:
        return None
    if isinstance(value, str):  # an aggregate skips the column type on SQLite
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------- special writes


def replace_children(
    session: Session,
    table: Any,
    parent: str,
    key: str,
    parents: Sequence[int],
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """Make the `parents`' rows of `table` exactly `rows`; returns how many stored rows went.

    The rows are upserted on `(parent, key)`; the stored rows of those parents that are
    not among them (deleted in the source) are deleted.
    """
    model = getattr(table, "__table__", table)
    keep = {(row[parent], row[key]) for row in rows}
    stored = session.execute(
        select(model.c.id, model.c[parent], model.c[key]).where(model.c[parent].in_(parents))
    ).all()
    stale = [row_id for row_id, owner, value in stored if (owner, value) not in keep]
    if stale:
        session.execute(delete(model).where(model.c.id.in_(stale)))
    upsert(session, model, rows, [parent, key])
    return len(stale)


def clear_cluster_instants(session: Session, instants: Iterable[dt.datetime]) -> None:
    """Delete the cluster samples and node counts taken at these instants (to write them anew)."""
    for at in instants:
        session.execute(delete(models.ClusterSample).where(models.ClusterSample.at == at))
        session.execute(delete(models.ClusterNode).where(models.ClusterNode.at == at))
