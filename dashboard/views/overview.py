"""Overview: every team's health on one screen, for the director's wall."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from metrics.rules import NO_TRACKED_WORK
from report import charts

TOP_CATEGORIES = 3
BADGES = {  # state -> label, badge colour, icon: the flood page's colours
    "flood": ("Flood", "red", ":material/flood:"),
    "normal": ("Normal", "blue", ":material/check:"),
    "drought": ("Drought", "orange", ":material/wb_sunny:"),
}
PER_ROW = 4


def render() -> None:
    page = widgets.start_page(
        "Overview",
        "Where each team's time goes, how long people wait, and whether the load is steady.",
    )
    widgets.definition("allocation", "cycle_time", "support", "load", "as_of")
    summary = data.summary(*page.window, with_reorgs=False)
    before = data.previous_summary(*page.window, with_reorgs=False)
    freshness(page)
    teams = {t["team"]: t for t in summary["teams"]}
    earlier = {t["team"]: t for t in before["teams"]}
    shares = data.tables(*page.window, with_reorgs=False)["allocation_share"]
    shares = shares[shares["team"].isin(page.teams) & shares["share"].notna()]
    if not shares.empty:
        widgets.chart(
            charts.share_bars(shares, summary["categories"], "Where the time went (share of FTE)"),
            "overview-shares",
        )
    for row in range(0, len(page.teams), PER_ROW):
        columns = st.columns(min(PER_ROW, len(page.teams)))
        for column, team in zip(columns, page.teams[row : row + PER_ROW], strict=False):
            with column, st.container(border=True):
                card(team, teams[team], earlier.get(team), summary["categories"], page)


def freshness(page: widgets.Page) -> None:
    sources = data.freshness(page.ctx.url)
    if not sources:
        return
    parts = [
        f"{source}: {'never synced' if at is None else f'{at:%d %b %H:%M} UTC'}"
        for source, at in sources.items()
    ]
    st.caption("Last successful sync — " + " · ".join(parts))


def _top(team: dict[str, Any]) -> list[tuple[str, float]]:
    shares = [(c, s) for c, s in team["allocation"]["share"].items() if s and c != NO_TRACKED_WORK]
    return sorted(shares, key=lambda cs: -cs[1])[:TOP_CATEGORIES]


def card(
    name: str,
    team: dict[str, Any],
    before: dict[str, Any] | None,
    categories: list[str],
    page: widgets.Page,
) -> None:
    weekly = pd.DataFrame(team["load"]["weekly"])
    staffed = weekly[weekly["members"] > 0] if len(weekly) else weekly
    # The last week with members: a week that has barely begun has none yet.
    members = staffed["members"].iloc[-1] if len(staffed) else 0.0
    st.subheader(name)
    if not members and not team["turnaround"]["done_items"] and not team["support"]["n"]:
        widgets.no_team_data(name)
        return
    known = [w for w in team["load"]["weekly"] if w["state"]]
    state = known[-1]["state"] if known else None
    when = f"week of {pd.Timestamp(known[-1]['week']):%d %b}" if known else "last week"
    headcount_week = (
        f"week of {pd.Timestamp(staffed['week'].iloc[-1]):%d %b}" if len(staffed) else "last week"
    )
    # One figure per line: a card is a quarter of a laptop's width, and two figures side by
    # side cut their numbers short ("30.…").
    label, colour, icon = BADGES.get(state or "", ("No data", "gray", ":material/remove:"))
    st.markdown(
        f"**{widgets.number(members, 0)}** members, load state:",
        help=f"Members: the average, {headcount_week}. Load state, {when}: work in progress "
        "per person against the team's own median (flood, normal or drought).",
    )
    st.badge(label, color=colour, icon=icon)
    if len(weekly) and weekly["load"].notna().any():
        widgets.chart(charts.sparkline(weekly["load"], weekly["state"]), f"spark-{name}")
    cycle, old = team["turnaround"]["cycle_time_hours"], (before or {}).get("turnaround", {})
    old_cycle = old.get("cycle_time_hours", {})
    shown = dict(zip(("p50", "p85"), widgets.durations(cycle["p50"], cycle["p85"]), strict=True))
    for p in ("p50", "p85"):
        st.metric(
            f"Cycle time {p}",
            shown[p],
            widgets.change(cycle[p], old_cycle.get(p)),
            delta_color="inverse",
            help="Change against the previous period of the same length.",
        )
    support, old_support = team["support"], (before or {}).get("support", {})
    st.metric(
        "Support SLA breach rate",
        widgets.percent(support["sla_breach_rate"]),
        widgets.points(support["sla_breach_rate"], old_support.get("sla_breach_rate")),
        delta_color="inverse",
        help=f"Share of the {support['n']} requests it served that missed their resolution target.",
    )
    top = _top(team)
    if top:
        old_share = (before or {}).get("allocation", {}).get("share", {})
        rows = []
        for category, share in top:
            delta = widgets.points(share, old_share.get(category))
            rows.append(
                f"- {category}: **{widgets.percent(share)}**" + (f" ({delta})" if delta else "")
            )
        st.markdown("**Top categories** (change against the previous period)\n" + "\n".join(rows))


render()
