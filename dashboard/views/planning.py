"""Planning: each team's load for the next 12 weeks, its chance of flood and drought, and how far to trust it."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from report import forecast_charts, forecast_words

HISTORY_SHOWN = 52  # weeks of history drawn before the forecast


def render() -> None:
    page = widgets.start_page(
        "Planning",
        "Each team's expected load (work in progress per person) for the next 12 weeks, with "
        "its 80% and 95% bands and its weekly chance of flood and drought; beside it, how "
        "accurate the same forecast was over the last 26 weeks.",
        teams_of_the_window=False,
    )
    widgets.definition("forecast", "load", "coupling")
    block = data.forecast(page.ctx.url, page.ctx.config_file, page.now)
    teams = {t["team"]: t for t in block["teams"]}
    shown = [name for name in page.selected_teams if name in teams and _staffed(teams[name])]
    if not shown:
        widgets.empty("None of the selected teams has members in the coming weeks.")
        return
    overview(block, shown)
    for name in shown:
        team_section(teams[name])


# the summary table's columns in whole percent
COVERAGE = f"80% band held, 1-{forecast_words.NEAR} weeks (%)"
PEAK = "peak chance of a flood (%)"


def _staffed(team: dict[str, Any]) -> bool:
    return any(w["expected"] is not None for w in team["weeks"])


def overview(block: dict[str, Any], shown: list[str]) -> None:
    rows = pd.DataFrame(
        [{"team": t["team"], **w} for t in block["teams"] if t["team"] in shown for w in t["weeks"]]
    )
    widgets.chart(
        forecast_charts.odds_strip(rows, "Chance of a flood, per team and week ahead", teams=shown),
        "planning-odds",
    )
    summary = []
    for team in (t for t in block["teams"] if t["team"] in shown):
        mase, coverage = forecast_words.near_accuracy(team)
        summary.append(
            {
                "team": team["team"],
                "forecast": forecast_words.forecast_model(team),
                f"MASE, 1-{forecast_words.NEAR} weeks": _rounded(mase),
                COVERAGE: _percent(coverage),
                PEAK: _percent(max((w["p_flood"] or 0.0) for w in team["weeks"])),
                "drivers": forecast_words.forecast_drivers(team),
            }
        )
    # shares in whole percent, as the odds strip and the metrics beside each chart show them
    percent = st.column_config.NumberColumn(format="%d%%")
    widgets.table(
        pd.DataFrame(summary),
        "planning-summary",
        "Forecast and accuracy per team",
        column_config={COVERAGE: percent, PEAK: percent},
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _percent(share: float | None) -> int | None:
    return None if share is None else round(100 * share)


def team_section(team: dict[str, Any]) -> None:
    name = team["team"]
    st.subheader(name)
    history = pd.DataFrame(team["history"][-HISTORY_SHOWN:])
    ahead = pd.DataFrame(team["weeks"])
    for frame in (history, ahead):
        frame["week"] = pd.to_datetime(frame["week"])
    chart, accuracy = st.columns([3, 1])
    with chart:
        widgets.chart(
            forecast_charts.forecast_chart(
                history,
                ahead,
                team["flood_threshold"],
                team["drought_threshold"],
                f"{name}: load so far and the next {len(ahead)} weeks",
            ),
            f"forecast-{name}",
        )
    with accuracy:
        mase, coverage = forecast_words.near_accuracy(team)
        st.metric(
            f"MASE, 1-{forecast_words.NEAR} weeks ahead",
            widgets.number(mase, 2),
            help="Forecast error / seasonal-naive error over the backtest: below 1 is better than naive.",
        )
        st.metric(
            "80% band held",
            widgets.percent(coverage),
            help=f"Share of outcomes inside the 80% band, horizons 1-{forecast_words.NEAR}: near 80% is honest.",
        )
        if team["model"] == "seasonal naive":
            why = (
                "The model does not beat seasonal naive for this team"
                if team["backtest"]["mase_mean"] is not None
                else "Too little history to test a model for this team"
            )
            st.warning(
                f"{why}: showing the seasonal-naive forecast (each week repeats the week "
                "one cycle earlier).",
                icon=":material/warning:",
            )
        else:
            st.caption(f"Model: {team['model']}.")
    widgets.chart(
        forecast_charts.team_odds_strip(ahead, f"{name}: chance of flood and drought"),
        f"odds-{name}",
    )
    st.caption(forecast_words.forecast_drivers(team))
    with st.expander(f"{name}: backtest per horizon", expanded=False):
        widgets.table(
            pd.DataFrame(team["backtest"]["horizons"]),
            f"backtest-{name}",
            f"Rolling origin over the last {team['backtest']['origins']} weeks",
        )


render()
