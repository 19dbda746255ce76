"""The cluster metrics' input frames from SQL (to be merged into `db/queries.py`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, func, select

from db import models

# Samples and node counts read from before the window's start: the sample in force when
# the window opens, and the node count the first change of the window is measured from.
LOOKBACK = dt.timedelta(days=1)

_TS = {"format": "ISO8601", "utc": True}


def cluster_frames(
    conn: Connection, start: dt.datetime, end: dt.datetime
) -> dict[str, pd.DataFrame]:
    """`cluster_samples`, `cluster_nodes`, `cluster_events` for [start, end] (see metrics/cluster.py).

    Samples and nodes from `LOOKBACK` before `start`; events from `start` on.
    """
    s, n, e = models.ClusterSample, models.ClusterNode, models.ClusterEvent
    since = start - LOOKBACK
    samples = pd.read_sql(
        select(
            s.at,
            s.namespace,
            s.team,
            s.cpu_requested,
            s.memory_requested,
            s.gpu_requested,
            s.pods_running,
            s.pods_pending,
            s.gpu_pods_pending,
            s.oldest_pending_since,
            s.pending_reason,
            s.origin,
        )
        .where(s.at >= since, s.at <= end)
        .order_by(s.namespace, s.at),
        conn,
        parse_dates={"at": _TS, "oldest_pending_since": _TS},
    )
    nodes = pd.read_sql(
        select(n.at, n.node_group, n.instance_type, n.count, n.gpu)
        .where(n.at >= since, n.at <= end)
        .order_by(n.at, n.node_group, n.instance_type),
        conn,
        parse_dates={"at": _TS},
    )
    events = pd.read_sql(
        select(e.uid, e.at, e.namespace, e.team, e.kind, e.name, e.reason, e.message, e.type)
        .where(e.at >= start, e.at <= end)
        .order_by(e.at, e.id),
        conn,
        parse_dates={"at": _TS},
    )
    return {"cluster_samples": samples, "cluster_nodes": nodes, "cluster_events": events}


def cluster_history(conn: Connection) -> dict[str, dt.datetime | None]:
    """Where the stored cluster history comes from, for a page to say what it lacks.

    `first_sample`: the earliest sample of any kind; `first_observed`: the earliest a
    snapshot or Prometheus took (samples stored before their origin was recorded count as
    observed); `first_rebuilt` and `last_rebuilt`: the span rebuilt from the pods the API
    still listed (`pod_history`), None when there is none; `first_snapshot`: the earliest
    live snapshot. Times are UTC.
    """
    s = models.ClusterSample
    rebuilt = s.origin.in_(sorted(models.REBUILT_ORIGINS))
    row = conn.execute(
        select(
            func.min(s.at),
            func.min(s.at).filter(s.origin.is_(None) | ~rebuilt),
            func.min(s.at).filter(rebuilt),
            func.max(s.at).filter(rebuilt),
            func.min(s.at).filter(s.origin == models.SNAPSHOT),
        )
    ).one()
    keys = ("first_sample", "first_observed", "first_rebuilt", "last_rebuilt", "first_snapshot")
    return {key: _utc(value) for key, value in zip(keys, row, strict=True)}


def _utc(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # an aggregate skips the column type on SQLite
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
