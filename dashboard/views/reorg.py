"""Reorg impact: did turnaround change after each reorg, and can we tell?"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from dashboard.comparisons import LABELS, sentence, shown_interval
from metrics.samples import ALL_TEAMS
from metrics.tables import reorg_table

TREND_METRICS = (
    "cycle_time_hours",
    "support_resolution_hours",
    "requested_support_resolution_hours",
)


def trend(page: widgets.Page, scope: str, reorg: dict, known: pd.DataFrame) -> None:
    """p50 and p85 per week (or month) across the two periods, the reorg marked."""
    shown = [m for m in TREND_METRICS if m in set(known["metric"])][:2]
    if not shown:
        return
    first = pd.Timestamp(reorg["before_from"])
    last = pd.Timestamp(reorg["after_to"])
    marks = [(dt.date.fromisoformat(reorg["date"]), reorg["name"])]
    for column, metric in zip(st.columns(len(shown)), shown, strict=True):
        lines = data.reorg_trend(
            *page.window,
            page.filters.grain,
            scope,
            metric,
            first.to_pydatetime(),
            last.to_pydatetime(),
        )
        if lines.empty:
            continue
        points = lines.assign(at=pd.to_datetime(lines["period"]), hours=lines["p50"], key="")
        with column:
            widgets.chart(
                widgets.figure(
                    "scatter_with_percentiles",
                    points.iloc[:0][["at", "hours", "key"]],
                    # the scope is the section's heading: a half-width chart's title fits
                    f"{LABELS[metric].capitalize()}: p50 and p85 per {page.filters.grain} (days)",
                    marks,
                    percentiles=lines,
                ),
                f"trend-{scope}-{metric}",
            )


def render() -> None:
    page = widgets.start_page(
        "Reorg impact",
        "Each turnaround metric before and after each reorg of the org file: medians, the 95% "
        "confidence interval of the change, and whether it is distinguishable from noise.",
        teams_of_the_window=False,
    )
    widgets.definition("reorg")
    # The comparisons read periods of their own, the same whatever the window.
    url, config_file, _, _, now = page.window
    reorgs = data.reorgs(url, config_file, now)
    if not reorgs:
        widgets.empty(
            "The org file lists no reorg (`org.reorgs`), so there is nothing to compare. "
            "Add one with its date and name to see turnaround before and after it."
        )
        return
    options = [f"{r['date']}: {r['name']}" for r in reorgs]
    chosen = st.selectbox("Reorg", options, index=len(options) - 1)
    reorg = reorgs[options.index(chosen)]
    st.caption(
        f"Before: {reorg['before_from'][:10]} to {reorg['date']}; after: {reorg['date']} to "
        f"{reorg['after_to'][:10]} (equal lengths, so a recent reorg is compared fairly)."
    )
    rows = pd.DataFrame(reorg["comparisons"])
    scopes = [ALL_TEAMS, *page.selected_teams] if not page.filters.teams else page.selected_teams
    for scope in scopes:
        mine = rows[rows["team"] == scope]
        if mine.empty:
            continue
        title = "The whole organisation" if scope == ALL_TEAMS else scope
        st.subheader(title)
        known = mine[mine["n_before"] + mine["n_after"] > 0]
        if known.empty:
            widgets.no_team_data(title)
            continue
        if not known["n_after"].any() or not known["n_before"].any():
            side = "after" if not known["n_after"].any() else "before"
            widgets.empty(
                f"{title} has no finished work, pull requests or support requests {side} the "
                f"reorg (a team it {'ended' if side == 'after' else 'created'}?): nothing to compare."
            )
            continue
        for row in known.to_dict("records"):
            st.markdown("- " + sentence(row))
        trend(page, scope, reorg, known)
        shown = [shown_interval(c) if c else (None, None, False) for c in known["ci95"]]
        plot = known.assign(
            label=[LABELS.get(m, m) for m in known["metric"]],
            ci_low=[low for low, _, _ in shown],
            ci_high=[high for _, high, _ in shown],
        ).dropna(subset=["change", "ci_low"])
        if not plot.empty:
            widgets.chart(
                widgets.figure(
                    "reorg_intervals",
                    plot[["label", "change", "ci_low", "ci_high"]],  # plain columns: hashable
                    f"{title}: change of the median after the reorg (95% CI)",
                ),
                f"reorg-{scope}",
            )
    table = reorg_table(reorgs)
    table = table[(table["date"] == reorg["date"]) & table["team"].isin(scopes)]
    widgets.table(table, "reorg", "Every comparison (hours; change and CI as fractions)")


render()
