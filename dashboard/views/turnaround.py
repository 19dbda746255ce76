"""Turnaround: how long work items and pull requests take, and what has been waiting longest."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from report import charts

PARTS = ["draft", "pickup", "review"]
PART_COLOURS = {"draft": "#c7c7c7", "pickup": "#ff7f0e", "review": "#1f77b4"}


def render() -> None:
    page = widgets.start_page(
        "Turnaround",
        "Cycle and lead time of finished work, the pull-request review path, and the oldest "
        "work still in progress.",
    )
    widgets.definition("cycle_time", "flow_efficiency", "pr", "ageing", "as_of")
    summary = data.summary(*page.window, with_reorgs=False)
    teams = {t["team"]: t for t in summary["teams"]}
    cards(page, teams)
    items = data.turnaround_samples(*page.window)
    items = items[items["team"].isin(page.teams)].drop_duplicates("item_id")
    trend = data.turnaround_trend(*page.window, page.filters.grain)
    st.header("Cycle and lead time")
    if items.empty:
        widgets.empty("No work item of the selected teams was finished in this period.")
    else:
        for metric, label in (("cycle_hours", "Cycle time"), ("lead_hours", "Lead time")):
            left, right = st.columns([3, 1])
            shown = items.rename(columns={metric: "hours"})[["at", "hours", "item_id"]].dropna()
            points = charts.drawn(shown)
            points = points.assign(key=data.item_keys(page.ctx.url, tuple(points["item_id"])))
            lines = data.turnaround_lines(
                *page.window, page.filters.grain, tuple(page.teams), metric
            )
            with left:
                widgets.chart(
                    charts.scatter_with_percentiles(
                        points,
                        f"{label} of finished items (days), p50 and p85 per {page.filters.grain}",
                        page.reorgs,
                        percentiles=lines,
                        total=len(shown),
                    ),
                    f"scatter-{metric}",
                )
            with right:
                widgets.chart(
                    charts.histogram(shown["hours"], f"{label}: distribution"), f"hist-{metric}"
                )
        mine = trend[trend["team"].isin(page.teams)].replace(
            {"metric": {"cycle_hours": "cycle time", "lead_hours": "lead time"}}
        )
        widgets.table(
            widgets.days_column(
                mine.rename(columns={"p50": "p50_hours", "p85": "p85_hours", "p95": "p95_hours"}),
                ["p50_hours", "p85_hours", "p95_hours"],
            ),
            "turnaround-trend",
            f"Percentiles per {page.filters.grain} (days)",
        )
    st.header("Pull requests: where the time to merge goes")
    breakdown(page, teams)
    st.header("Ageing work in progress")
    ageing(page)
    table = data.tables(*page.window, with_reorgs=False)["turnaround"]
    table = table[table["team"].isin(page.teams)].copy()
    durations = table["metric"].str.endswith("_hours")
    for column in ("p50", "p85", "p95"):
        table[column] = table[column].where(~durations, table[column] / 24).round(2)
    table["metric"] = table["metric"].str.replace("_hours", "_days", regex=False)
    widgets.table(
        table,
        "turnaround",
        "Every turnaround figure of the period (durations in days; flow efficiency a ratio)",
    )


def cards(page: widgets.Page, teams: dict) -> None:
    for team in page.teams:
        t = teams[team]["turnaround"]
        if not t["done_items"] and not t["pr_merge_hours"]["n"]:
            st.subheader(team)
            widgets.no_team_data(team)
            continue
        with st.container(border=True):
            st.markdown(f"**{team}** · {t['done_items']} items finished")
            c = st.columns(5)
            cycle = t["cycle_time_hours"]
            p50, p85 = widgets.durations(cycle["p50"], cycle["p85"])  # one unit for the pair
            c[0].metric("Cycle time p50", p50)
            c[1].metric("Cycle time p85", p85)
            c[2].metric("Lead time p50", widgets.duration(t["lead_time_hours"]["p50"]))
            c[3].metric("PR first review p50", widgets.duration(t["pr_first_review_hours"]["p50"]))
            c[4].metric(
                "Flow efficiency",
                widgets.percent(t["flow_efficiency_overall"]),
                help="Total active time / total cycle time of the finished items. Per item, "
                f"the median is {widgets.percent(t['flow_efficiency']['p50'])} and the p85 "
                f"{widgets.percent(t['flow_efficiency']['p85'])} (an item never blocked is 100%).",
            )


def breakdown(page: widgets.Page, teams: dict) -> None:
    rows = []
    for team in page.teams:
        parts = teams[team]["turnaround"]["pr_breakdown_hours"]
        if parts["n"]:
            rows.append({"team": team, "merged": parts["n"]} | {p: parts[p]["mean"] for p in PARTS})
    if not rows:
        widgets.empty("No pull request of the selected teams was merged in this period.")
        return
    frame = pd.DataFrame(rows)
    days = frame[PARTS].to_numpy().sum(axis=1).max() > 48
    shown = frame.assign(**{p: frame[p] / 24 for p in PARTS}) if days else frame
    widgets.chart(
        charts.stacked_bars(
            shown,
            "team",
            PARTS,
            "Average merged PR: draft, waiting for a first review (pickup), in review",
            unit="days" if days else "hours",
            colours=PART_COLOURS,
        ),
        "pr-breakdown",
    )
    widgets.table(
        widgets.days_column(
            frame.rename(columns={p: f"{p}_hours" for p in PARTS}), [f"{p}_hours" for p in PARTS]
        ),
        "pr-breakdown",
        "Mean days per stage of merged pull requests",
    )


def ageing(page: widgets.Page) -> None:
    visible = [t for t in page.teams if page.viewer.sees_people(t)]
    if not visible:
        widgets.no_people()
        return
    wip = data.people_ageing(*page.window, page.people_teams)
    wip = wip[wip["team"].isin(visible)]
    if wip.empty:
        widgets.empty("No work item of these teams is in progress.")
        return
    shown = widgets.days_column(wip, ["age_hours"])[
        [
            "key",
            "summary",
            "status",
            "team",
            "assignee",
            "category",
            "started_at",
            "age_days",
            "url",
        ]
    ]
    widgets.table(
        shown,
        "ageing-wip",
        "Items in progress, oldest first (age = days since first started)",
        column_config={"url": widgets.link_column(), "summary": "title"},
    )


render()
