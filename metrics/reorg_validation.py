"""Validate the structure what-if on a reorg that happened: simulate it from the weeks before, compare with the weeks after.

The scenario is built from who went where (the membership history) and the routes the
planner intended; the demand is only the `weeks` before the reorg. Predicted changes
are scenario minus no-change baseline; measured changes are the weeks after minus the
weeks before (support times with the 95% bootstrap interval of metrics/compare.py).
Compared for each team the split created: its load against the split team's, and its
support first-response and resolution medians (when the scenario routes it requests);
and the same support medians over all requests ("(all)").

Loads are compared net of the season: the weeks after carry their own demand (the
data-science cycle moves every team's load together), which a replay of the weeks
before cannot know, so each part's load after is set against the pooled load of all
the split's parts after and scaled to the split team's load before. The load change
then says whether the part carries more or less than the split team did, all else
(the season) the same; the pooled loads are in the table.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics.compare import compare_samples
from metrics.facts import Facts
from metrics.load import team_load
from metrics.membership import teams_at
from metrics.scenario import NO_CHANGE, Scenario, Split
from metrics.simulation import ALL, RUNS, demand, simulate, teams_under
from metrics.support import support_requests
from metrics.weeks import widen

WEEKS = 12
COLUMNS = (
    "subject",
    "metric",
    "predicted_before",
    "predicted_after",
    "predicted_change",
    "measured_before",
    "measured_after",
    "measured_change",
    "measured_ci95",
    "direction_match",
    "inside_ci95",
    "pooled_predicted_after",
    "pooled_measured_after",
)


def split_of_reorg(facts: Facts, team: str, date: dt.date) -> dict[str, tuple[str, ...]]:
    """Who of `team` (the day before `date`) went to which team on `date`."""
    day_before = pd.Timestamp(date - dt.timedelta(days=1), tz=facts.timezone)
    on_day = pd.Timestamp(date, tz=facts.timezone) + pd.Timedelta(hours=12)
    people = facts.frames.memberships["person"].drop_duplicates().reset_index(drop=True)
    before = teams_at(
        people, pd.Series([day_before] * len(people)), facts.frames.memberships, facts.timezone
    )
    members = people.iloc[before.loc[before["team"] == team, "row"]].reset_index(drop=True)
    after = teams_at(
        members, pd.Series([on_day] * len(members)), facts.frames.memberships, facts.timezone
    )
    parts: dict[str, list[str]] = {}
    for row, new in zip(after["row"], after["team"], strict=True):
        if new != team:
            parts.setdefault(str(new), []).append(str(members.iloc[row]))
    return {k: tuple(sorted(v)) for k, v in sorted(parts.items())}


def _sign(value: float) -> int:
    return 0 if value == 0 or np.isnan(value) else int(np.sign(value))


def validate_reorg(
    facts: Facts,
    date: dt.date,
    team: str,
    routes: dict[str, str],
    rng: np.random.Generator,
    weeks: int = WEEKS,
    runs: int = RUNS,
) -> dict[str, object]:
    """Simulate the split of `team` on `date` from the `weeks` before it and compare.

    Output keys: scenario (its dict), table (rows of COLUMNS), passed (every compared
    direction matches and the predicted relative change of the (all) resolution median
    lies in the measured change's 95% interval). A row the scenario predicts nothing
    for (a team it routes no requests) has direction_match None and is not compared.
    """
    tz = facts.timezone
    before = widen(date - dt.timedelta(weeks=weeks), date - dt.timedelta(days=1), tz)
    after = widen(date, date + dt.timedelta(weeks=weeks) - dt.timedelta(days=1), tz)
    parts = split_of_reorg(facts, team, date)
    if not parts:
        raise ValueError(f"nobody left {team!r} for another team on {date}")
    scenario = Scenario(f"split of {team} on {date}", splits=(Split(team, parts, routes),))
    replay = demand(facts, before)
    base = simulate(replay, NO_CHANGE, rng, runs)
    split = simulate(replay, scenario, rng, runs)
    teams = facts.teams([*replay.teams, *parts])
    load_before = team_load(facts, before, teams).groupby("team")["load"].mean()
    real_after = team_load(facts, after, teams)
    load_after = real_after.groupby("team")["load"].mean()
    base_load = base.load.groupby("team")["load"].mean()
    split_load = split.load.groupby("team")["load"].mean()
    # the simulation's `members` x load is its active item-hours per week-hour
    simulated = split.load.assign(
        active_item_hours=split.load["load"] * split.load["members"],
        member_hours=split.load["members"],
    )
    pooled_predicted = _pooled(simulated, list(parts))
    pooled_measured = _pooled(real_after, list(parts))
    rows: list[dict[str, object]] = []
    for part in parts:
        predicted = (
            float(base_load[team]),
            float(split_load[part]) * float(base_load[team]) / pooled_predicted,
        )
        measured = (
            float(load_before[team]),
            float(load_after[part]) * float(load_before[team]) / pooled_measured,
        )
        row = _row(f"{team} -> {part}", "load", predicted, measured, None)
        row["pooled_predicted_after"] = pooled_predicted
        row["pooled_measured_after"] = pooled_measured
        rows.append(row)
    requests = support_requests(facts).drop_duplicates("item_id")

    def sample(window, serving: str | None, metric: str) -> np.ndarray:
        created = requests["created_at"]
        chosen = (created >= window.start) & (created < window.end)
        if serving is not None:
            chosen &= requests["serving_team"] == serving
        return requests.loc[chosen, f"{metric}_hours"].dropna().to_numpy(np.float64)

    def median(result, subject: str, metric: str) -> float:
        hit = result.support[
            (result.support["team"] == subject) & (result.support["metric"] == metric)
        ]
        return float(hit["median"].iloc[0]) if len(hit) else float("nan")

    # A part's support times are predicted only when the scenario routes it requests the
    # weeks before worked on; the simulation's rows for a part may otherwise hold just the
    # requests filed before the reorg and taken up by that team after it, as they were.
    routed = set(teams_under(scenario, replay)[replay.jobs["support"].to_numpy(bool)].tolist())
    for metric in ("first_response", "resolution"):
        pairs = [(ALL, ALL, None, None)] + [(f"{team} -> {p}", p, team, p) for p in parts]
        for subject, sim_after, real_before, real_after in pairs:
            sim_before = ALL if sim_after == ALL else team
            measured = compare_samples(
                sample(before, real_before, metric), sample(after, real_after, metric)
            )
            predicted = (
                median(base, sim_before, metric),
                median(split, sim_after, metric)
                if sim_after == ALL or sim_after in routed
                else float("nan"),
            )
            rows.append(
                _row(
                    subject,
                    metric,
                    predicted,
                    (measured["before_median"], measured["after_median"]),
                    measured["ci95"],
                )
            )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    overall = table[(table["subject"] == ALL) & (table["metric"] == "resolution")]
    compared = table["direction_match"].dropna()
    passed = bool(compared.all() and overall["inside_ci95"].eq(True).all())
    return {"scenario": scenario.to_dict(), "table": table, "passed": passed}


def _pooled(load: pd.DataFrame, parts: list[str]) -> float:
    """The parts' load taken together (their active item-hours over their member-hours),
    averaged over the weeks like a team's: what the season did to all of them."""
    mine = load[load["team"].isin(parts)]
    weekly = mine.groupby("week")[["active_item_hours", "member_hours"]].sum()
    weekly = weekly[weekly["member_hours"] > 0]
    return float((weekly["active_item_hours"] / weekly["member_hours"]).mean())


def _row(
    subject: str,
    metric: str,
    predicted: tuple[float, float],
    measured: tuple[float | None, float | None],
    ci95: list[float] | None,
) -> dict[str, object]:
    p0, p1 = predicted
    m0 = np.nan if measured[0] is None else measured[0]
    m1 = np.nan if measured[1] is None else measured[1]
    relative = metric != "load"  # support times compare as relative changes, like compare.py's
    p_change = (p1 - p0) / p0 if relative and p0 else p1 - p0
    m_change = (m1 - m0) / m0 if relative and m0 else m1 - m0
    return {
        "subject": subject,
        "metric": metric,
        "predicted_before": p0,
        "predicted_after": p1,
        "predicted_change": p_change,
        "measured_before": m0,
        "measured_after": m1,
        "measured_change": m_change,
        "measured_ci95": ci95,
        # None: the scenario predicts nothing here (it routes that team no requests).
        "direction_match": None if np.isnan(p_change) else _sign(p_change) == _sign(m_change),
        "inside_ci95": None
        if ci95 is None or np.isnan(p_change)
        else bool(ci95[0] <= p_change <= ci95[1]),
        "pooled_predicted_after": np.nan,
        "pooled_measured_after": np.nan,
    }
