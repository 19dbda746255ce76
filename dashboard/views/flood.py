"""Flood & drought: is each team's load steady, or does it come in floods and droughts?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from report import charts


def render() -> None:
    page = widgets.start_page(
        "Flood & drought",
        "Each team's weekly work in progress per person against its own median: floods at "
        f"{page_factor('flood')}x the baseline or more, droughts at {page_factor('drought')}x or less.",
    )
    widgets.definition("load", "concentration", "coupling")
    window_summary = data.summary(*page.window, with_reorgs=False)
    tables = data.tables(*page.window, with_reorgs=False)
    settings = page.ctx.config.load
    teams = {t["team"]: t for t in window_summary["teams"]}
    weekly = tables["load_weekly"]
    weekly = weekly[weekly["person"].isna() & weekly["team"].isin(page.teams)]
    strip = weekly.assign(
        week=pd.to_datetime(weekly["week"]), state=weekly["state"].fillna("no data")
    )
    if strip["load"].notna().any():
        widgets.chart(
            charts.state_strip(strip, "Weekly state per team", page.reorgs), "state-strip"
        )
        st.caption("Red: flood · blue: normal · orange: drought · blank: no members that week.")
    carriers = data.people_concentration(*page.window, page.people_teams)
    for team in page.teams:
        st.subheader(team)
        load = teams[team]["load"]
        rows = pd.DataFrame(load["weekly"])
        if rows.empty or rows["load"].isna().all():
            widgets.no_team_data(team)
            continue
        c = st.columns(5)
        c[0].metric("Baseline (median load)", widgets.number(load["baseline"], 2))
        c[1].metric(
            "Variability (CV)",
            widgets.number(load["cv"], 2),
            help="Population standard deviation / mean of the weekly load: 0 is perfectly steady.",
        )
        c[2].metric(
            "Weeks in flood",
            f"{load['flood_weeks']} ({widgets.percent(load['flood_share'])})",
            help=f"Longest flood streak: {load['longest_flood']} weeks.",
        )
        c[3].metric(
            "Weeks in drought",
            f"{load['drought_weeks']} ({widgets.percent(load['drought_share'])})",
            help=f"Longest drought streak: {load['longest_drought']} weeks.",
        )
        c[4].metric(
            "Longest streaks",
            f"{load['longest_flood']} / {load['longest_drought']} wk",
            help="Longest run of consecutive flood weeks / drought weeks.",
        )
        rows["week"] = pd.to_datetime(rows["week"])
        widgets.chart(
            charts.load_chart(
                rows,
                load["baseline"],
                settings.flood_factor,
                settings.drought_factor,
                f"{team}: work in progress per person, with its baseline and bands",
                page.reorgs,
            ),
            f"load-{team}",
        )
        concentration = teams[team]["concentration"]
        if concentration["top1_share"] is not None:
            who = carriers.get(team)
            st.caption(
                f"Support and unplanned work: the busiest member carried "
                f"{widgets.percent(concentration['top1_share'])} of it"
                + (f" ({who})" if who else "")
                + f"; Gini {widgets.number(concentration['gini'], 2)} across "
                f"{concentration['members']} members."
            )
        people(page, team)
    summary = tables["load_summary"]
    summary = summary[summary["person"].isna() & summary["team"].isin(page.teams)]
    widgets.table(summary.drop(columns="person"), "load-summary", "Load variability per team")
    widgets.table(weekly.drop(columns="person"), "load-weekly", "Weekly load per team")
    coupling(page, window_summary)


def page_factor(kind: str) -> str:
    settings = data.settings(str(data.config_path())).load
    return f"{settings.flood_factor if kind == 'flood' else settings.drought_factor:g}"


def people(page: widgets.Page, team: str) -> None:
    if not page.viewer.sees_people(team):
        return
    loads = data.people_load(*page.window, page.people_teams)
    loads = loads[loads["team"] == team]
    if loads.empty:
        return
    with st.expander(f"{team}: load per person", expanded=False):
        widgets.chart(
            charts.heatmap(
                loads.assign(week=pd.to_datetime(loads["week"])),
                "person",
                "week",
                "load",
                f"{team}: work in progress per person and week",
                colour="YlOrRd",
                reorgs=page.reorgs,
            ),
            f"people-{team}",
        )
        widgets.table(loads, f"people-load-{team}", None)


def coupling(page: widgets.Page, window_summary: dict) -> None:
    st.header("Demand coupling")
    rows = pd.DataFrame(window_summary["coupling"])
    if rows.empty:
        widgets.empty("No support requests between teams in this period, so nothing to couple.")
        return
    rows = rows[rows["serving_team"].isin(page.teams) | rows["requesting_team"].isin(page.teams)]
    if rows.empty:
        widgets.empty(
            "The selected teams neither asked nor served support requests in this period."
        )
        return
    widgets.chart(
        charts.lag_chart(rows, "Requests from one team vs the serving team's load k weeks later"),
        "coupling",
    )
    table = data.tables(*page.window, with_reorgs=False)["coupling"]
    table = table[
        table["serving_team"].isin(page.teams) | table["requesting_team"].isin(page.teams)
    ]
    widgets.table(table, "coupling", "Best lag and its correlation per pair of teams")


render()
