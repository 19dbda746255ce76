"""Cluster metrics per team and ISO week: requested CPU and GPU hours, GPU pending hours, infra toil.

Samples are a step function: each sample of a namespace holds until that namespace's
next sample, but at most `HOLD_FACTOR` (2) times the namespace's usual sampling
interval (the median of its previous `HOLD_WINDOW` intervals; for its first sample,
the median over every namespace), and never past `now`. Hourly Prometheus history and
five-minute live samples both count in full, while a collector outage counts as no
data rather than as the last value stretched over it. `max_gap` replaces the rule with
one fixed cap. Hours are then summed per team and week (weeks in the org timezone,
cut at local midnights, so a DST week is 167 or 169 hours long).

History rebuilt from pods (`pod_history`) cannot know who was pending: its samples
carry null pending counts, and a team-week (or namespace) that holds any such sample
has its pending figures NaN, not known, rather than a partial sum or a zero.

The input frames are `SAMPLES`, `NODES` and `EVENTS` below (the rows of
`cluster_samples`, `cluster_nodes` and `cluster_events`, as `db.cluster_queries` loads
them); extra columns are ignored and `prepare_cluster` normalises them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from metrics.facts import utc_now
from metrics.frames import utc
from metrics.intervals import NS_PER_HOUR, ns, split_by_day
from metrics.weeks import Window

SAMPLES: tuple[str, ...] = (
    "at",
    "namespace",
    "team",
    "cpu_requested",
    "memory_requested",
    "gpu_requested",
    "pods_running",
    "pods_pending",
    "gpu_pods_pending",
)
"""Cluster samples (`cluster_samples`), one row per namespace and sample time.

- at: timestamp UTC; namespace: str; team: str or None (the namespace matched no pattern).
- cpu_requested (cores), memory_requested (bytes), gpu_requested (GPUs): what the
  namespace's running pods request; pods_running, pods_pending, gpu_pods_pending
  (pending pods that request a GPU): counts. Missing numbers read as 0, except a null
  pods_pending or gpu_pods_pending: not known (a sample rebuilt from pods). A frame
  without those columns at all reads them as 0.
- A loader should include the samples of a day or so before the window, so the sample
  in force at its start is known.
