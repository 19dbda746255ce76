"""Every SELECT teamtide runs lives here: one place to see, index and tune what is read."""

from __future__ import annotations

import datetime as dt
import gc
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Select,
    String,
    Text,
    any_,
    bindparam,
    cast,
    false,
    func,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from db import models


@dataclass(frozen=True)
class StreamStatus:
    source: str
    stream: str
    partition: str
    last_started: dt.datetime | None
    last_success: dt.datetime | None
    last_error: str | None
    rows: int
    rejects: int


def sync_states(session: Session) -> list[StreamStatus]:
    s = models.SyncState
    rows = session.execute(
        select(
            s.source,
            s.stream,
            s.partition,
            s.last_started,
            s.last_success,
            s.last_error,
            s.rows,
            s.rejects,
        ).order_by(s.source, s.stream, s.partition)
    )
    return [StreamStatus(*row) for row in rows]


def reject_counts(session: Session) -> dict[tuple[str, str], int]:
    """All rejects ever kept, by (source, stream)."""
    r = models.SyncReject
    rows = session.execute(select(r.source, r.stream, func.count()).group_by(r.source, r.stream))
    return {(source, stream): n for source, stream, n in rows}


def recent_rejects(session: Session, limit: int = 50) -> list[models.SyncReject]:
    return list(
        session.scalars(
            select(models.SyncReject).order_by(models.SyncReject.at.desc()).limit(limit)
        )
    )


def unmapped_identities(session: Session) -> list[models.Identity]:
    """Accounts met in Jira or GitHub that no person of the org file owns."""
    i = models.Identity
    return list(
        session.scalars(
            select(i)
            .where(i.person_id.is_(None), i.source.in_(("jira", "github")))
            .order_by(i.source, i.value)
        )
    )


# --- metric inputs -----------------------------------------------------------------------
# The frames of metrics/frames.py, for a window. Accounts become person names here (via
# identities), so the metrics never see a source's account ids; unmapped stay None.

_TS = {"format": "ISO8601", "utc": True}


def _accounts(conn: Connection, source: str) -> dict[str, str]:
    """Account -> person name for one source (GitHub logins are stored lower-cased)."""
    i, p = models.Identity, models.Person
    rows = conn.execute(
        select(i.value, p.name).join(p, p.id == i.person_id).where(i.source == source)
    )
    return dict(rows.all())


def _to_people(
    frame: pd.DataFrame, names: dict[str, str], renames: dict[str, str], lower: bool = False
) -> None:
    """Replace account columns by person-name columns (None where nobody owns the account)."""
    for account_column, person_column in renames.items():
        accounts = frame.pop(account_column)
        if lower:
            accounts = accounts.str.lower()
        # Each distinct account is looked up once (NaN, a missing account, has code -1).
        codes, uniques = pd.factorize(accounts)
        people = np.array([names.get(u) for u in uniques] + [None], dtype=object)
        frame[person_column] = pd.Series(people[codes], index=frame.index, dtype=object)


def _frame(
    conn: Connection,
    stmt: Select[Any],
    timestamps: tuple[str, ...] = (),
    lists: tuple[str, ...] = (),
) -> pd.DataFrame:
    """`stmt` read into a frame: `timestamps` as UTC datetimes, `lists` (JSON) as lists.

    Through their column types these columns took most of the read time, converted one
    value at a time (the UTCDateTime decorator; SQLite's DateTime and JSON parsers;
    psycopg's datetimes in the session's zone and its json module). So they are read as
    text (`_AS_TEXT`) and converted a whole column at once: pandas parses the timestamps
    as it did the datetimes, orjson the JSON. On SQLite a statement then left with no
    column for SQLAlchemy to convert (Booleans aside) runs on the sqlite3 connection
    itself (`_read_sqlite`), without a Row object per row. `pd.read_sql` builds the frame
    either way, so columns, dtypes and row order stay those of the plain ORM reading.
    """
    dialect = conn.dialect
    as_text = _AS_TEXT.get(dialect.name)
    kinds = {**dict.fromkeys(timestamps, "timestamp"), **dict.fromkeys(lists, "json")}
    stmt = stmt.with_only_columns(
        *(
            (as_text[kinds[col.key]](col) if as_text and col.key in kinds else col).label(col.key)
            for col in stmt.selected_columns
        ),
        maintain_column_froms=True,
    )
    parse_dates = {c: _TS for c in timestamps}
    booleans = [col.key for col in stmt.selected_columns if isinstance(col.type, Boolean)]
    on_sqlite = isinstance(conn.connection.dbapi_connection, sqlite3.Connection)
    # (asked of SQLite's types only: psycopg's Float processor needs the column's type code)
    processed = on_sqlite and any(
        col.type.dialect_impl(dialect).result_processor(dialect, None)
        for col in stmt.selected_columns
        if col.key not in booleans
    )
    if on_sqlite and not processed:
        frame = _read_sqlite(conn, stmt, parse_dates)
        for column in booleans:  # SQLite stores 0 and 1
            frame[column] = _booleans(frame[column])
    else:
        frame = pd.read_sql(stmt, conn, parse_dates=parse_dates)
    for column in lists:
        frame[column] = _lists(frame[column])
    return frame


