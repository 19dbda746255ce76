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
from sqlalchemy import Connection, delete, false, func, insert, inspect, or_, select

from db import models
from db.queries import _aware, _frame, _Unindexed
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


def replace_weeks(conn: Connection, from_week: dt.date, parts: dict[str, pd.DataFrame]) -> int:
    """Delete every weekly row from `from_week` on and insert `parts` (frames named as
    `WEEKLY`, weeks as dates); returns the rows written."""
    written = 0
    for name, model in WEEKLY.items():
        conn.execute(delete(model).where(model.week >= from_week))
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
        column = getattr(model, key)
        for chunk in _chunks(ids[name]):
            conn.execute(delete(model).where(column.in_(chunk)))
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
    conn: Connection, spans: Sequence[tuple[dt.datetime, dt.datetime]]
) -> dict[str, pd.DataFrame]:
    """The samples placed in any of the UTC `spans` (bounds included): items and pulls by `at`,
    requests by creation or completion."""
    out = {}
    for name, (model, _, at) in SAMPLES.items():
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


def _insert(conn: Connection, model: Any, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    columns = [c.key for c in model.__table__.columns if c.key != "id"]
    rows = [dict(zip(columns, values, strict=True)) for values in _records(frame[columns])]
    for start in range(0, len(rows), ROWS_PER_STATEMENT * 10):
        conn.execute(insert(model), rows[start : start + ROWS_PER_STATEMENT * 10])
    return len(rows)


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
