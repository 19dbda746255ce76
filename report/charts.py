"""Plotly figure builders: plain functions from tidy frames to figures, shared with the weekly report."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

STATE_COLOURS = {
    "flood": "#d62728",
    "normal": "#9ecae1",
    "drought": "#ff9f1c",
    "no data": "#e0e0e0",
}
CATEGORY_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
]
# Teams get their own palette (not the categories'), the same on every page.
TEAM_COLOURS = [
    "#264653",
    "#e76f51",
    "#2a9d8f",
    "#e9c46a",
    "#8d5a97",
    "#6c757d",
    "#3d5a80",
    "#bc4749",
]
OTHER_TEAM_COLOURS = {"unassigned": "#b0b0b0", "(no team)": "#c8c8c8"}
PERCENTILE_COLOURS = {"p50": "#d62728", "p85": "#ff7f0e"}
SPECIAL_COLOURS = {"uncategorized": "#b0b0b0", "no tracked work": "#e8e8e8"}
# Points a scatter draws at most: 65,000 finished items (half a year of a 600-person org)
# are 3 MB of JSON per chart and a blur on screen; a sample of them shows the spread.
MAX_POINTS = 5_000
FEW_POINTS = 8  # up to this many dates on a line chart's axis: a tick on each
INTERVAL_EDGE = 300.0  # %: the reorg interval chart's axis ends here at most
LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "legend": {"orientation": "h", "y": -0.15},
    "template": "plotly_white",
}


def safe_text(values: Sequence[object] | pd.Series | None) -> list[str] | None:
    """Source text (Jira keys, Kubernetes messages) escaped: plotly reads tags in hover text."""
    if values is None:
        return None
    return [html.escape(str(v)) if v is not None and v == v else "" for v in values]


def _wall_utc(instants: pd.Series) -> pd.Series:
    """UTC instants as naive UTC: what plotly.js shows of an aware one (it drops the offset),
    without plotly converting each aware value to text (a third of a chart of 30,000 points)."""
    if isinstance(instants.dtype, pd.DatetimeTZDtype):
        return instants.dt.tz_convert("UTC").dt.tz_localize(None)
    return instants


def _reorg_lines(fig: go.Figure, reorgs: Sequence[tuple[dt.date, str]]) -> go.Figure:
    for day, name in reorgs:
        fig.add_vline(x=pd.Timestamp(day).timestamp() * 1000, line_dash="dash", line_color="#555")
        fig.add_annotation(
            x=pd.Timestamp(day),
            y=1,
            yref="paper",
            text=name,
            showarrow=False,
            xanchor="left",
            font={"size": 10},
        )
    return fig


def category_colour(categories: Sequence[str]) -> dict[str, str]:
    plain = [c for c in categories if c not in SPECIAL_COLOURS]
    colours = {c: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, c in enumerate(plain)}
    return colours | {c: SPECIAL_COLOURS[c] for c in categories if c in SPECIAL_COLOURS}


def team_colour(teams: Sequence[str]) -> dict[str, str]:
    """A colour per team in the org file's order (pass every team, so colours never shift)."""
    colours = {t: TEAM_COLOURS[i % len(TEAM_COLOURS)] for i, t in enumerate(teams)}
    return colours | OTHER_TEAM_COLOURS


def allocation_area(
    weekly: pd.DataFrame, title: str, reorgs: Sequence[tuple[dt.date, str]] = ()
) -> go.Figure:
    """Stacked FTE by category per period. Columns: period, category, fte."""
    fig = go.Figure()
    categories = list(dict.fromkeys(weekly["category"]))
    colours = category_colour(categories)
    for category in categories:
        rows = weekly[weekly["category"] == category]
        fig.add_trace(
            go.Scatter(
                x=rows["period"], y=rows["fte"], name=category, stackgroup="fte", mode="lines",
                line={"width": 0.5, "color": colours[category]},
                hovertemplate="%{x|%d %b %Y}: %{y:.2f} FTE<extra>" + category + "</extra>",
            )
        )  # fmt: skip
    fig.update_layout(title=title, yaxis_title="FTE", **LAYOUT)
    return _reorg_lines(fig, reorgs)