def _read_sqlite(conn: Connection, stmt: Select[Any], parse_dates: dict[str, Any]) -> pd.DataFrame:
    """`stmt` run by `pd.read_sql` on the sqlite3 connection under `conn`: the same frame as
    through SQLAlchemy when no column has a result processor, without a Row per row.

    SQLAlchemy still compiles the statement and converts the parameters (the UTCDateTime
    bounds become the stored text form), so the query and its plan are unchanged.
    """
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = {}
    for name, value in compiled.construct_params().items():
        # an IN list's values are expanded to `<its bind>_1`, `<its bind>_2`, ...
        bind = compiled.binds[name if name in compiled.binds else name.rsplit("_", 1)[0]]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        values[name] = process(value) if process else value
    params = [values[name] for name in compiled.positiontup] if compiled.positional else values
    dbapi = conn.connection.dbapi_connection
    return pd.read_sql(compiled.string, dbapi, params=params, parse_dates=parse_dates)


def _booleans(column: pd.Series) -> pd.Series:
    """A Boolean column read as SQLite's integers, as SQLAlchemy would have read it."""
    if column.dtype.kind == "i":  # no NULL: the common case
        return column.astype(bool)
    values = [None if v is None or v != v else bool(v) for v in column.tolist()]
    dtype = bool if values and None not in values else object
    return pd.Series(values, index=column.index, dtype=dtype, name=column.name)


# Timestamp and JSON columns as text, per dialect. SQLite: the text it stores (naive UTC
# `YYYY-MM-DD HH:MM:SS.ffffff`, and JSON). PostgreSQL: UTC in one fixed form whatever the
# session's TimeZone and DateStyle, and the JSON text. Other dialects keep the types.
_AS_TEXT: dict[str, dict[str, Callable[[Any], Any]]] = {
    "sqlite": {
        "timestamp": lambda col: type_coerce(col, String()),
        "json": lambda col: type_coerce(col, String()),
    },
    "postgresql": {
        "timestamp": lambda col: func.to_char(
            func.timezone("UTC", col), 'YYYY-MM-DD"T"HH24:MI:SS.US', type_=String()
        ),
        "json": lambda col: cast(col, Text()),
    },
}


def _lists(column: pd.Series) -> list[Any]:
    """JSON list values, as read: JSON text (`orjson` decodes it), or already decoded by a
    dialect read with its column types. NULL and JSON null become []."""
    return [_as_list(orjson.loads(v) if isinstance(v, str) else v) for v in column.tolist()]


