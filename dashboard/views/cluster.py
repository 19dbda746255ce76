"""Cluster: what each team asks of the data scientists' Kubernetes cluster, and the infra toil."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from metrics.cluster import NO_TEAM, usage_totals
from report import charts


def render() -> None:
    page = widgets.start_page(
        "Cluster",
        "Requested CPU and GPU per team, hours GPU pods waited for capacity, and the "
        "infrastructure events behind them.",
        needs_data=False,
    )
    widgets.definition("cluster")
    found = data.cluster(*page.window)
    usage = found["usage"]
    usage = usage[usage["team"].isin([*page.teams, NO_TEAM])] if len(usage) else usage
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
        c[2].metric(
            "GPU pod-hours pending",
            widgets.number(totals["gpu_pending_pod_hours"], 0),
            help="Hours GPU pods waited, pending, for capacity: the cost of a cluster too small.",
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
        widgets.chart(
            charts.lines(
                usage, "week", "gpu_pending_pod_hours", "team",
                "GPU pod-hours pending (waiting for capacity) per week", "pod-hours", page.reorgs,
                page.team_colours,
            ),
            "pending",
        )  # fmt: skip
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