"""

NODES: tuple[str, ...] = ("at", "node_group", "instance_type", "count", "gpu")
"""Nodes (`cluster_nodes`): at (timestamp UTC), node_group, instance_type (str), count
(nodes of that group and type at that moment), gpu (GPUs per node). A group without a
row at a moment when other groups have rows has no nodes then."""

EVENTS: tuple[str, ...] = ("at", "namespace", "team", "kind", "name", "reason", "type")
"""Cluster events (`cluster_events`), one row per event: at (first occurrence, UTC),
namespace, team (None: unmatched), kind and name of the object, reason
(FailedScheduling, TriggeredScaleUp, RegisteredNode, OOMKilled, Evicted, ...), type."""

NO_TEAM = "(no team)"  # samples and events of namespaces that matched no pattern
HOLD_FACTOR = 2.0
HOLD_WINDOW = 24  # previous intervals whose median is a namespace's usual interval

USAGE: tuple[str, ...] = (
    "team",
    "week",
    "cpu_hours",
    "memory_gib_hours",
    "gpu_hours",
    "pending_pod_hours",
    "gpu_pending_pod_hours",
)
NAMESPACE_USAGE: tuple[str, ...] = (
    "namespace",
    "team",
    "cpu_hours",
    "memory_gib_hours",
    "gpu_hours",
    "pending_pod_hours",
    "gpu_pending_pod_hours",
    "first_seen",
    "last_seen",
)
NODE_CHANGES: tuple[str, ...] = (
    "node_group",
    "week",
    "changes",
    "nodes_added",
    "nodes_removed",
    "max_nodes",
)
WEEKLY_EVENTS: tuple[str, ...] = ("team", "week", "reason", "events")

# sample column -> output column (integrated: value x hours)
_INTEGRALS = {
    "cpu_requested": "cpu_hours",
    "memory_requested": "memory_gib_hours",
    "gpu_requested": "gpu_hours",
    "pods_pending": "pending_pod_hours",
    "gpu_pods_pending": "gpu_pending_pod_hours",
}
_PENDING = ("pods_pending", "gpu_pods_pending")  # null: not known, never read as 0
_PENDING_OUT = tuple(_INTEGRALS[c] for c in _PENDING)
_GIB = float(1 << 30)
_NUMBERS = {
    "samples": SAMPLES[SAMPLES.index("cpu_requested") :],
    "nodes": ("count", "gpu"),
    "events": (),
}
_COLUMNS = {"samples": SAMPLES, "nodes": NODES, "events": EVENTS}


def prepare_cluster(kind: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    """One cluster input frame (`samples`, `nodes` or `events`) with its columns and dtypes."""
    columns = _COLUMNS[kind]
    if frame is None:
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    missing = [c for c in columns if c not in frame.columns]
    filled = {c: 0.0 if c in _PENDING else None for c in missing}
    frame = frame.assign(**filled) if missing else frame.copy()
    frame["at"] = utc(frame["at"])
    for column in _NUMBERS[kind]:
        values = pd.to_numeric(frame[column], errors="coerce")
        frame[column] = (values if column in _PENDING else values.fillna(0.0)).astype(float)
    for column in ("team", "namespace", "reason", "node_group", "instance_type"):
        if column in frame.columns:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame[frame["at"].notna()].reset_index(drop=True)


def _team_labels(teams: pd.Series) -> np.ndarray:
    return teams.astype(object).where(teams.notna(), NO_TEAM).to_numpy(dtype=object)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def _holds(samples: pd.DataFrame, now_ns: int, max_gap: pd.Timedelta | None) -> np.ndarray:
    """When each sample stops holding (ns); samples must be sorted by (namespace, at)."""
    at = ns(samples["at"])
    code = pd.factorize(samples["namespace"])[0]
    same_next = np.r_[code[1:] == code[:-1], False]
    same_prev = np.r_[False, code[1:] == code[:-1]]
    next_at = np.where(same_next, np.r_[at[1:], 0], np.iinfo(np.int64).max)
    if max_gap is not None:
        cap = np.full(len(at), int(pd.Timedelta(max_gap).value), dtype=np.int64)
    else:
        before = np.where(same_prev, at - np.r_[0, at[:-1]], np.nan).astype(float)
        everywhere = np.nanmedian(before) if np.any(~np.isnan(before)) else np.nan
        usual = (
            pd.Series(before)
            .groupby(code)
            .rolling(HOLD_WINDOW, min_periods=1)
            .median()
            .reset_index(level=0, drop=True)
            .sort_index()
            .to_numpy()
        )
        usual = np.where(np.isnan(usual), everywhere, usual)
        # a lone sample everywhere: no cadence to judge by, so it stands for no time at all
        cap = np.where(np.isnan(usual), 0, HOLD_FACTOR * usual).astype(np.int64)
    return np.minimum(np.minimum(next_at, at + cap), now_ns)


def _pieces(
    samples: pd.DataFrame | None, window: Window, now_ns: int, max_gap: pd.Timedelta | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Sorted samples and their held time cut at the window's local days: (row, day, hours)."""
    frame = prepare_cluster("samples", samples)
    frame = frame.sort_values(["namespace", "at"], kind="stable")
    frame = frame.drop_duplicates(["namespace", "at"], keep="last").reset_index(drop=True)
    if frame.empty:
        none = np.array([], np.int64)
        return frame, none, none, none.astype(float)
    pieces = split_by_day(ns(frame["at"]), _holds(frame, now_ns, max_gap), window.bounds_ns)
    return frame, pieces.row, pieces.day, pieces.overlap_ns / NS_PER_HOUR


def _integrals(frame: pd.DataFrame, row: np.ndarray, hours: np.ndarray) -> dict[str, np.ndarray]:
    out = {
        target: frame[source].to_numpy(float)[row] * hours for source, target in _INTEGRALS.items()
    }
    out["memory_gib_hours"] = out["memory_gib_hours"] / _GIB
    return out


def _summed(frame: pd.DataFrame, row: np.ndarray, hours: np.ndarray, keys: Any) -> pd.DataFrame:
    """The integrals summed per key; pending figures NaN where a key held an unknown one."""
    summed = pd.DataFrame(_integrals(frame, row, hours), index=keys)
    levels = list(range(summed.index.nlevels))
    out = summed.groupby(level=levels).sum()
    unknown = np.isnan(frame["pods_pending"].to_numpy(float)[row]) & (hours > 0)
    if unknown.any():
        flagged = pd.Series(unknown, index=keys).groupby(level=levels).any()
        out.loc[flagged[flagged].index, list(_PENDING_OUT)] = np.nan
    return out


