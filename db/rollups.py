"""The rollup tables: the metrics' weekly parts and samples, stored and read back as frames.

What they hold and how they are kept up to date is `metrics.rollup`'s business; this
module only moves frames in and out. A refresh replaces the weeks from a given Monday
on and the samples of given ids, and writes the state row, in the caller's transaction:
a reader sees the whole refresh or none of it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    delete,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
)

from db import models
from db.queries import _aware, _frame, _Unindexed, ids_in
from db.upsert import ROWS_PER_STATEMENT

WEEKLY = {
    "allocation": models.RollupAllocation,
    "loads": models.RollupTeamLoad,
    "people": models.RollupPersonLoad,
    "things": models.RollupThing,
}
SAMPLES = {
    "items": (models.RollupItemSample, "item_id", "at"),
    "pulls": (models.RollupPullSample, "pr_id", "at"),
    "requests": (models.RollupRequest, "item_id", "created_at"),
}
_TIMESTAMPS = ("at", "created_at", "done_at", "first_response_at")


@dataclass(frozen=True)
class State:
    version: int
    as_of: dt.datetime
    watermark: dt.datetime | None
    config_digest: str
    memberships: list[str]
    first_week: dt.date | None
    refreshed_at: dt.datetime
    detail: str | None


def state(conn: Connection) -> State | None:
    """The rollups' state row, or None before the first refresh (or before the database
    was upgraded to hold rollups: a reader then computes from the facts)."""
    s = models.RollupState
    if not inspect(conn).has_table(s.__tablename__):
        return None
    row = conn.execute(
        select(
            s.version,
            s.as_of,
            s.watermark,
            s.config_digest,
            s.memberships,
            s.first_week,
            s.refreshed_at,
            s.detail,
        ).where(s.id == 1)
    ).first()
    return State(*row) if row else None


def save_state(conn: Connection, new: State) -> None:
    s = models.RollupState
    values = {field: getattr(new, field) for field in State.__dataclass_fields__}
    if conn.execute(select(s.id).where(s.id == 1)).first():
        conn.execute(s.__table__.update().where(s.id == 1).values(**values))
    else:
        conn.execute(insert(s).values(id=1, **values))


def save_result(conn: Connection, name: str, version: int, body: str) -> None:
    """Keep `body` (JSON) as the result `name` of the rollups' `version`."""
    r = models.RollupResult
    conn.execute(delete(r).where(r.name == name))
    conn.execute(insert(r).values(name=name, version=version, body=body))


def result(conn: Connection, name: str, version: int) -> str | None:
    """The kept result `name` when it was computed from `version`, else None."""
    r = models.RollupResult
    if not inspect(conn).has_table(r.__tablename__):
        return None
    query = select(r.body).where((r.name == name) & (r.version == version))
    return conn.execute(query).scalar()


def replace_weeks(
    conn: Connection, first: dt.date, last: dt.date | None, parts: dict[str, pd.DataFrame]
) -> int:
    """Delete every weekly row of the Mondays `first`..`last` (None: every later one) and
    insert `parts` (frames named as `WEEKLY`, weeks as dates, all among them); returns the
    rows written."""
    written = 0
    for name, model in WEEKLY.items():
        weeks = model.week >= first if last is None else model.week.between(first, last)
        conn.execute(delete(model).where(weeks))
        written += _insert(conn, model, parts[name])
    return written


def replace_samples(
    conn: Connection,
    item_ids: Iterable[int],
    pr_ids: Iterable[int],
    samples: dict[str, pd.DataFrame],
) -> int:
    """Delete the samples of `item_ids` and `pr_ids` and insert `samples` (frames named as
    `SAMPLES`, whose ids must be among them); returns the rows written."""
    ids = {"items": sorted(set(item_ids)), "pulls": sorted(set(pr_ids))}
    ids["requests"] = ids["items"]
    written = 0
    for name, (model, key, _) in SAMPLES.items():
        for wanted in ids_in(conn, getattr(model, key), ids[name]):
            conn.execute(delete(model).where(wanted))
        written += _insert(conn, model, samples[name])
    return written


def clear(conn: Connection) -> None:
    """Empty every rollup table but the state (a full refresh starts from nothing)."""
    for model in [*WEEKLY.values(), *(m for m, _, _ in SAMPLES.values())]:
        conn.execute(delete(model))


def read_weeks(
    conn: Connection,
    first: dt.date,
    last: dt.date,
    *,
    things_of: str | None = None,
    allocation: bool = True,
) -> dict[str, pd.DataFrame]:
    """The weekly rows of the Mondays `first`..`last`, as `WEEKLY` frames (weeks as dates);
    `things` only of the team `things_of` (None: none, the summary does not read them);
    without `allocation`, no allocation rows (`read_allocation_sums` has their sums)."""
    out = {}
    for name, model in WEEKLY.items():
        columns = [c for c in model.__table__.columns if c.key != "id"]
        wanted = model.week.between(first, last)
        if name == "things":
            wanted = wanted & (model.team == things_of)
        if name == "allocation" and not allocation:
            wanted = wanted & false()
        frame = _frame(conn, select(*columns).where(wanted).order_by(model.id))
        frame["week"] = pd.to_datetime(frame["week"]).dt.date if len(frame) else frame["week"]
        out[name] = frame
    return out


