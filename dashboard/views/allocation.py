"""Allocation: where each team's time goes, by category per week, down to the items behind it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from metrics import drilldown
from metrics.rules import NO_TRACKED_WORK
from report import charts

PLANNED_COLOURS = {"planned_fte": "#1f77b4", "unplanned_fte": "#d62728"}
PLANNED_NAMES = {"planned_fte": "planned", "unplanned_fte": "unplanned"}
ALL_WEEKS = "the whole period"


def render() -> None:
    page = widgets.start_page(
        "Allocation",
        "Each team's FTE by category: every weekday of every member is split across what they "
        "worked on that day.",
    )
    widgets.definition("allocation", "unplanned")
    summary = data.summary(*page.window, with_reorgs=False)
    tables = data.tables(*page.window, with_reorgs=False)
    grain = page.filters.grain
    teams = {t["team"]: t for t in summary["teams"]}
    weekly = tables["allocation_weekly"]
    planned = tables["planned"]
    planned = planned[planned["week"] != "all"]
    for team in page.teams:
        st.subheader(team)
        block = teams[team]["allocation"]
        rows = weekly[weekly["team"] == team]
        if not rows["fte"].sum():
            widgets.no_team_data(team)
            continue
        c1, c2, c3 = st.columns(3)
        tracked = block["planned_fte"] + block["unplanned_fte"]
        c1.metric("Average FTE tracked per week", widgets.number(tracked))
        c2.metric("Unplanned share", widgets.percent(block["unplanned_share"]))
        c3.metric(
            "No tracked work",
            widgets.percent(block["share"].get(NO_TRACKED_WORK)),
            help="Member-days with no active item and no open pull request.",
        )
        area = drilldown.regrain(
            rows.assign(week=pd.to_datetime(rows["week"]).dt.date), ["category"], ["fte"], grain
        )
        left, right = st.columns([3, 2])
        with left:
            widgets.chart(
                charts.allocation_area(
                    area, f"{team}: FTE by category per {grain} (average week)", page.reorgs
                ),
                f"area-{team}",
            )
        mine = planned[planned["team"] == team]
        split = drilldown.regrain(
            mine.assign(week=pd.to_datetime(mine["week"]).dt.date),
            [],
            ["planned_fte", "unplanned_fte"],
            grain,
        )
        with right:
            widgets.chart(
                charts.stacked_bars(
                    split,
                    "period",
                    ["planned_fte", "unplanned_fte"],
                    f"{team}: planned vs unplanned",
                    unit="FTE",
                    colours=PLANNED_COLOURS,
                    names=PLANNED_NAMES,
                    reorgs=page.reorgs,
                ),
                f"planned-{team}",
            )
    shares = tables["allocation_share"]
    widgets.table(
        # + 0.0: a share that sums to a hair under zero reads 0.0, not -0.0
        shares[shares["team"].isin(page.teams)].assign(
            share=lambda f: (f["share"] * 100).round(1) + 0.0, fte=lambda f: f["fte"].round(2) + 0.0
        ),
        "allocation-share",
        "Share of each category over the period (%; fte = average FTE per week)",
        column_config={
            "share": st.column_config.NumberColumn("share (%)", format="%.1f"),
            "fte": st.column_config.NumberColumn("average FTE", format="%.2f"),
        },
    )
    drill_down(page, summary["categories"])


def drill_down(page: widgets.Page, categories: list[str]) -> None:
    st.header("Behind the numbers")
    visible = [t for t in page.teams if page.viewer.sees_people(t)]
    if not visible:
        widgets.no_people()
        return
    window = page.ctx.window(page.filters.start, page.filters.end)
    c1, c2, c3 = st.columns(3)
    team = c1.selectbox("Team", visible, key="drill-team")
    wanted = [c for c in categories if c != NO_TRACKED_WORK]
    category = c2.selectbox("Category", ["every category", *wanted], key="drill-category")
    weeks = [ALL_WEEKS, *(f"week of {w:%d %b %Y}" for w in reversed(window.weeks))]
    picked = c3.selectbox("Period", weeks, key="drill-week")
    only = None
    if picked != ALL_WEEKS:
        only = (window.weeks[len(window.weeks) - weeks.index(picked)],)
    items = data.people_items(
        *page.window,
        page.people_teams,
        team,
        None if category == "every category" else category,
        only,
    )
    if items.empty:
        widgets.empty(f"No tracked work of {team} matches this selection.")
    else:
        widgets.table(
            items,
            "allocation-items",
            f"Items and pull requests behind {team}'s FTE (fte = FTE-weeks in the period)",
            column_config={
                "link": widgets.link_column(),
                "fte": st.column_config.NumberColumn("FTE-weeks", format="%.2f"),
            },
        )
    people = data.people_allocation(*page.window, page.people_teams)
    people = people[people["team"] == team]
    if not people.empty:
        per_person = people.pivot_table(
            index="person", columns="category", values="fte", aggfunc="sum", fill_value=0.0
        )
        per_person = per_person[[c for c in categories if c in per_person.columns]].round(2)
        widgets.table(
            per_person.reset_index(),
            "allocation-people",
            f"{team}: FTE-weeks per person and category over the period",
        )


render()