def load_chart(
    weekly: pd.DataFrame,
    baseline: float | None,
    flood_factor: float,
    drought_factor: float,
    title: str,
    reorgs: Sequence[tuple[dt.date, str]] = (),
) -> go.Figure:
    """Weekly load with its baseline and the flood and drought bands. Columns: week, load, state."""
    fig = go.Figure()
    if baseline is not None and len(weekly):
        top = max(float(weekly["load"].max(skipna=True) or 0), flood_factor * baseline) * 1.15
        fig.add_hrect(
            y0=flood_factor * baseline,
            y1=max(top, flood_factor * baseline + 0.1),
            fillcolor=STATE_COLOURS["flood"],
            opacity=0.08,
            line_width=0,
        )
        fig.add_hrect(
            y0=0,
            y1=drought_factor * baseline,
            fillcolor=STATE_COLOURS["drought"],
            opacity=0.12,
            line_width=0,
        )
        fig.add_hline(
            y=baseline,
            line_dash="dot",
            line_color="#333",
            annotation_text=f"baseline {baseline:.2f}",
            annotation_position="top left",
        )
    colours = [STATE_COLOURS.get(s or "no data", STATE_COLOURS["no data"]) for s in weekly["state"]]
    fig.add_trace(
        go.Scatter(
            x=weekly["week"], y=weekly["load"], mode="lines+markers", name="load",
            line={"color": "#1f3b57"}, marker={"color": colours, "size": 8},
            hovertemplate="week of %{x|%d %b %Y}: %{y:.2f} items in progress per person<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=title, yaxis_title="work in progress per person", showlegend=False, **LAYOUT
    )
    return _reorg_lines(fig, reorgs)


def state_strip(
    states: pd.DataFrame, title: str, reorgs: Sequence[tuple[dt.date, str]] = ()
) -> go.Figure:
    """Flood/normal/drought per team and week as a calendar strip. Columns: team, week, state."""
    order = ["drought", "normal", "flood"]
    z = states.pivot_table(index="team", columns="week", values="state", aggfunc="first")
    codes = z.apply(lambda col: col.map(lambda s: order.index(s) if s in order else None))
    fig = go.Figure(
        go.Heatmap(
            z=codes.values, x=list(z.columns), y=list(z.index), zmin=0, zmax=2, showscale=False, xgap=2, ygap=2,
            colorscale=[[0, STATE_COLOURS["drought"]], [0.5, STATE_COLOURS["normal"]], [1, STATE_COLOURS["flood"]]],
            customdata=z.values, hovertemplate="%{y}, week of %{x|%d %b %Y}: %{customdata}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(title=title, height=110 + 40 * len(z.index), **LAYOUT)
    return _reorg_lines(fig, reorgs)


def sparkline(values: pd.Series, states: pd.Series | None = None) -> go.Figure:
    colours = (
        [STATE_COLOURS.get(s or "no data", "#999") for s in states]
        if states is not None
        else "#1f3b57"
    )
    fig = go.Figure(
        go.Scatter(
            y=values,
            mode="lines+markers",
            line={"color": "#1f3b57", "width": 1.5},
            marker={"size": 4, "color": colours},
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        height=70,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        xaxis={"visible": False},
        yaxis={"visible": False},
        showlegend=False,
        template="plotly_white",
    )
    return fig


def heatmap(
    frame: pd.DataFrame,
    index: str,
    columns: str,
    values: str,
    title: str,
    colour: str = "Blues",
    labels: str | None = None,
    reorgs: Sequence[tuple[dt.date, str]] = (),
) -> go.Figure:
    """A pivot of `values` by `index` x `columns`; `labels` (e.g. "%{z}") writes each cell's value."""
    z = frame.pivot_table(index=index, columns=columns, values=values, aggfunc="sum")
    fig = go.Figure(
        go.Heatmap(
            z=z.values, x=list(z.columns), y=list(z.index), colorscale=colour, xgap=1, ygap=1,
            texttemplate=labels, hoverongaps=False,
        )
    )  # fmt: skip
    fig.update_layout(title=title, height=120 + 24 * len(z.index), **LAYOUT)
    return _reorg_lines(fig, reorgs)  # only for a date x axis


def _interval_colours(rows: pd.DataFrame) -> list[str]:
    """Green when the whole interval is a fall (durations: better), red when a rise, grey
    when it includes zero (no detectable change)."""
    return [
        "#2ca02c" if high < 0 else "#d62728" if low > 0 else "#9e9e9e"
        for low, high in zip(rows["ci_low"], rows["ci_high"], strict=True)
    ]


def reorg_intervals(comparisons: pd.DataFrame, title: str) -> go.Figure:
    """Relative change of medians with its 95% CI per metric. Columns: label, change, ci_low, ci_high.

    The axis ends at the widest bound or `INTERVAL_EDGE`, whichever is nearer: one
    interval of a few samples (+3,000%) would otherwise squeeze every other to a dot.
    What goes past the edge is cut there, a change past it drawn as an arrow at the edge;
    the hover gives the true figures, and the axis title says so.
    """
    rows = comparisons.dropna(subset=["change"])
    change, low, high = (rows[c].to_numpy(float) * 100 for c in ("change", "ci_low", "ci_high"))
    edge = min(max(100.0, float(high.max())), INTERVAL_EDGE) if len(rows) else 100.0
    x = np.minimum(change, edge)
    cut = bool((high > edge).any())
    fig = go.Figure(
        go.Scatter(
            x=x, y=rows["label"], mode="markers",
            error_x={"type": "data", "symmetric": False, "array": np.minimum(high, edge) - x, "arrayminus": x - np.minimum(low, edge)},
            marker={"size": 10, "color": _interval_colours(rows), "symbol": np.where(change > edge, "triangle-right", "circle")},
            customdata=np.round(np.column_stack([change, low, high])) + 0.0,  # no -0%
            hovertemplate="%{y}: %{customdata[0]:+.0f}% (95% CI %{customdata[1]:+.0f}% to %{customdata[2]:+.0f}%)<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=0, line_color="#555")
    fig.update_layout(
        title=title,
        xaxis_title="change of the median after the reorg (%)"
        + (f"; cut at +{edge:.0f}%" if cut else ""),
        xaxis_range=[-105, edge * 1.05],
        height=120 + 32 * len(rows),
        **LAYOUT,
    )
    return fig


def drawn(samples: pd.DataFrame) -> pd.DataFrame:
    """The rows a scatter draws as points: all of them up to `MAX_POINTS`, else a fixed
    random sample of that many, in their order (the same on every render)."""
    if len(samples) <= MAX_POINTS:
        return samples
    return samples.sample(MAX_POINTS, random_state=0).sort_index()


def scatter_with_percentiles(
    samples: pd.DataFrame,
    title: str,
    reorgs: Sequence[tuple[dt.date, str]] = (),
    percentiles: pd.DataFrame | None = None,
    total: int | None = None,
) -> go.Figure:
    """Each finished item's duration over time, with p50/p85 lines. Columns: at, hours, key.

    `percentiles` (columns period, p50, p85, in hours, e.g. `drilldown.period_percentiles`)
    draws the lines per period; without it, a 4-week rolling p50/p85 of the samples.
    Past `MAX_POINTS` items a fixed random sample of them is drawn as points (`drawn`),
    and the legend says how many of how many; `total`: the samples given are already
    `drawn` from that many (a caller that reads the hover text of the drawn ones only).
    """
    points = drawn(samples)
    total = len(samples) if total is None else total
    name = "items" if len(points) == total else f"items ({len(points):,} of {total:,} drawn)"
    fig = go.Figure(
        go.Scatter(
            x=_wall_utc(points["at"]), y=points["hours"] / 24, mode="markers", name=name, text=safe_text(points.get("key")),
            # many items: lighter, smaller points, so the percentile lines stay readable
            marker={"size": 5 if len(points) < 1500 else 3, "opacity": 0.5 if len(points) < 1500 else 0.2, "color": "#1f77b4"},
            hovertemplate="%{text}: %{y:.1f} days, done %{x|%d %b %Y}<extra></extra>",
        )
    )  # fmt: skip
    if percentiles is not None:
        for q, dash in (("p50", "solid"), ("p85", "dash")):
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime(percentiles["period"]), y=percentiles[q] / 24, mode="lines+markers",
                    name=q, line={"dash": dash, "shape": "hv", "width": 3, "color": PERCENTILE_COLOURS[q]}, marker={"size": 4},
                    hovertemplate="%{x|%d %b %Y}: " + q + " %{y:.1f} days<extra></extra>",
                )
            )  # fmt: skip
    elif len(samples) >= 5:
        ordered = samples.sort_values("at").set_index("at")["hours"] / 24
        for q, dash in ((0.5, "solid"), (0.85, "dash")):
            line = ordered.rolling("28D").quantile(q)
            fig.add_trace(
                go.Scatter(
                    x=line.index,
                    y=line.values,
                    mode="lines",
                    name=f"p{int(q * 100)} (4-week rolling)",
                    line={"dash": dash},
                )
            )
    fig.update_layout(title=title, yaxis_title="days", **LAYOUT)
    return _reorg_lines(fig, reorgs)


def histogram(hours: pd.Series, title: str) -> go.Figure:
    fig = go.Figure(go.Histogram(x=hours / 24, nbinsx=30, marker_color="#1f77b4"))
    fig.update_layout(title=title, xaxis_title="days", yaxis_title="items", **LAYOUT)
    return fig


def stacked_bars(
    frame: pd.DataFrame,
    x: str,
    parts: Sequence[str],
    title: str,
    unit: str = "hours",
    colours: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    reorgs: Sequence[tuple[dt.date, str]] = (),
) -> go.Figure:
    """Bars of `parts` stacked per `x`; `names` relabels the parts in the legend."""
    fig = go.Figure(
        [
            go.Bar(
                name=(names or {}).get(p, p),
                x=frame[x],
                y=frame[p],
                marker_color=(colours or {}).get(p),
            )
            for p in parts
        ]
    )
    fig.update_layout(barmode="stack", title=title, yaxis_title=unit, **LAYOUT)
    return _reorg_lines(fig, reorgs)


def share_bars(shares: pd.DataFrame, categories: Sequence[str], title: str) -> go.Figure:
    """Each team's time as one 100% bar split by category. Columns: team, category, share."""
    colours = category_colour(categories)
    fig = go.Figure()
    for category in categories:
        rows = shares[shares["category"] == category]
        fig.add_trace(
            go.Bar(
                y=rows["team"], x=rows["share"] * 100, name=category, orientation="h",
                marker_color=colours[category],
                hovertemplate="%{y}: %{x:.0f}%<extra>" + html.escape(category) + "</extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        barmode="stack",
        title=title,
        xaxis={"range": [0, 100], "ticksuffix": "%"},
        yaxis={"autorange": "reversed"},
        height=140 + 40 * shares["team"].nunique(),
        **(LAYOUT | {"legend": LAYOUT["legend"] | {"traceorder": "normal"}}),
    )
    return fig


def sla_scatter(
    requests: pd.DataFrame,
    ratio: str,
    title: str,
    reorgs: Sequence[tuple[dt.date, str]] = (),
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """Each request's time as a multiple of its SLA target (log scale; above 1 = breach).

    Columns: created_at, `ratio`, key, serving_team.
    """
    fig = go.Figure()
    rows = requests[requests[ratio].notna() & (requests[ratio] > 0)]
    colours = colours or team_colour(sorted(set(rows["serving_team"].dropna())))
    for team, group in rows.groupby("serving_team", sort=True):
        fig.add_trace(
            go.Scatter(
                x=group["created_at"], y=group[ratio], mode="markers", name=str(team), text=safe_text(group["key"]),
                marker={"size": 6, "opacity": 0.7, "color": colours.get(str(team), "#999")},
                hovertemplate="%{text}: %{y:.2f}x target, created %{x|%d %b %Y}<extra>" + html.escape(str(team)) + "</extra>",
            )
        )  # fmt: skip
    fig.add_hline(
        y=1,
        line_color=STATE_COLOURS["flood"],
        line_dash="dash",
        annotation_text="target",
        annotation_position="top left",
    )
    ticks = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30]
    fig.update_layout(
        title=title,
        yaxis={
            "title": "time / SLA target",
            "type": "log",
            "tickvals": ticks,
            "ticktext": [f"{t:g}x" for t in ticks],
        },
        **LAYOUT,
    )
    return _reorg_lines(fig, reorgs)


def lag_chart(coupling: pd.DataFrame, title: str) -> go.Figure:
    """Pearson r of demand with the serving team's load k weeks later, per pair.

    Columns: requesting_team, serving_team, r_by_lag (list of r for k = 0..4, None = undefined).
    """
    fig = go.Figure()
    for _, row in coupling.iterrows():
        r = [v if v is not None else None for v in row["r_by_lag"]]
        name = f"{row['requesting_team']} → {row['serving_team']}"
        fig.add_trace(
            go.Scatter(
                x=list(range(len(r))), y=r, mode="lines+markers", name=html.escape(name),
                hovertemplate="lag %{x} weeks: r = %{y:.2f}<extra>" + html.escape(name) + "</extra>",
            )
        )  # fmt: skip
    fig.add_hline(y=0, line_color="#999")
    fig.update_layout(
        title=title,
        xaxis={"title": "weeks between the requests and the serving team's load", "dtick": 1},
        yaxis={"title": "Pearson r", "range": [-1, 1]},
        **(LAYOUT | {"legend": {"orientation": "v", "x": 1.02, "y": 1}}),
    )
    return fig


def lines(
    frame: pd.DataFrame,
    x: str,
    y: str,
    colour: str,
    title: str,
    unit: str,
    reorgs: Sequence[tuple[dt.date, str]] = (),
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """One line per value of `colour`; `colours` maps those values to colours."""
    fig = go.Figure()
    for name, rows in frame.groupby(colour, sort=True):
        fig.add_trace(
            go.Scatter(
                x=rows[x],
                y=rows[y],
                mode="lines+markers",
                name=html.escape(str(name)),
                line={"color": (colours or {}).get(str(name))},
                marker={"size": 5},
            )
        )
    fig.update_layout(title=title, yaxis_title=unit, **LAYOUT)
    when = frame[x].drop_duplicates().sort_values()
    if 1 < len(when) <= FEW_POINTS and pd.api.types.is_datetime64_any_dtype(when):
        # a few weeks: a tick on each, not plotly's days between them
        fig.update_xaxes(tickvals=list(when), tickformat="%d %b %Y")
    return _reorg_lines(fig, reorgs)


def timeline(
    events: pd.DataFrame, title: str, reorgs: Sequence[tuple[dt.date, str]] = ()
) -> go.Figure:
    """Events as points on a timeline by reason. Columns: at, reason, message."""
    fig = go.Figure(
        go.Scatter(
            x=events["at"], y=events["reason"], mode="markers", text=safe_text(events.get("message")),
            marker={"size": 7, "opacity": 0.6}, hovertemplate="%{y} %{x|%d %b %Y %H:%M}<br>%{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=title, height=160 + 28 * events["reason"].nunique(), showlegend=False, **LAYOUT
    )
    return _reorg_lines(fig, reorgs)
