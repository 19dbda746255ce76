"""The report's charts: the dashboard's own plotly charts, drawn from a week's figures.

One chart of every team's load states, then per team with a section its allocation
and its load; sized for a mail client, which shows images at a fixed width. The
dashboard's Reports page shows the same charts, redrawn from the stored figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from report import charts
from report.figures import HISTORY_WEEKS, ordered_teams

CHART_WIDTH = 640
STATES_CHART = "states"  # the load states of every team, shown before the teams


def figure_charts(figs: dict[str, Any]) -> dict[str, go.Figure]:
    """The dashboard's own charts for the report, by name (ordered as the report shows them)."""
    reorgs = [(dt.date.fromisoformat(r["date"]), r["name"]) for r in figs["reorgs"]]
    teams = ordered_teams(figs)
    out: dict[str, go.Figure] = {}
    strip = pd.DataFrame(
        [
            {"team": t["team"], "week": pd.Timestamp(w["week"]), "state": w["state"] or "no data"}
            for _, t in teams
            for w in t["load"]["weekly"]
        ],
        columns=["team", "week", "state"],
    )
    if len(strip):
        out[STATES_CHART] = _sized(
            charts.state_strip(strip, f"Flood and drought, last {HISTORY_WEEKS} weeks"), None
        )
    for i, team in teams:
        allocation_name, load_name = team_charts(i)
        weekly = pd.DataFrame(
            [
                {"period": pd.Timestamp(w["week"]), "category": c, "fte": v}
                for w in team["allocation_weekly"]
                for c, v in w["fte"].items()
            ],
            columns=["period", "category", "fte"],
        )
        out[allocation_name] = _sized(
            charts.allocation_area(weekly, f"{team['team']}: where the time went (FTE)", reorgs),
            330,
        )
        load = pd.DataFrame(
            [
                {"week": pd.Timestamp(w["week"]), "load": w["load"], "state": w["state"]}
                for w in team["load"]["weekly"]
            ],
            columns=["week", "load", "state"],
        )
        out[load_name] = _sized(
            charts.load_chart(
                load,
                team["load"]["baseline"],
                figs["flood_factor"],
                figs["drought_factor"],
                f"{team['team']}: load (work in progress per person)",
                reorgs,
            ),
            240,
        )
    return out


def team_charts(team_index: int) -> tuple[str, str]:
    """The names of a team's two charts (allocation, load), by its index among the active teams."""
    return f"allocation-{team_index}", f"load-{team_index}"


def _sized(fig: go.Figure, height: int | None) -> go.Figure:
    # a mail client shows images at a fixed width: size them for it, not for a browser
    fig.update_layout(width=CHART_WIDTH, font={"family": "Helvetica, Arial, sans-serif"})
    fig.update_xaxes(
        tickformat="%d %b"
    )  # one line per tick: a second line collides with the legend
    if height:
        fig.update_layout(height=height)
    return fig
