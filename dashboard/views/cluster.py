"""Cluster: what each team asks of the data scientists' Kubernetes cluster, and the infra toil.

It says what the stored history lacks: hours rebuilt from the pods the Kubernetes API
still lists (no Prometheus) know requests but not who waited, and a history of live
samples alone starts with the first of them.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from config.schema import Config
from dashboard import data, widgets
from metrics.cluster import NO_TEAM, usage_totals, weekly_pending
from metrics.weeks import monday
from report import charts


def _moment(value: dt.datetime, config: Config) -> str:
    return f"{value.astimezone(config.org.tz):%d %b %Y %H:%M}"


def _cadence(config: Config) -> str:
    job = config.schedule.cluster
    if not job.enabled:
        return "Each `teamtide sync --source cluster` adds a sample (`schedule.cluster` is off)."
    when = f"every {job.every_minutes:g} minutes" if job.every_minutes else f"cron `{job.cron}`"
    return (
        f"The scheduler (`teamtide schedule`) adds a sample every run ({when}, `schedule.cluster`)."
    )


def history_notes(
    history: dict[str, dt.datetime | None], start: dt.datetime, end: dt.datetime, config: Config
) -> list[str]:
    """What the window's cluster figures rest on, when it is less than observed samples.

    Rebuilt hours in the window: what they know and what they do not (pending time).
    History that starts after the window opens: since when, and how it grows.
    """
    first, observed = history["first_sample"], history["first_observed"]
    rebuilt, last_rebuilt = history["first_rebuilt"], history["last_rebuilt"]
    if first is None:
        return []
    cluster = config.sources.cluster
    no_prometheus = cluster is None or cluster.prometheus_url is None
    notes = []
    only_snapshots = history["first_snapshot"] is not None and history["first_snapshot"] == observed
    if rebuilt is not None and last_rebuilt is not None and rebuilt < end and last_rebuilt >= start:
        since = _moment(rebuilt, config)
        upto = _moment(observed, config) if observed else None
        why = (
            " (no Prometheus is configured: `sources.cluster.prometheus_url`)"
            if no_prometheus
            else ""
        )
        first_live = f"{upto}, the first sample teamtide took" if upto else "the first live sample"
        notes.append(
            f"From {since}{f' to {upto}' if upto else ''}, these figures are rebuilt from the pods "
            f"the Kubernetes API still lists{why}: CPU, memory and GPU requested and pods running, "
            f"from each pod's start and end. Nothing is known before {since} (finished pods are "
            "cleaned up after a while), and pending time, how long pods waited for capacity, is "
            f"not known before {first_live}: it shows as –."
            + (f" {_cadence(config)}" if only_snapshots else "")
        )
    elif start < first and only_snapshots and history["first_snapshot"] == first:
        earlier = (
            " Without Prometheus (`sources.cluster.prometheus_url`) nothing earlier is known."
            if no_prometheus
            else ""
        )
        notes.append(
            f"The cluster's history starts on {_moment(first, config)}, with the first sample "
            f"teamtide took.{earlier} {_cadence(config)}"
        )
    return notes


def render() -> None:
    page = widgets.start_page(
        "Cluster",
        "Requested CPU and GPU per team, hours GPU pods waited for capacity, and the "
        "infrastructure events behind them.",
        needs_data=False,
    )
    widgets.definition("cluster")
    found = data.cluster(*page.window)
    config, window = page.ctx.config, page.ctx.window(page.filters.start, page.filters.end)
    history = data.cluster_history(page.ctx.url)
    for note in history_notes(
        history, window.start.to_pydatetime(), window.end.to_pydatetime(), config
    ):
        st.caption(note)
    usage = found["usage"]
    usage = usage[usage["team"].isin([*page.teams, NO_TEAM])] if len(usage) else usage
    if history["first_sample"] is not None and len(usage):
        # weeks before the cluster's history are not known, not zero: left out
        began = monday(history["first_sample"].astimezone(config.org.tz).date())
        usage = usage[usage["week"] >= began]
    if usage.empty or not usage[["cpu_hours", "gpu_hours"]].to_numpy().any():
        widgets.empty(
            "No cluster samples in this period. The cluster source (`sources.cluster` in the org "
            "file) may not be configured, or `teamtide sync --source cluster` has not run yet."
        )
    else:
        listed = usage
        usage = usage.assign(week=pd.to_datetime(usage["week"]))
        totals = usage_totals(usage)
        c = st.columns(3)
        c[0].metric("CPU-hours requested", widgets.number(totals["cpu_hours"], 0))
        c[1].metric("GPU-hours requested", widgets.number(totals["gpu_hours"], 0))
        pending_known = weekly_pending(usage).notna()  # per week, over the teams shown
        c[2].metric(
            "GPU pod-hours pending",
            widgets.number(totals["gpu_pending_pod_hours"], 0),
            help="Hours GPU pods waited, pending, for capacity: the cost of a cluster too small."
            + (
                ""
                if pending_known.all()
                else " Not known for this whole period: history rebuilt from pods does not record"
                " waiting. The chart below shows the weeks where it is known."
            ),
        )
        left, right = st.columns(2)
        with left:
            widgets.chart(
                charts.lines(
                    usage, "week", "cpu_hours", "team", "CPU-hours requested per week",
                    "CPU-hours", page.reorgs, page.team_colours,
                ),
                "cpu",
            )  # fmt: skip
        with right:
            widgets.chart(
                charts.lines(
                    usage, "week", "gpu_hours", "team", "GPU-hours requested per week",
                    "GPU-hours", page.reorgs, page.team_colours,
                ),
                "gpu",
            )  # fmt: skip
        if pending_known.any():
            widgets.chart(
                charts.lines(
                    usage, "week", "gpu_pending_pod_hours", "team",
                    "GPU pod-hours pending (waiting for capacity) per week", "pod-hours", page.reorgs,
                    page.team_colours,
                ),
                "pending",
            )  # fmt: skip
        else:
            st.caption("GPU pod-hours pending per week: not known in this period.")
        widgets.table(listed, "cluster-usage", "Usage per team and week")
    events = found["raw_events"]
    st.header("Infrastructure events")
    if events.empty:
        widgets.empty("No cluster events in this period.")
    else:
        widgets.chart(
            charts.timeline(events, "Events by reason (hover for the message)", page.reorgs),
            "events",
        )
        weekly = found["events"]
        widgets.table(
            weekly[weekly["events"] > 0], "cluster-events", "Events per team, week and reason"
        )
    changes = found["node_changes"]
    if not changes.empty:
        sized = changes.dropna(subset=["max_nodes"]).assign(
            week=lambda f: pd.to_datetime(f["week"])
        )
        widgets.chart(
            charts.lines(
                sized, "week", "max_nodes", "node_group", "Largest size of each node group per week",
                "nodes", page.reorgs,
            ),
            "nodes",
        )  # fmt: skip
        widgets.table(
            changes,
            "node-changes",
            "Node-group size changes per week (the infra team's scaling toil)",
        )
    namespaces = found["namespaces"]
    if not namespaces.empty:
        widgets.table(namespaces, "namespaces", "Usage per namespace over the period")


render()
