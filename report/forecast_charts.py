"""Plotly builders for the load forecast (Planning page and report): pure functions from tidy frames."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from report.charts import LAYOUT, STATE_COLOURS

BAND_80 = "rgba(31, 59, 87, 0.28)"
BAND_95 = "rgba(31, 59, 87, 0.12)"
# White (no chance) to the flood red: a cell's darkness is the flood's probability.
FLOOD_SCALE = [[0.0, "#ffffff"], [0.5, "#f4a3a4"], [1.0, STATE_COLOURS["flood"]]]


def forecast_chart(
    history: pd.DataFrame,
    ahead: pd.DataFrame,
    flood_at: float | None,
    drought_at: float | None,
    title: str,
) -> go.Figure:
    """The weekly load so far and the forecast with its 80% and 95% bands, the flood and
    drought thresholds as lines. Columns: history (week, load), ahead (week, expected,
    lower_80, upper_80, lower_95, upper_95)."""
    fig = go.Figure()
    weeks = list(ahead["week"])
    for low, high, colour, name in (
        ("lower_95", "upper_95", BAND_95, "95% interval"),
        ("lower_80", "upper_80", BAND_80, "80% interval"),
    ):
        fig.add_trace(
            go.Scatter(
                x=weeks + weeks[::-1], y=list(ahead[high]) + list(ahead[low])[::-1],
                fill="toself", fillcolor=colour, line={"width": 0}, name=name, hoverinfo="skip",
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=history["week"], y=history["load"], mode="lines", name="load", line={"color": "#1f3b57"},
            hovertemplate="week of %{x|%d %b %Y}: %{y:.2f} items in progress per person<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=ahead["week"], y=ahead["expected"], mode="lines+markers", name="expected",
            line={"color": "#1f3b57", "dash": "dot"},
            hovertemplate="week of %{x|%d %b %Y}: %{y:.2f} expected<extra></extra>",
        )
    )  # fmt: skip
    for value, state, label in ((flood_at, "flood", "flood"), (drought_at, "drought", "drought")):
        if value is not None:
            fig.add_hline(
                y=value,
                line_dash="dash",
                line_color=STATE_COLOURS[state],
                annotation_text=f"{label} {value:.2f}",
                annotation_position="top left",
            )
    fig.update_layout(title=title, yaxis_title="work in progress per person", **LAYOUT)
    return fig


def week_labels(weeks: Sequence[object]) -> list[str]:
    """Each week ahead by its Monday ("30 Jun"): one label per cell, none skipped."""
    return [f"{pd.Timestamp(w):%d %b}" for w in weeks]


def odds_strip(
    rows: pd.DataFrame, title: str, value: str = "p_flood", teams: Sequence[str] | None = None
) -> go.Figure:
    """The chance of a flood (or `value`) per team and week ahead, each cell labelled.
    Columns: team, week, and `value` (0..1, null where the team has no members)."""
    z = rows.pivot_table(index="team", columns="week", values=value, aggfunc="first", dropna=False)
    if teams is not None:
        z = z.reindex([t for t in teams if t in z.index])
    fig = go.Figure(
        go.Heatmap(
            z=z.values, x=week_labels(z.columns), y=list(z.index), zmin=0, zmax=1,
            colorscale=FLOOD_SCALE, xgap=2, ygap=2, texttemplate="%{z:.0%}", hoverongaps=False,
            colorbar={"title": "p", "tickformat": ".0%", "len": 0.9},
            hovertemplate="%{y}, week of %{x}: %{z:.0%}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(title=title, height=130 + 34 * len(z.index), **LAYOUT)
    fig.update_yaxes(autorange="reversed")  # teams top to bottom in the org file's order
    return fig


# Drought odds drawn as negative values: orange below white, flood red above it.
ODDS_SCALE = [[0.0, STATE_COLOURS["drought"]], [0.5, "#ffffff"], [1.0, STATE_COLOURS["flood"]]]


def team_odds_strip(ahead: pd.DataFrame, title: str) -> go.Figure:
    """One team's weekly chance of flood (red row) and drought (orange row), each cell
    labelled. Columns: week, p_flood, p_drought (0..1 or null)."""
    flood = [None if pd.isna(p) else float(p) for p in ahead["p_flood"]]
    drought = [None if pd.isna(p) else float(p) for p in ahead["p_drought"]]
    labels = [["" if p is None else f"{p:.0%}" for p in row] for row in (drought, flood)]
    fig = go.Figure(
        go.Heatmap(
            z=[[None if p is None else -p for p in drought], flood],
            x=week_labels(ahead["week"]), y=["drought", "flood"], zmin=-1, zmax=1,
            colorscale=ODDS_SCALE, showscale=False, xgap=2, ygap=2, text=labels,
            texttemplate="%{text}", hoverongaps=False,
            hovertemplate="%{y}, week of %{x}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(title=title, height=170, **LAYOUT)
    return fig