def read_allocation_sums(
    conn: Connection, first: dt.date, last: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The person-days of the Mondays `first`..`last` summed by (team, week, category,
    unplanned, support) and by (team, person, category, unplanned, support), in that order
    of their keys (weeks as dates)."""
    a = models.RollupAllocation
    inside = a.week.between(first, last)
    out = []
    for keys in (
        (a.team, a.week, a.category, a.unplanned, a.support),
        (a.team, a.person, a.category, a.unplanned, a.support),
    ):
        query = (
            select(*keys, func.sum(a.weight).label("weight"))
            .where(inside)
            .group_by(*keys)
            .order_by(*keys)
        )
        frame = _frame(conn, query)
        if "week" in frame:
            frame["week"] = pd.to_datetime(frame["week"]).dt.date if len(frame) else frame["week"]
        out.append(frame)
    return out[0], out[1]


def read_samples(
    conn: Connection,
    spans: Sequence[tuple[dt.datetime, dt.datetime]],
    kinds: Iterable[str] = tuple(SAMPLES),
) -> dict[str, pd.DataFrame]:
    """The samples of `kinds` (of `SAMPLES`) placed in any of the UTC `spans` (bounds
    included): items and pulls by `at`, requests by creation or completion."""
    out = {}
    for name in kinds:
        model, _, at = SAMPLES[name]
        moments = [getattr(model, at)] + ([model.done_at] if name == "requests" else [])
        inside = or_(*(m.between(lo, hi) for m in moments for lo, hi in spans))
        columns = [c for c in model.__table__.columns if c.key != "id"]
        stamps = tuple(c.key for c in columns if c.key in _TIMESTAMPS)
        out[name] = _frame(conn, select(*columns).where(inside), stamps)
    return out


def stored_after(conn: Connection, moment: dt.datetime) -> bool:
    """Whether a sync stored any item or pull request after `moment`."""
    return any(
        conn.execute(select(m.id).where(m.stored_at > moment).limit(1)).first() is not None
        for m in (models.WorkItem, models.PullRequest)
    )


def first_created(conn: Connection, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
    """The earliest creation among the items and pull requests alive between `start` and
    `end` (what the metrics read for that span starts with)."""
    w, pr = models.WorkItem, models.PullRequest
    items = select(func.min(w.created_at)).where(
        (w.created_at <= end) & (w.done_at.is_(None) | (w.done_at >= start))
    )
    pulls = select(func.min(pr.created_at)).where(
        (pr.created_at <= end) & (pr.closed_at.is_(None) | (pr.closed_at >= start))
    )
    found = [conn.execute(q).scalar() for q in (items, pulls)]
    known = [_aware(f) for f in found if f is not None]
    return min(known) if known else None


def changed_since(conn: Connection, moment: dt.datetime) -> dt.datetime | None:
    """The earliest creation among the items and pull requests stored (inserted or updated
    by a sync) at or after `moment`; None when none was."""
    # (`_Unindexed`: through the stored_at index, not a walk of created_at's)
    found = [
        conn.execute(
            select(func.min(_Unindexed(m.created_at))).where(m.stored_at >= moment)
        ).scalar()
        for m in (models.WorkItem, models.PullRequest)
    ]
    known = [_aware(f) for f in found if f is not None]
    return min(known) if known else None


def changed_things(conn: Connection, moment: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The items (item_id, key, source, status, created_at, done_at) and the pull requests
    (pr_id, created_at, closed_at) a sync stored (inserted or updated) at or after `moment`."""
    w, pr = models.WorkItem, models.PullRequest
    items = _frame(
        conn,
        select(w.id.label("item_id"), w.key, w.source, w.status, w.created_at, w.done_at).where(
            w.stored_at >= moment
        ),
        ("created_at", "done_at"),
    )
    pulls = _frame(
        conn,
        select(pr.id.label("pr_id"), pr.created_at, pr.closed_at).where(pr.stored_at >= moment),
        ("created_at", "closed_at"),
    )
    return items, pulls


def first_and_last_transitions(conn: Connection, item_ids: Iterable[int]) -> pd.DataFrame:
    """Per item of `item_ids` that changed status: when it first did (first_at) and from which
    status (from_status, the one it was created in), and its last change (last_at)."""
    t = models.ItemTransition
    frames = []
    for chunk in _chunks(sorted(set(item_ids))):
        bounds = (
            select(t.item_id, func.min(t.at).label("first_at"), func.max(t.at).label("last_at"))
            .where(t.item_id.in_(chunk))
            .group_by(t.item_id)
            .subquery()
        )
        query = (
            select(bounds.c.item_id, bounds.c.first_at, bounds.c.last_at, t.from_status)
            .join(t, (t.item_id == bounds.c.item_id) & (t.at == bounds.c.first_at))
            .order_by(bounds.c.item_id, t.id)
        )
        frames.append(_frame(conn, query, ("first_at", "last_at")))
    if not frames:
        columns = {"item_id": "int64", "first_at": "datetime64[ns, UTC]"}
        columns |= {"last_at": "datetime64[ns, UTC]", "from_status": object}
        return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in columns.items()})
    return pd.concat(frames).drop_duplicates("item_id").reset_index(drop=True)


