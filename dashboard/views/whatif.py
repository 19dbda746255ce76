"""What if: try a team structure or an allocation before the reorg, and forecast a delivery date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from config.schema import Config
from dashboard import data, widgets
from db import scenarios
from db.session import make_engine
from metrics import delivery
from metrics import whatif as runner
from metrics.rules import category_names
from metrics.scenario import FteChange, Move, Route, Scenario, scenario_from_dict

BASELINE = "no change (baseline)"
EDITORS = ("director", "lead")  # who may save a scenario


def visible_people(config: Config, viewer: Any) -> list[str]:
    """People of the teams whose person-level data the viewer may see."""
    return sorted(
        p.name for p in config.org.people if any(viewer.sees_people(m.team) for m in p.memberships)
    )


@st.cache_resource(ttl=data.METRICS_TTL, max_entries=2, show_spinner=False)
def _replay_facts(url: str, config_file: str, first: dt.date, last: dt.date, now: dt.datetime):
    cfg = data.settings(config_file)
    window = cfg_window(cfg, first, last)
    with data.engine(url).connect() as conn:
        return runner.facts_for(conn, cfg, window, now)


def cfg_window(cfg: Config, first: dt.date, last: dt.date):
    from metrics.weeks import widen

    return widen(first, last, cfg.org.timezone)


@st.cache_resource(ttl=data.METRICS_TTL, max_entries=1, show_spinner=False)
def _all_facts(url: str, config_file: str, now: dt.datetime):
    with data.engine(url).connect() as conn:
        return runner.all_facts(conn, data.settings(config_file), now)


@st.cache_data(ttl=data.METRICS_TTL, max_entries=16, show_spinner=False)
def _outcome(
    url: str,
    config_file: str,
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    body: str,
    runs: int,
) -> dict[str, pd.DataFrame]:
    import json

    cfg = data.settings(config_file)
    facts = _replay_facts(url, config_file, first, last, now)
    scenario = scenario_from_dict(json.loads(body))
    tables = runner.run_facts(facts, scenario, cfg_window(cfg, first, last), runs).tables()
    return {name: frame.round(3) for name, frame in tables.items()}


def _saved(config: Config) -> list[scenarios.SavedScenario]:
    """The saved scenarios; none (with a note) on a database `teamtide init` has not upgraded."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return scenarios.listing(data.engine(config.database.read_url))
    except SQLAlchemyError:
        st.caption("No saved scenarios: the database predates them (`teamtide init` upgrades it).")
        return []


def _editor(page: widgets.Page, people: list[str]) -> Scenario:
    """The scenario being written: moves (people the viewer may see), routes, FTE changes."""
    config = page.ctx.config
    teams = page.ctx.teams
    categories = [c for c in category_names(config) if c != "no tracked work"]
    st.markdown("**Move people** (from the first day of the replay unless a date is given)")
    if people:
        moves = st.data_editor(
            pd.DataFrame(
                {"person": pd.Series([], dtype=object), "team": pd.Series([], dtype=object)}
            ),
            num_rows="dynamic",
            key="whatif-moves",
            column_config={
                "person": st.column_config.SelectboxColumn(options=people, required=True),
                "team": st.column_config.SelectboxColumn(options=teams, required=True),
            },
            width="stretch",
        )
    else:
        moves = pd.DataFrame(columns=["person", "team"])
        st.caption(
            "Your role sees team aggregates only: moving named people is for leads and "
            "directors. Routes and allocation changes are open to you."
        )
    st.markdown("**Route a kind of work to another team**")
    routes = st.data_editor(
        pd.DataFrame(
            {
                "category": pd.Series([], dtype=object),
                "from_team": pd.Series([], dtype=object),
                "team": pd.Series([], dtype=object),
            }
        ),
        num_rows="dynamic",
        key="whatif-routes",
        column_config={
            "category": st.column_config.SelectboxColumn(options=categories, required=True),
            "from_team": st.column_config.SelectboxColumn(
                "served by (any if empty)", options=teams
            ),
            "team": st.column_config.SelectboxColumn("to team", options=teams, required=True),
        },
        width="stretch",
    )
    st.markdown("**Change the allocation** (FTE more or fewer, for the delivery forecast)")
    allocation = st.data_editor(
        pd.DataFrame(
            {
                "team": pd.Series([], dtype=object),
                "category": pd.Series([], dtype=object),
                "fte": pd.Series([], dtype=float),
            }
        ),
        num_rows="dynamic",
        key="whatif-allocation",
        column_config={
            "team": st.column_config.SelectboxColumn(options=teams, required=True),
            "category": st.column_config.SelectboxColumn(options=categories, required=True),
            "fte": st.column_config.NumberColumn(step=0.5),
        },
        width="stretch",
    )
    return Scenario(
        name="",
        moves=tuple(
            Move(str(r.person), str(r.team))
            for r in moves.dropna(subset=["person", "team"]).itertuples()
            if r.person in people
        ),
        routes=tuple(
            Route(
                str(r.category), str(r.team), r.from_team if isinstance(r.from_team, str) else None
            )
            for r in routes.dropna(subset=["category", "team"]).itertuples()
        ),
        allocation=tuple(
            FteChange(str(r.team), str(r.category), float(r.fte))
            for r in allocation.dropna().itertuples()
        ),
    )