def _as_list(value: Any) -> Any:
    """The value of a JSON list column as metrics read it (what `value or []` was, with a
    missing value read as text, NaN, counted as missing too)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):  # JSON text holding JSON text: decoded once more
        return orjson.loads(value)
    return value if value and value == value else []


class _Unindexed(ColumnElement[Any]):
    """A column that SQLite must not pick an index for (`+column`); the column elsewhere.

    `created_at <= end` holds for nearly every row when `end` is recent, yet without
    statistics SQLite reads the ids of the items alive in a window through the
    created_at index (a lookup per row) instead of the done_at one (the rows done since
    `start`, plus those not done): 1.5 to 2 times slower. Used only where the order of
    the rows does not depend on the plan (inside `IN (...)`).
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _column(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_Unindexed, "sqlite")
def _unary_plus(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while frames are read (reference counting still
    frees everything): the reads make a few hundred thousand lists and tuples, which would
    set off full collections of the whole process heap for nothing (on medium a sixth of
    the read time). Only a caller that found it on turns it back on."""
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


LINKED_KEYS_PER_QUERY = 500
# Ids per IN list where a page names thousands (a window's samples on a large org): far
# below SQLite's 32,766 and PostgreSQL's 65,535 parameters, and 20 times fewer statements.
IDS_PER_QUERY = 10_000


def _item_columns() -> list[Any]:
    """The work-item columns the metrics read, named as the `items` frame names them."""
    w = models.WorkItem
    return [
        w.id.label("item_id"),
        w.source,
        w.key,
        w.project,
        w.type.label("issue_type"),
        w.summary,
        w.status,
        w.priority,
        w.labels,
        w.components,
        w.epic_key,
        w.created_at,
        w.done_at,
        w.reporter_account,
        w.assignee_account,
        w.url,
        w.sprint,  # committed work for the load forecast (metrics/forecast_teams.py)
    ]


def items_alive(conn: Connection, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """The work items `metric_frames` reads for [start, end] (created by `end`, not done
    before `start`), their own columns only: what the category rules read."""
    w = models.WorkItem
    alive = (w.created_at <= end) & ((w.done_at.is_(None)) | (w.done_at >= start))
    return _frame(
        conn,
        select(*_item_columns()).where(alive),
        ("created_at", "done_at"),
        ("labels", "components"),
    )


def ids_in(conn: Connection, column: Any, ids: list[int]) -> list[ColumnElement[bool]]:
    """Conditions that together select the rows whose `column` is one of `ids`, one per
    statement: on PostgreSQL one `= ANY(array)` (a bound list of 10,000 ids costs it more
    to plan than to run), on SQLite IN lists of `IDS_PER_QUERY`."""
    if conn.dialect.name == "postgresql":
        return [column == any_(bindparam("ids", ids, type_=postgresql.ARRAY(BigInteger)))]
    return [column.in_(ids[i : i + IDS_PER_QUERY]) for i in range(0, len(ids), IDS_PER_QUERY)]


def texts(
    conn: Connection, item_ids: list[int], pr_ids: list[int], *, keys_only: bool = False
) -> dict[str, pd.DataFrame]:
    """What the pages print beside figures: item key, title, status and link by item_id;
    pull request label (`repo#number`) and link by pr_id. `keys_only`: the key and the
    label alone (a chart's hover text over a window's every item reads no titles)."""
    w, pr = models.WorkItem, models.PullRequest
    item_columns = [w.id.label("item_id"), w.key] + (
        [] if keys_only else [w.summary, w.status, w.url]
    )
    pull_columns = [pr.id.label("pr_id"), pr.repo, pr.number] + ([] if keys_only else [pr.url])
    items = [_frame(conn, select(*item_columns).where(c)) for c in ids_in(conn, w.id, item_ids)]
    pulls = [_frame(conn, select(*pull_columns).where(c)) for c in ids_in(conn, pr.id, pr_ids)]
    empty_items = pd.DataFrame(columns=[c.key for c in item_columns])
    empty_pulls = pd.DataFrame(columns=[c.key for c in pull_columns])
    found = {
        "items": pd.concat(items, ignore_index=True) if items else empty_items,
        "pulls": pd.concat(pulls, ignore_index=True) if pulls else empty_pulls,
    }
    found["pulls"]["label"] = (
        found["pulls"]["repo"].astype(str) + "#" + found["pulls"]["number"].astype(str)
    )
    return found


def _linked_items(conn: Connection, keys: set[str]) -> pd.DataFrame:
    """The items named by `keys` (linked from the window's PRs, outside the span read), in
    the shape of the items read: their rules give a PR its category whatever the span."""
    w = models.WorkItem
    wanted = sorted(keys)
    chunks = [
        _frame(
            conn,
            select(*_item_columns())
            .where(w.key.in_(wanted[i : i + LINKED_KEYS_PER_QUERY]))
            .order_by(w.id),
            ("created_at", "done_at"),
            ("labels", "components"),
        )
        for i in range(0, max(len(wanted), 1), LINKED_KEYS_PER_QUERY)
    ]
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


@_cyclic_gc_paused()
def metric_frames(
    conn: Connection, start: dt.datetime, end: dt.datetime, *, work_only: bool = False
) -> dict[str, pd.DataFrame]:
    """Everything the metrics need to describe [start, end]: items alive in it, with their history.

    An item is read when it was created before `end` and not done before `start`; a pull
    request when it was open at some moment of the window. Their transitions,
    assignments, comments and reviews come whole, since cycle times need the full history.
    `work_only`: no comments, pull requests or reviews (empty frames): what the load and
    its forecast read, in half the time.
    """
    wanted = false() if work_only else true()
    w, t, a, c = models.WorkItem, models.ItemTransition, models.ItemAssignment, models.ItemComment
    pr, rv = models.PullRequest, models.Review
    alive = (w.created_at <= end) & ((w.done_at.is_(None)) | (w.done_at >= start))
    item_ids = select(w.id).where(
        (_Unindexed(w.created_at) <= end) & ((w.done_at.is_(None)) | (w.done_at >= start))
    )
    items = _frame(
        conn,
        select(*_item_columns()).where(alive),
        ("created_at", "done_at"),
        ("labels", "components"),
    )
    transitions = _frame(
        conn,
        select(
            t.item_id,
            t.at,
            t.from_status,
            t.to_status,
            t.author_account,
        )
        .where(t.item_id.in_(item_ids))
        .order_by(t.item_id, t.at, t.id),
        ("at",),
    )
    assignments = _frame(
        conn,
        select(
            a.item_id,
            a.at,
            a.from_account,
            a.to_account,
        )
        .where(a.item_id.in_(item_ids))
        .order_by(a.item_id, a.at, a.id),
        ("at",),
    )
    comments = _frame(
        conn,
        select(c.item_id, c.at, c.author_account).where(c.item_id.in_(item_ids) & wanted),
        ("at",),
    )
    open_in_window = (pr.created_at <= end) & (pr.closed_at.is_(None) | (pr.closed_at >= start))
    pulls = _frame(
        conn,
        select(
            pr.id.label("pr_id"),
            pr.repo,
            pr.number,
            pr.author_account,
            pr.created_at,
            pr.ready_at,
            pr.first_review_at,
            pr.merged_at,
            pr.closed_at,
            pr.draft,
            pr.labels,
            pr.linked_keys,
            pr.url,
        ).where(open_in_window & wanted),
        ("created_at", "ready_at", "first_review_at", "merged_at", "closed_at"),
        ("labels", "linked_keys"),
    )
    key_to_id = dict(zip(items["key"], items["item_id"], strict=True))
    linked_items = _linked_items(
        conn, {k for keys in pulls["linked_keys"] for k in keys} - set(key_to_id)
    )
    key_to_id.update(zip(linked_items["key"], linked_items["item_id"], strict=True))
    pulls["linked_item_ids"] = [
        [key_to_id[k] for k in keys if k in key_to_id] for keys in pulls["linked_keys"]
    ]
    reviews = _frame(
        conn,
        select(
            rv.pr_id,
            rv.reviewer_account,
            rv.state,
            rv.submitted_at,
        ).where(
            rv.pr_id.in_(
                select(pr.id).where(
                    (_Unindexed(pr.created_at) <= end)
                    & (pr.closed_at.is_(None) | (pr.closed_at >= start))
                )
            )
            & wanted
        ),
        ("submitted_at",),
    )
    statuses = _frame(
        conn, select(models.Status.source, models.Status.name, models.Status.category)
    )
    m, tm, p = models.Membership, models.Team, models.Person
    memberships = _frame(
        conn,
        select(p.name.label("person"), tm.name.label("team"), m.valid_from, m.valid_to)
        .join(p, p.id == m.person_id)
        .join(tm, tm.id == m.team_id),
    )
    people = _frame(conn, select(p.name.label("person"), p.active))
    jira, github = _accounts(conn, "jira"), _accounts(conn, "github")
    for frame in (items, linked_items):
        _to_people(frame, jira, {"reporter_account": "reporter", "assignee_account": "assignee"})
    _to_people(transitions, jira, {"author_account": "author"})
    _to_people(assignments, jira, {"from_account": "from_person", "to_account": "to_person"})
    _to_people(comments, jira, {"author_account": "author"})
    _to_people(pulls, github, {"author_account": "author"}, lower=True)
    _to_people(reviews, github, {"reviewer_account": "reviewer"}, lower=True)
    return {
        "items": items,
        "transitions": transitions,
        "statuses": statuses,
        "assignments": assignments,
        "comments": comments,
        "pulls": pulls,
        "reviews": reviews,
        "memberships": memberships,
        "people": people,
        "linked_items": linked_items,
    }


def next_runs(conn: Connection) -> dict[str, dt.datetime]:
    """Scheduled jobs' next run (APScheduler's own table, present once `teamtide schedule` ran)."""
    from sqlalchemy import inspect, text

    if "apscheduler_jobs" not in inspect(conn).get_table_names():
        return {}
    rows = conn.execute(
        text("SELECT id, next_run_time FROM apscheduler_jobs WHERE next_run_time IS NOT NULL")
    )
    return {job_id: dt.datetime.fromtimestamp(ts, dt.UTC) for job_id, ts in rows}


def last_job_runs(session: Session) -> dict[str, models.JobRun]:
    """The latest finished run of each scheduled job."""
    r = models.JobRun
    latest = (
        select(r.job, func.max(r.id).label("id"))
        .where(r.finished_at.is_not(None))
        .group_by(r.job)
        .subquery()
    )
    return {run.job: run for run in session.scalars(select(r).join(latest, latest.c.id == r.id))}


def data_span(conn: Connection) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last moment anything happened in the work items and pull requests."""
    w, pr = models.WorkItem, models.PullRequest
    # One aggregate a statement: SQLite reads a min() or max() off its index only when it
    # is alone (both in one statement scanned 400,000 items, 0.5 s on `large`).
    lows = [conn.execute(select(func.min(m.created_at))).scalar() for m in (w, pr)]
    highs = [conn.execute(select(func.max(m.updated_at))).scalar() for m in (w, pr)]
    known_lows = [_aware(low) for low in lows if low is not None]
    known_highs = [_aware(high) for high in highs if high is not None]
    return (min(known_lows), max(known_highs)) if known_lows and known_highs else None


def _aware(value: Any) -> dt.datetime:
    """Aggregates bypass the column type on SQLite and come back as text or naive values."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --- weekly reports ----------------------------------------------------------------------


def stored_report(conn: Connection, period: str) -> models.Report | None:
    """The report stored for an ISO week (`2025-W26`), if any."""
    with Session(bind=conn) as session:
        report = session.scalars(
            select(models.Report).where(models.Report.period == period)
        ).one_or_none()
        if report is not None:
            session.expunge(report)
        return report


def report_list(conn: Connection) -> list[dict[str, Any]]:
    """Every stored report, newest week first: period, generated_at, delivered_to."""
    r = models.Report
    rows = conn.execute(
        select(r.period, r.generated_at, r.delivered_to).order_by(r.period.desc())
    ).mappings()
    return [dict(row) for row in rows]


def report_deliveries(conn: Connection, period: str) -> list[dict[str, Any]]:
    """The delivery ledger of a week: one row per recipient with its status and attempts."""
    d = models.ReportDelivery
    rows = conn.execute(
        select(d.recipient, d.status, d.attempts, d.sent_at, d.last_error)
        .where(d.period == period)
        .order_by(d.id)
    ).mappings()
    return [dict(row) for row in rows]


STREAM_COLUMNS = (
    "source", "stream", "partition", "last_success", "last_error", "next_run",
    "rows", "rejects", "rejects_kept",
)  # fmt: skip


def stream_overview(session: Session) -> list[dict[str, Any]]:
    """Each stream's last outcome, its next scheduled run and the rejects kept for it: the
    one view `teamtide status` and the Data health page both show (keys: STREAM_COLUMNS)."""
    kept = reject_counts(session)
    next_run = next_runs(session.connection())
    return [
        {
            "source": s.source,
            "stream": s.stream,
            "partition": s.partition,
            "last_success": s.last_success,
            "last_error": s.last_error,
            "next_run": next_run.get(f"teamtide-{s.source}"),
            "rows": s.rows,
            "rejects": s.rejects,
            "rejects_kept": kept.get((s.source, s.stream), 0),
        }
        for s in sync_states(session)
    ]
