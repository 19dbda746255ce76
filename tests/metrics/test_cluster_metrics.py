"""Cluster metrics on hand-made samples, nodes and events, with the arithmetic in comments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.cluster import (
    NAMESPACE_USAGE,
    NO_TEAM,
    NODE_CHANGES,
    USAGE,
    WEEKLY_EVENTS,
    cluster_weekly,
    namespace_usage,
    node_group_changes,
    team_usage,
    usage_totals,
    weekly_events,
    weekly_pending,
)
from metrics.weeks import widen

W1, W2, W3 = dt.date(2025, 6, 2), dt.date(2025, 6, 9), dt.date(2025, 6, 16)  # Mondays
LATER = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)  # `now` well after every sample


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def samples(*rows: tuple) -> pd.DataFrame:
    """(at, namespace, team, cpu, gpu, gpu_pods_pending[, memory, pods_pending]) rows."""
    out = []
    for row in rows:
        moment, ns, team, cpu, gpu, gpu_pending, *rest = row
        memory, pending = rest if rest else (0.0, gpu_pending)
        out.append(
            {
                "at": at(moment),
                "namespace": ns,
                "team": team,
                "cpu_requested": cpu,
                "memory_requested": memory,
                "gpu_requested": gpu,
                "pods_running": 1,
                "pods_pending": pending,
                "gpu_pods_pending": gpu_pending,
            }
        )
    return pd.DataFrame(out)


def value(usage: pd.DataFrame, team: str, week: dt.date, column: str) -> float:
    picked = usage[(usage["team"] == team) & (usage["week"] == week)]
    assert len(picked) == 1, picked
    return float(picked[column].iloc[0])


def test_hourly_samples_hold_until_the_next_and_the_last_for_twice_the_interval() -> None:
    frame = samples(
        ("2025-06-02T00:00", "ds-a", "Research", 2.0, 1.0, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 2.0, 1.0, 0),
        ("2025-06-02T02:00", "ds-a", "Research", 2.0, 1.0, 0),
        ("2025-06-02T03:00", "ds-a", "Research", 2.0, 1.0, 0),
    )
    usage = team_usage(frame, widen(W1, W1), LATER)
    # 00:00, 01:00, 02:00 hold 1 h each; 03:00 is the last: usual interval 1 h, cap 2 h.
    # 5 h x 2 cores = 10 core-hours; 5 h x 1 GPU = 5 GPU-hours
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(10.0)
    assert value(usage, "Research", W1, "gpu_hours") == pytest.approx(5.0)


def test_a_gap_longer_than_the_cap_counts_only_twice_the_usual_interval() -> None:
    frame = samples(
        ("2025-06-02T00:00", "ds-a", "Research", 4.0, 0.0, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 4.0, 0.0, 0),
        ("2025-06-02T02:00", "ds-a", "Research", 4.0, 0.0, 0),
        ("2025-06-02T10:00", "ds-a", "Research", 4.0, 0.0, 0),  # after an 8-hour outage
        ("2025-06-02T11:00", "ds-a", "Research", 4.0, 0.0, 0),
    )
    usage = team_usage(frame, widen(W1, W1), at("2025-06-02T11:30"))
    # 00:00 -> 1 h, 01:00 -> 1 h, 02:00 -> capped at 2 x median(1 h, 1 h) = 2 h (not 8),
    # 10:00 -> 1 h (usual median(1, 1, 8) = 1 h), 11:00 -> until now 11:30 = 0.5 h
    # 5.5 h x 4 cores = 22 core-hours
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(22.0)


def test_an_outage_after_five_minute_samples_counts_ten_minutes() -> None:
    rows = [(f"2025-06-02T00:{m:02d}", "ds-a", "Research", 6.0, 0.0, 0) for m in range(0, 25, 5)]
    frame = samples(*rows, ("2025-06-02T01:20", "ds-a", "Research", 6.0, 0.0, 0))
    usage = team_usage(frame, widen(W1, W1), at("2025-06-02T01:20"))
    # 00:00 (first: median of all intervals 5,5,5,5,60 = 5 min) .. 00:15 hold 5 min each =
    # 20 min; 00:20 holds 2 x 5 = 10 min of the 60-minute outage; 01:20 is `now`: 0.
    # 30 min x 6 cores = 3 core-hours
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(3.0)


def test_a_fixed_max_gap_replaces_the_cadence_rule() -> None:
    frame = samples(
        ("2025-06-02T00:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-02T02:00", "ds-a", "Research", 1.0, 0.0, 0),
    )
    usage = team_usage(frame, widen(W1, W1), LATER, max_gap=dt.timedelta(minutes=30))
    # each sample holds 30 min: 1 h x 1 core
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(1.0)


def test_gpu_pending_hours_integrate_waiting_gpu_pods() -> None:
    frame = samples(
        ("2025-06-03T09:00", "ds-a", "Research", 0.0, 0.0, 2),
        ("2025-06-03T09:30", "ds-a", "Research", 0.0, 0.0, 3),
        ("2025-06-03T10:00", "ds-a", "Research", 8.0, 2.0, 0),
        ("2025-06-03T10:30", "ds-a", "Research", 8.0, 2.0, 0),
    )
    usage = team_usage(frame, widen(W1, W1), at("2025-06-03T11:00"))
    # 2 pods x 0.5 h + 3 pods x 0.5 h = 2.5 pod-hours waiting
    assert value(usage, "Research", W1, "gpu_pending_pod_hours") == pytest.approx(2.5)
    assert value(usage, "Research", W1, "pending_pod_hours") == pytest.approx(2.5)
    # GPUs: 2 x 0.5 h (10:00) + 2 x 0.5 h (10:30 until now 11:00) = 2 GPU-hours
    assert value(usage, "Research", W1, "gpu_hours") == pytest.approx(2.0)


def test_memory_is_reported_in_gib_hours() -> None:
    gib = float(1 << 30)
    frame = samples(
        ("2025-06-02T00:00", "ds-a", "Research", 0.0, 0.0, 0, 2 * gib, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 0.0, 0.0, 0, 2 * gib, 0),
    )
    usage = team_usage(frame, widen(W1, W1), at("2025-06-02T03:00"))
    # 1 h + the last for 2 x 1 h = 3 h x 2 GiB
    assert value(usage, "Research", W1, "memory_gib_hours") == pytest.approx(6.0)


def test_a_sample_crossing_a_week_boundary_is_split_and_empty_weeks_are_zero() -> None:
    frame = samples(
        ("2025-06-08T23:30", "ds-a", "Research", 0.0, 2.0, 0),  # Sunday
        ("2025-06-09T00:30", "ds-a", "Research", 0.0, 2.0, 0),
        ("2025-06-09T01:30", "ds-a", "Research", 0.0, 2.0, 0),
    )
    usage = team_usage(frame, widen(W1, W3), LATER)
    # Sun 23:30 -> Mon 00:30: 0.5 h in week 1, 0.5 h in week 2; 00:30 -> 1 h; last 2 h.
    assert value(usage, "Research", W1, "gpu_hours") == pytest.approx(2 * 0.5)
    assert value(usage, "Research", W2, "gpu_hours") == pytest.approx(2 * 3.5)
    assert value(usage, "Research", W3, "gpu_hours") == 0.0
    assert list(usage.columns) == list(USAGE)
    assert len(usage) == 3  # one team x three weeks


def test_weeks_are_cut_at_local_midnight_in_the_org_timezone() -> None:
    frame = samples(
        ("2025-06-08T22:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-08T23:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-09T00:00", "ds-a", "Research", 1.0, 0.0, 0),
    )
    now = at("2025-06-09T00:30")
    dublin = team_usage(frame, widen(W1, W2, "Europe/Dublin"), now)
    utc = team_usage(frame, widen(W1, W2, "UTC"), now)
    # Dublin is UTC+1 in June: its week starts Sun 23:00 UTC, so 22:00-23:00 (1 h) is in
    # week 1 and 23:00-00:30 (1.5 h) in week 2; in UTC 2 h and 0.5 h.
    assert value(dublin, "Research", W1, "cpu_hours") == pytest.approx(1.0)
    assert value(dublin, "Research", W2, "cpu_hours") == pytest.approx(1.5)
    assert value(utc, "Research", W1, "cpu_hours") == pytest.approx(2.0)
    assert value(utc, "Research", W2, "cpu_hours") == pytest.approx(0.5)


def test_unmatched_namespaces_are_kept_under_no_team_and_configured_teams_are_zero_filled() -> None:
    frame = samples(
        ("2025-06-02T00:00", "scratch", None, 3.0, 0.0, 0),
        ("2025-06-02T01:00", "scratch", None, 3.0, 0.0, 0),
        ("2025-06-02T00:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 1.0, 0.0, 0),
    )
    usage = team_usage(frame, widen(W1, W1), LATER, teams=["Research", "Infra"])
    # each namespace: 1 h + last 2 h = 3 h
    assert value(usage, NO_TEAM, W1, "cpu_hours") == pytest.approx(9.0)
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(3.0)
    assert value(usage, "Infra", W1, "cpu_hours") == 0.0
    assert list(usage["team"]) == ["Research", "Infra", NO_TEAM]


def test_the_team_comes_from_each_sample_row() -> None:
    frame = samples(
        ("2025-06-02T00:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-02T02:00", "ds-a", "Enablement", 1.0, 0.0, 0),  # patterns changed
    )
    usage = team_usage(frame, widen(W1, W1), LATER)
    # Research: 00:00 and 01:00, 1 h each; Enablement: the last sample, 2 h
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(2.0)
    assert value(usage, "Enablement", W1, "cpu_hours") == pytest.approx(2.0)


def test_nothing_is_counted_after_now_or_outside_the_window() -> None:
    frame = samples(
        ("2025-05-30T00:00", "ds-a", "Research", 1.0, 0.0, 0),  # before the window
        ("2025-05-30T01:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-02T00:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 1.0, 0.0, 0),
    )
    usage = team_usage(frame, widen(W1, W1), at("2025-06-02T00:15"))
    # only 00:00 -> now 00:15 counts: 0.25 h (the 01:00 sample lies in the future)
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(0.25)


def test_a_lone_sample_stands_for_no_time() -> None:
    frame = samples(("2025-06-02T00:00", "ds-a", "Research", 5.0, 1.0, 0))
    usage = team_usage(frame, widen(W1, W1), LATER)
    assert value(usage, "Research", W1, "cpu_hours") == 0.0


def test_empty_samples_give_zero_filled_teams_or_an_empty_frame() -> None:
    window = widen(W1, W2)
    zero = team_usage(pd.DataFrame(), window, LATER, teams=["Research"])
    assert list(zero["week"]) == [W1, W2]
    assert (zero[list(USAGE[2:])].to_numpy() == 0).all()
    nothing = team_usage(None, window, LATER)  # type: ignore[arg-type]
    assert nothing.empty and list(nothing.columns) == list(USAGE)
    assert namespace_usage(pd.DataFrame(), window, LATER).columns.tolist() == list(NAMESPACE_USAGE)
    assert namespace_usage(pd.DataFrame(), window, LATER).empty


def test_namespace_usage_lists_unmatched_namespaces_with_their_totals() -> None:
    frame = samples(
        ("2025-06-02T00:00", "scratch", None, 3.0, 1.0, 0),
        ("2025-06-02T01:00", "scratch", None, 3.0, 1.0, 0),
        ("2025-06-02T00:00", "ds-a", "Research", 1.0, 0.0, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 1.0, 0.0, 0),
    )
    table = namespace_usage(frame, widen(W1, W2), LATER).set_index("namespace")
    assert table.loc["scratch", "team"] is None
    assert table.loc["scratch", "gpu_hours"] == pytest.approx(3.0)  # 1 h + 2 h
    assert table.loc["ds-a", "cpu_hours"] == pytest.approx(3.0)
    assert table.loc["ds-a", "first_seen"] == pd.Timestamp("2025-06-02T00:00", tz="UTC")
    assert table.loc["ds-a", "last_seen"] == pd.Timestamp("2025-06-02T01:00", tz="UTC")


def test_rebuilt_samples_leave_their_team_weeks_pending_unknown_not_zero() -> None:
    rebuilt = [  # history rebuilt from pods: requests known, pending not (None)
        (f"2025-06-0{d}T{h:02d}:00", "ds-a", "Research", 2.0, 1.0, None)
        for d in (2, 3)
        for h in range(24)
    ]
    observed = [  # live samples from Wednesday W2 on
        (f"2025-06-{d}T{h:02d}:00", "ds-a", "Research", 2.0, 1.0, 1)
        for d in (11, 12)
        for h in range(24)
    ]
    mixed = [  # W3: rebuilt on Monday, observed on Tuesday
        ("2025-06-16T00:00", "ds-a", "Research", 2.0, 1.0, None),
        ("2025-06-16T01:00", "ds-a", "Research", 2.0, 1.0, 2),
        ("2025-06-16T02:00", "ds-a", "Research", 2.0, 1.0, 2),
    ]
    frame = samples(*rebuilt, *observed, *mixed)
    usage = team_usage(frame, widen(W1, W3), LATER, teams=["Research", "Infra"])
    # W1: 48 hourly rebuilt samples, the last holding 2 h: 49 h x 2 cores, pending not known
    assert value(usage, "Research", W1, "cpu_hours") == pytest.approx(98.0)
    assert np.isnan(value(usage, "Research", W1, "gpu_pending_pod_hours"))
    assert np.isnan(value(usage, "Research", W1, "pending_pod_hours"))
    # W2: observed only: 49 h x 1 pod waiting
    assert value(usage, "Research", W2, "gpu_pending_pod_hours") == pytest.approx(49.0)
    # W3: one unknown hour makes the week's pending unknown, never a partial sum
    assert np.isnan(value(usage, "Research", W3, "gpu_pending_pod_hours"))
    assert value(usage, "Research", W3, "cpu_hours") == pytest.approx(2.0 * 4)  # 3 h + last 1 h
    # a team without samples stays zero, as before
    assert value(usage, "Infra", W1, "gpu_pending_pod_hours") == 0.0
    weekly = weekly_pending(usage)  # over both teams: Infra's zero does not make W1 known
    assert np.isnan(weekly[W1]) and weekly[W2] == pytest.approx(49.0) and np.isnan(weekly[W3])
    totals = usage_totals(usage)
    assert np.isnan(totals["gpu_pending_pod_hours"])  # some week of the window is not known
    assert totals["cpu_hours"] == pytest.approx(98.0 + 98.0 + 8.0)
    known = usage_totals(usage[usage["week"] == W2])
    assert known["gpu_pending_pod_hours"] == pytest.approx(49.0) and known["gpu_hours"] == 49.0
    table = namespace_usage(frame, widen(W2, W2), LATER).set_index("namespace")
    assert table.loc["ds-a", "gpu_pending_pod_hours"] == pytest.approx(49.0)
    table = namespace_usage(frame, widen(W1, W3), LATER).set_index("namespace")
    assert np.isnan(table.loc["ds-a", "gpu_pending_pod_hours"])


def test_samples_without_pending_columns_read_them_as_zero() -> None:
    frame = samples(
        ("2025-06-02T00:00", "ds-a", "Research", 2.0, 1.0, 0),
        ("2025-06-02T01:00", "ds-a", "Research", 2.0, 1.0, 0),
    ).drop(columns=["pods_pending", "gpu_pods_pending"])
    usage = team_usage(frame, widen(W1, W1), LATER)
    assert value(usage, "Research", W1, "gpu_pending_pod_hours") == 0.0


def nodes(*rows: tuple[str, str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"at": at(m), "node_group": g, "instance_type": t, "count": c, "gpu": 0}
            for m, g, t, c in rows
        ]
    )


def test_node_group_changes_count_size_changes_per_week() -> None:
    frame = nodes(
        ("2025-06-02T00:00", "gpu", "g5.2xlarge", 1),
        ("2025-06-02T00:00", "cpu", "m5.2xlarge", 3),
        ("2025-06-02T01:00", "gpu", "g5.2xlarge", 2),
        ("2025-06-02T01:00", "cpu", "m5.2xlarge", 3),
        ("2025-06-02T02:00", "gpu", "g5.2xlarge", 2),
        ("2025-06-02T02:00", "cpu", "m5.2xlarge", 3),
        ("2025-06-02T03:00", "gpu", "g5.2xlarge", 1),
        ("2025-06-02T03:00", "cpu", "m5.2xlarge", 4),
        ("2025-06-09T00:00", "gpu", "g5.2xlarge", 2),  # two instance types in one group
        ("2025-06-09T00:00", "gpu", "g5.12xlarge", 1),  # (and no cpu row: 0 cpu nodes)
    )
    table = node_group_changes(frame, widen(W1, W3)).set_index(["node_group", "week"])
    # gpu week 1: 1 -> 2 (+1), 2 -> 2, 2 -> 1 (-1): 2 changes, max 2; the first moment is no change
    assert table.loc[("gpu", W1)].tolist() == [2, 1.0, 1.0, 2.0]
    # gpu week 2: 1 -> 3 (2 + 1 across instance types): 1 change, +2
    assert table.loc[("gpu", W2)].tolist() == [1, 2.0, 0.0, 3.0]
    # cpu week 1: 3, 3, 3 -> 4: one change; week 2: 4 -> 0 (absent): one change, -4
    assert table.loc[("cpu", W1)].tolist() == [1, 1.0, 0.0, 4.0]
    assert table.loc[("cpu", W2)].tolist() == [1, 0.0, 4.0, 0.0]
    # week 3 has no sample: no change and no size
    assert table.loc[("gpu", W3), "changes"] == 0 and np.isnan(table.loc[("gpu", W3), "max_nodes"])


def test_node_group_changes_of_no_nodes_is_an_empty_frame() -> None:
    table = node_group_changes(pd.DataFrame(), widen(W1, W1))
    assert table.empty and list(table.columns) == list(NODE_CHANGES)


def events(*rows: tuple[str, str | None, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"at": at(m), "namespace": "x", "team": team, "reason": reason, "kind": "Pod"}
            for m, team, reason in rows
        ]
    )


def test_weekly_events_count_per_team_week_and_reason_with_zeros() -> None:
    frame = events(
        ("2025-06-02T10:00", "Research", "FailedScheduling"),
        ("2025-06-04T10:00", "Research", "FailedScheduling"),
        ("2025-06-10T10:00", "Research", "FailedScheduling"),
        ("2025-06-11T10:00", None, "RegisteredNode"),
        ("2025-05-20T10:00", "Research", "OOMKilled"),  # before the window
    )
    table = weekly_events(frame, widen(W1, W2), teams=["Research"])
    got = {(r.team, r.reason, r.week): r.events for r in table.itertuples()}
    assert got == {
        ("Research", "FailedScheduling", W1): 2,
        ("Research", "FailedScheduling", W2): 1,
        (NO_TEAM, "RegisteredNode", W1): 0,
        (NO_TEAM, "RegisteredNode", W2): 1,
    }
    assert list(table.columns) == list(WEEKLY_EVENTS)


def test_weekly_events_of_no_events_is_an_empty_frame() -> None:
    table = weekly_events(pd.DataFrame(), widen(W1, W1))
    assert table.empty and list(table.columns) == list(WEEKLY_EVENTS)


def test_cluster_weekly_bundles_every_cluster_metric() -> None:
    frames = {
        "cluster_samples": samples(
            ("2025-06-02T00:00", "ds-a", "Research", 1.0, 0.0, 0),
            ("2025-06-02T01:00", "ds-a", "Research", 1.0, 0.0, 0),
        ),
        "cluster_nodes": nodes(("2025-06-02T00:00", "gpu", "g5.2xlarge", 1)),
    }
    out = cluster_weekly(frames, widen(W1, W1), LATER, ["Research"])
    assert set(out) == {"usage", "namespaces", "node_changes", "events"}
    assert value(out["usage"], "Research", W1, "cpu_hours") == pytest.approx(3.0)
    assert out["events"].empty