def team_usage(
    samples: pd.DataFrame,
    window: Window,
    now: dt.datetime | pd.Timestamp,
    teams: list[str] | None = None,
    *,
    max_gap: pd.Timedelta | dt.timedelta | None = None,
) -> pd.DataFrame:
    """Requested resources and waiting pods per team and week, integrated over time.

    Output columns: team (`NO_TEAM` for unmatched namespaces), week (Monday, date),
    cpu_hours (core-hours requested by running pods), memory_gib_hours (GiB-hours),
    gpu_hours (GPU-hours), pending_pod_hours (pod-hours spent Pending),
    gpu_pending_pod_hours (pod-hours GPU pods spent Pending: how long researchers waited
    for capacity; both NaN for a team-week with history rebuilt from pods, where pending
    is not known). Every team of `teams` (and every team seen) x every week is present;
    weeks without samples are zeros.
    """
    gap = pd.Timedelta(max_gap) if max_gap is not None else None
    frame, row, day, hours = _pieces(samples, window, int(utc_now(now).value), gap)
    labels = _team_labels(frame["team"])
    at = ns(frame["at"])
    inside = (at >= window.start_ns) & (at < window.end_ns)
    seen = set(labels[row].tolist()) | set(labels[inside].tolist())
    names = list(dict.fromkeys([*(teams or []), *sorted(seen)]))
    full = pd.MultiIndex.from_product([names, window.weeks], names=["team", "week"])
    week = np.asarray(window.week_of_day(day), dtype=np.int64)
    keys = pd.MultiIndex.from_arrays(
        [labels[row], np.array(window.weeks, dtype=object)[week]], names=["team", "week"]
    )
    out = _summed(frame, row, hours, keys).reindex(full, fill_value=0.0)
    return out.reset_index()[list(USAGE)]


def namespace_usage(
    samples: pd.DataFrame,
    window: Window,
    now: dt.datetime | pd.Timestamp,
    *,
    max_gap: pd.Timedelta | dt.timedelta | None = None,
) -> pd.DataFrame:
    """Totals per namespace over the window, with its team (None: unmatched, to be listed).

    Output columns: namespace, team, cpu_hours, memory_gib_hours, gpu_hours,
    pending_pod_hours, gpu_pending_pod_hours (NaN when some of its history was rebuilt
    from pods: not known), first_seen and last_seen (its first and last sample in the
    window). One row per namespace with a sample in the window; the
    team is the one of its latest sample there.
    """
    gap = pd.Timedelta(max_gap) if max_gap is not None else None
    frame, row, _day, hours = _pieces(samples, window, int(utc_now(now).value), gap)
    at = ns(frame["at"])
    seen = frame[(at >= window.start_ns) & (at < window.end_ns)]
    if seen.empty:
        return _empty(NAMESPACE_USAGE)
    # rows are sorted by (namespace, at): the last one per namespace carries its current team
    last = seen.groupby("namespace", sort=True).agg(
        first_seen=("at", "min"), last_seen=("at", "max")
    )
    last["team"] = seen.drop_duplicates("namespace", keep="last").set_index("namespace")["team"]
    names = pd.Index(frame["namespace"].to_numpy(dtype=object)[row])
    totals = _summed(frame, row, hours, names).reindex(last.index, fill_value=0.0)
    out = last.join(totals).reset_index()
    out["team"] = out["team"].astype(object).where(out["team"].notna(), None)
    return out[list(NAMESPACE_USAGE)]