def statuses(conn: Connection) -> pd.DataFrame:
    """The sources' statuses (source, name, category): which stage each status is."""
    s = models.Status
    return _frame(conn, select(s.source, s.name, s.category))


def pulls_linking(conn: Connection, keys: Iterable[str], since: dt.datetime) -> pd.DataFrame:
    """The pull requests (pr_id, created_at, closed_at) that name any of `keys` as linked
    items, among those updated since `since` (a pull request can name a key only once the
    item exists: `since` is the earliest creation among them). The keys are a JSON list
    per row, so this reads that column of each such pull request."""
    wanted = set(keys)
    pr = models.PullRequest
    query = select(pr.id.label("pr_id"), pr.created_at, pr.closed_at, pr.linked_keys)
    recent = (pr.updated_at >= since) | pr.updated_at.is_(None)
    query = query.where(recent if wanted else false())
    frame = _frame(conn, query, ("created_at", "closed_at"), ("linked_keys",))
    links = frame["linked_keys"].map(lambda named: bool(named) and not wanted.isdisjoint(named))
    return frame[links.astype(bool)].drop(columns="linked_keys").reset_index(drop=True)


def counted_weeks(conn: Connection, item_ids: Sequence[int], pr_ids: Sequence[int]) -> set[dt.date]:
    """The Mondays of the weeks in which any of these items or pull requests was counted
    (some member gave it person-days), as the rollups hold them now."""
    t = models.RollupThing
    weeks: set[dt.date] = set()
    for kind, ids in (("item", sorted(set(item_ids))), ("pr", sorted(set(pr_ids)))):
        for chunk in _chunks(ids):
            query = select(t.week).where((t.thing == kind) & t.thing_id.in_(chunk)).distinct()
            weeks |= {_date(week) for week in conn.execute(query).scalars()}
    return weeks


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _insert(conn: Connection, model: Any, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    columns = [c.key for c in model.__table__.columns if c.key != "id"]
    if conn.dialect.name == "postgresql":
        return _copy(conn, model.__tablename__, columns, _records(frame[columns]))
    rows = [dict(zip(columns, values, strict=True)) for values in _records(frame[columns])]
    for start in range(0, len(rows), ROWS_PER_STATEMENT * 10):
        conn.execute(insert(model), rows[start : start + ROWS_PER_STATEMENT * 10])
    return len(rows)


def _copy(conn: Connection, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """PostgreSQL's COPY, in the connection's transaction: a full refresh writes millions of
    rows, which bound INSERTs send five times slower."""
    driver = conn.connection.driver_connection
    assert driver is not None
    written = 0
    names = ", ".join(f'"{c}"' for c in columns)
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _records(frame: pd.DataFrame) -> Iterable[tuple[Any, ...]]:
    """Rows as plain Python values: NaN/NaT as None, timestamps as aware datetimes."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            values = [None if pd.isna(v) else v.to_pydatetime() for v in series]
        elif series.dtype.kind == "f":
            values = [None if math.isnan(v) else float(v) for v in series.to_numpy()]
        elif series.dtype.kind == "b":
            values = [bool(v) for v in series.to_numpy()]
        elif series.dtype.kind in "iu":
            values = [int(v) for v in series.to_numpy()]
        else:
            values = [_plain(v) for v in series.to_numpy(dtype=object)]
        columns.append(values)
    return zip(*columns, strict=True)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _chunks(values: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def org_inputs(conn: Connection) -> tuple[list[str], list[str]]:
    """What the org file and the sources' vocabulary put into every figure, as sorted text
    lines: the memberships ("person|team|from|to"), and the identities and statuses
    (who an account is; which stage a status is)."""
    m, tm, p, i, s = models.Membership, models.Team, models.Person, models.Identity, models.Status
    members = conn.execute(
        select(p.name, tm.name, m.valid_from, m.valid_to)
        .join(p, p.id == m.person_id)
        .join(tm, tm.id == m.team_id)
    ).all()
    identities = conn.execute(
        select(i.source, i.value, p.name).join(p, p.id == i.person_id, isouter=True)
    ).all()
    statuses = conn.execute(select(s.source, s.name, s.category)).all()
    lines = sorted("|".join(str(v) for v in row) for row in members)
    vocabulary = sorted(
        [f"identity|{'|'.join(str(v) for v in row)}" for row in identities]
        + [f"status|{'|'.join(str(v) for v in row)}" for row in statuses]
    )
    return lines, vocabulary