def _save(page: widgets.Page, draft: Scenario) -> None:
    if page.viewer.role not in EDITORS:
        st.caption("Saving scenarios is for leads and directors.")
        return
    left, right, button = st.columns([2, 2, 1], vertical_alignment="bottom")
    name = left.text_input("Scenario name", key="whatif-name")
    author = right.text_input("Author", value=page.viewer.email or "", key="whatif-author")
    if button.button("Save scenario", icon=":material/save:"):
        if not name.strip() or not author.strip():
            st.warning("Give the scenario a name and an author.")
            return
        body = Scenario(name.strip(), draft.moves, draft.routes, allocation=draft.allocation)
        # The one write of the dashboard: the scenarios table, through database.url.
        engine = make_engine(page.ctx.config.database.url)
        try:
            scenarios.save(
                engine, body.name, author.strip(), body.to_dict(), dt.datetime.now(dt.UTC)
            )
        finally:
            engine.dispose()
        st.success(f"Saved scenario {body.name!r}.")


def _chart(tables: dict[str, dict[str, pd.DataFrame]], team: str) -> go.Figure:
    fig = go.Figure()
    for label, shown in tables.items():
        weekly = shown["load_by_week"]
        mine = weekly[weekly["team"] == team]
        column = "baseline" if label == BASELINE else "scenario"
        fig.add_trace(go.Scatter(x=mine["week"], y=mine[column], mode="lines+markers", name=label))
    fig.update_layout(
        title=f"{team}: load (work in progress per person) per week",
        height=320,
        margin={"l": 40, "r": 10, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def _compare(page: widgets.Page, visible: set[str]) -> None:
    saved = _saved(page.ctx.config)
    names = [BASELINE, *[s.name for s in saved]]
    by_name = {s.name: s for s in saved}
    left, right, weeks_box = st.columns([2, 2, 1])
    first = left.selectbox("Scenario A", names, index=min(1, len(names) - 1), key="whatif-a")
    second = right.selectbox("Scenario B", names, index=2 if len(names) > 2 else 0, key="whatif-b")
    weeks = weeks_box.number_input("Weeks replayed", 4, 26, runner.WEEKS, key="whatif-weeks")
    for chosen in dict.fromkeys([first, second]):
        if chosen in by_name:
            scenario = scenario_from_dict(by_name[chosen].body).redacted(visible)
            with st.expander(f"{chosen}: by {by_name[chosen].author}"):
                st.json(scenario.to_dict())
    window = runner.replay_window(page.ctx.config, page.now, int(weeks))
    st.caption(
        f"Replays the demand of {window.first_day:%d %b %Y} – {window.last_day:%d %b %Y} "
        f"({window.n_weeks} weeks), {runner.RUNS} runs each; results are against the "
        "no-change baseline, whose own error against history is shown below."
    )
    asked = (first, second, int(weeks))
    if st.button("Simulate", type="primary", icon=":material/play_arrow:"):
        st.session_state["whatif-simulated"] = asked
    # Shown until the choice changes (another button's rerun keeps it; results are cached).
    if st.session_state.get("whatif-simulated") != asked:
        return
    import json

    url, config_file, _, _, now = page.window
    results: dict[str, dict[str, pd.DataFrame]] = {}
    with st.spinner("Simulating… (a few seconds per scenario)"):
        for chosen in dict.fromkeys([first, second]):
            body = by_name[chosen].body if chosen in by_name else {"name": BASELINE}
            results[chosen] = _outcome(
                url,
                config_file,
                window.first_day,
                window.last_day,
                now,
                json.dumps(body),
                runner.RUNS,
            )
    any_result = next(iter(results.values()))
    shown = {BASELINE: any_result, **{k: v for k, v in results.items() if k != BASELINE}}
    columns = st.columns(len(shown))
    for column, (label, tables) in zip(columns, shown.items(), strict=True):
        with column:
            st.subheader(label)
            by_team = tables["load_by_team"]
            keep = ["team", "members", "baseline_load" if label == BASELINE else "scenario_load"]
            keep += ["baseline_floods" if label == BASELINE else "scenario_floods"]
            st.dataframe(by_team[keep], hide_index=True, width="stretch")
            support = tables["support"]
            value = "baseline" if label == BASELINE else "scenario"
            overall = support[support["team"] == "(all)"].set_index("metric")[value]
            for metric, text in (
                ("first_response", "Support first response (median)"),
                ("resolution", "Support resolution (median)"),
            ):
                st.metric(text, widgets.duration(overall.get(metric)))
    for team in any_result["load_by_team"]["team"]:
        widgets.chart(_chart(shown, team), f"whatif-load-{team}")
    for label, tables in results.items():
        if label == BASELINE:
            continue
        for name, frame in tables.items():
            if name.startswith("calibration"):
                continue
            widgets.table(frame, f"whatif-{label}-{name}", f"{label}: {name.replace('_', ' ')}")
    with st.expander("Calibration: the no-change run against what happened", expanded=True):
        widgets.table(
            any_result["calibration_load"],
            "whatif-calibration-load",
            "Load per team: simulated mean vs actual (MAE, relative error)",
        )
        widgets.table(
            any_result["calibration_support"],
            "whatif-calibration-support",
            "Support medians (hours): simulated vs actual",
        )


def _forecast(page: widgets.Page, draft: Scenario) -> None:
    with st.form("whatif-forecast"):
        left, middle, right = st.columns([2, 3, 1])
        epic = left.text_input("Epic key", key="whatif-epic")
        text = middle.text_input(
            "or a filter (epic, project, labels, key; AND)", key="whatif-filter"
        )
        extra = right.number_input("FTE change", -10.0, 10.0, 0.0, 0.5, key="whatif-fte")
        asked = st.form_submit_button("Forecast", icon=":material/event:")
    if not asked:
        return
    if not epic.strip() and not text.strip():
        st.warning("Give an epic key or a filter.")
        return
    try:
        scope = delivery.parse_scope(text) if text.strip() else delivery.Scope(epic=epic.strip())
    except ValueError as exc:
        st.warning(str(exc))
        return
    changes: dict[tuple[str, str], float] = {}
    for change in draft.allocation:  # the editor's allocation rows that concern this scope
        key = (change.team, change.category)
        changes[key] = changes.get(key, 0.0) + change.fte
    url, config_file, _, _, now = page.window
    with st.spinner("Forecasting… (10,000 runs, and the backtest over finished epics)"):
        facts = _all_facts(url, config_file, now)
        try:
            found = runner.forecast_with_backtest(facts, scope, float(extra), changes)
        except ValueError as exc:
            st.warning(str(exc))
            return
    result, checked = found["forecast"], found["backtest"]
    cells = st.columns(5)
    cells[0].metric("Remaining items", result["remaining"])
    for cell, p in zip(cells[1:4], delivery.PERCENTILES, strict=True):
        date = result[f"p{p}"]
        cell.metric(f"P{p} done by", date.isoformat() if date else "beyond 3 years")
    share = checked["share_by_p85"]
    cells[4].metric(
        "Backtest: done by P85",
        widgets.percent(share) if share is not None else "no finished epics",
        help=f"{checked['n']} finished epics forecast at their midpoint; near 85% is calibrated.",
    )
    st.caption(
        f"{result['scope']}: team {result['team']}, {result['fte']:.1f} FTE on "
        f"{', '.join(result['categories'])}, {result['throughput_per_week']:.1f} items a week "
        f"for this scope, growing by {result['growth_per_week']:.1f} a week."
    )
    figures = pd.DataFrame(
        [{k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}]
    ).assign(categories=", ".join(result["categories"]))
    widgets.table(figures.astype(str), "whatif-forecast", "The forecast")
    widgets.table(
        pd.DataFrame(checked["epics"]).astype(str),
        "whatif-backtest",
        "Backtest: each finished epic forecast at its midpoint",
    )


def render() -> None:
    page = widgets.start_page(
        "What if",
        "Try a team structure or an allocation before changing it: replay recent weeks of "
        "demand through it, beside the no-change baseline; and forecast when an epic will be done.",
    )
    widgets.definition("whatif")
    people = visible_people(page.ctx.config, page.viewer)
    st.header("Scenario")
    draft = _editor(page, people)
    _save(page, draft)
    st.header("Compare")
    _compare(page, set(people))
    st.header("Delivery forecast")
    _forecast(page, draft)


render()