def node_group_changes(nodes: pd.DataFrame, window: Window) -> pd.DataFrame:
    """How often each node group changed size, per week: the infra team's scaling toil.

    Node counts are summed per group over instance types at every sampled moment; a
    group absent at a moment when others are present counts 0 nodes. A change is a
    moment whose count differs from the previous moment's, counted in the week (org
    timezone) of the later moment; the first moment (nothing to compare) is none.
    Output columns: node_group, week (Monday), changes, nodes_added, nodes_removed
    (sums of the rises and falls), max_nodes (largest count seen that week; NaN when
    the week has no sample). Every group seen x every week is present.
    """
    frame = prepare_cluster("nodes", nodes)
    if frame.empty:
        return _empty(NODE_CHANGES)
    counts = frame.pivot_table(
        index="at", columns="node_group", values="count", aggfunc="sum", fill_value=0.0
    ).sort_index()
    groups = list(counts.columns)
    values = counts.to_numpy(float)
    rises = np.diff(values, axis=0, prepend=values[:1])
    day = window.day_index(pd.Series(counts.index))
    week = np.asarray(window.week_of_day(day))
    inside = (week >= 0) & (week < window.n_weeks)
    rows = []
    for g, group in enumerate(groups):
        for w, monday in enumerate(window.weeks):
            pick = inside & (week == w)
            delta = rises[pick, g]
            rows.append(
                {
                    "node_group": group,
                    "week": monday,
                    "changes": int(np.count_nonzero(delta)),
                    "nodes_added": float(delta[delta > 0].sum()),
                    "nodes_removed": float(-delta[delta < 0].sum()),
                    "max_nodes": float(values[pick, g].max()) if pick.any() else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(NODE_CHANGES))


def weekly_events(
    events: pd.DataFrame, window: Window, teams: list[str] | None = None
) -> pd.DataFrame:
    """Events per team, week and reason (OOM kills, evictions, scale-ups, nodes joining...).

    Output columns: team (`NO_TEAM` for events of unmatched namespaces and of nodes),
    week (Monday), reason, events (count). Every (team, reason) seen in the window
    appears in every week, zeros included; `teams` adds nothing without events.
    """
    frame = prepare_cluster("events", events)
    day = window.day_index(frame["at"]) if len(frame) else np.array([], np.int64)
    week = np.asarray(window.week_of_day(day)) if len(frame) else day
    inside = (week >= 0) & (week < window.n_weeks)
    frame = frame[inside]
    if frame.empty:
        return _empty(WEEKLY_EVENTS)
    week = week[inside]
    table = pd.DataFrame(
        {
            "team": _team_labels(frame["team"]),
            "week": [window.weeks[w] for w in week],
            "reason": frame["reason"].astype(object).where(frame["reason"].notna(), "(none)"),
        }
    )
    counts = table.groupby(["team", "reason", "week"]).size()
    pairs = counts.index.droplevel("week").unique()
    order = {team: k for k, team in enumerate(teams or [])}
    pairs = sorted(pairs, key=lambda p: (order.get(p[0], len(order)), p[0], p[1]))
    full = pd.MultiIndex.from_tuples(
        [(team, reason, monday) for team, reason in pairs for monday in window.weeks],
        names=["team", "reason", "week"],
    )
    out = counts.reindex(full, fill_value=0).rename("events").reset_index()
    out["events"] = out["events"].astype(int)
    return out[list(WEEKLY_EVENTS)]


def cluster_weekly(
    frames: dict[str, Any],
    window: Window,
    now: dt.datetime | pd.Timestamp,
    teams: list[str] | None = None,
    *,
    max_gap: pd.Timedelta | dt.timedelta | None = None,
) -> dict[str, pd.DataFrame]:
    """Every cluster metric from `db.cluster_queries.cluster_frames`-style input.

    `frames` holds `cluster_samples`, `cluster_nodes` and `cluster_events` (missing:
    empty). Returns `usage` (team_usage), `namespaces` (namespace_usage),
    `node_changes` (node_group_changes) and `events` (weekly_events).
    """
    samples = frames.get("cluster_samples")
    return {
        "usage": team_usage(samples, window, now, teams, max_gap=max_gap),
        "namespaces": namespace_usage(samples, window, now, max_gap=max_gap),
        "node_changes": node_group_changes(frames.get("cluster_nodes"), window),
        "events": weekly_events(frames.get("cluster_events"), window, teams),
    }


def usage_totals(usage: pd.DataFrame) -> dict[str, float]:
    """The window's totals of `team_usage` output over every team and week given.

    Output keys: cpu_hours, memory_gib_hours, gpu_hours, pending_pod_hours,
    gpu_pending_pod_hours (0.0 for an empty input). A pending total is NaN when pending
    time is not known for some team-week given: the window's total is not known then.
    """
    columns = [c for c in USAGE if c not in ("team", "week")]
    if usage.empty:
        return dict.fromkeys(columns, 0.0)
    out = {}
    for column in columns:
        values = pd.to_numeric(usage[column], errors="coerce")
        unknown = column in _PENDING_OUT and bool(values.isna().any())
        out[column] = np.nan if unknown else float(values.fillna(0.0).sum())
    return out


def weekly_pending(usage: pd.DataFrame, column: str = "gpu_pending_pod_hours") -> pd.Series:
    """A pending column of `team_usage` output summed per week over the teams given.

    A week is NaN (not known) when any of its rows is: one team's unknown wait is not
    zero, so neither is the sum. Indexed by week (Monday), in order.
    """
    values = pd.to_numeric(usage[column], errors="coerce")
    unknown = values.isna().groupby(usage["week"]).any()
    summed = values.fillna(0.0).groupby(usage["week"]).sum()
    return summed.where(~unknown)
