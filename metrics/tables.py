"""Tidy tables of a metrics summary (one DataFrame per section) for `--format csv`.

Built from the report dict itself, so the CSV and the JSON can never disagree. The
org-wide block appears as rows of team "(all)", as in the reorg comparisons.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

STATS = ("n", "p50", "p85", "p95")
LOAD_SUMMARY = (
    "baseline",
    "cv",
    "flood_weeks",
    "drought_weeks",
    "longest_flood",
    "longest_drought",
    "flood_share",
    "drought_share",
)


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


_BLOCK_SECTIONS = (
    "share",
    "weekly",
    "planned",
    "turnaround",
    "support",
    "load_weekly",
    "load_summary",
    "concentration",
)


def _block_rows(team: dict[str, Any], rows: dict[str, list[dict[str, Any]]]) -> None:
    """Add the rows of one team block (or the org block, team "(all)") to `rows`."""
    share, weekly, planned = rows["share"], rows["weekly"], rows["planned"]
    turnaround, support = rows["turnaround"], rows["support"]
    load_weekly, load_summary = rows["load_weekly"], rows["load_summary"]
    name = team["team"]
    allocation = team["allocation"]
    for category, value in allocation["share"].items():
        share.append(
            {
                "team": name,
                "category": category,
                "share": value,
                "fte": allocation["fte"][category],
            }
        )
    planned.append(
        {
            "team": name,
            "week": "all",
            "planned_fte": allocation["planned_fte"],
            "unplanned_fte": allocation["unplanned_fte"],
            "unplanned_share": allocation["unplanned_share"],
        }
    )
    for week in allocation["weekly"]:
        for category, fte in week["fte"].items():
            weekly.append({"team": name, "week": week["week"], "category": category, "fte": fte})
        planned.append(
            {
                "team": name,
                "week": week["week"],
                "total_fte": week["total_fte"],
                "planned_fte": week["planned_fte"],
                "unplanned_fte": week["unplanned_fte"],
            }
        )
    section = team["turnaround"]
    for metric, stats in section.items():
        if isinstance(stats, dict) and "p50" in stats:
            turnaround.append({"team": name, "metric": metric, **{k: stats[k] for k in STATS}})
    for part in ("draft", "pickup", "review"):
        stats = section["pr_breakdown_hours"][part]
        turnaround.append(
            {"team": name, "metric": f"pr_{part}_hours", **{k: stats[k] for k in STATS}}
        )
    help_ = team["support"]
    for prefix, block in (("support_", help_), ("requested_support_", help_["requested"])):
        for metric in ("first_response_hours", "resolution_hours"):
            stats = block[metric]
            turnaround.append(
                {"team": name, "metric": prefix + metric, **{k: stats[k] for k in STATS}}
            )
    support.append(
        {
            "team": name,
            "n": help_["n"],
            "open": help_["open"],
            "sla_breach_rate": help_["sla_breach_rate"],
            "first_response_breach_rate": help_["first_response_breach_rate"],
            "requested_n": help_["requested"]["n"],
            "requested_sla_breach_rate": help_["requested"]["sla_breach_rate"],
            "opened": help_["opened"],
            "resolved": help_["resolved"],
            # only the org block has it: unassigned requests are served by no team
            "unassigned": help_.get("unassigned"),
        }
    )
    # the org block has no people: its members are the teams' people, listed there
    people = [(p["person"], p) for p in team.get("people", [])]
    for person, block in [(None, team["load"]), *people]:
        load_summary.append({"team": name, "person": person, **{k: block[k] for k in LOAD_SUMMARY}})
        for week in block["weekly"]:
            load_weekly.append({"team": name, "person": person, **week})


def summary_tables(report: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Section name -> tidy frame. Sections and columns:

    Each section but concentration, coupling and reorgs has a row per team and then the
    org's rows (team "(all)", from the report's `org` block; no person rows).

    - allocation_share: team, category, share, fte (average weekly FTE)
    - allocation_weekly: team, week, category, fte
    - planned: team, week, total_fte, planned_fte, unplanned_fte (plus a row per team
      with week "all" holding the window's unplanned_share)
    - turnaround: team, metric, n, p50, p85, p95 (metrics from the `turnaround` and
      `support` sections, the PR breakdown as pr_draft_hours, pr_pickup_hours,
      pr_review_hours, and support requested by the team as requested_*)
    - support: team, n, open, sla_breach_rate, first_response_breach_rate,
      requested_n, requested_sla_breach_rate, opened, resolved, unassigned (org row only)
    - load_weekly: team, person (empty for the team row), week, load, state, members
    - load_summary: team, person, baseline, cv, flood/drought weeks, streaks, shares
    - concentration: team, members, total_fte, top1_person, top1_share, gini
    - coupling: requesting_team, serving_team, n_requests, best_lag_weeks, r, r_lag0..r_lag4
    - reorgs: date, name, team, metric, before_median, after_median, change, ci95_low,
      ci95_high, p_value, n_before, n_after
    - with a `forecast` block (`--forecast-weeks`): forecast (team, model, week,
      expected, lower_80, upper_80, lower_95, upper_95, p_flood, p_drought, members) and
      forecast_accuracy (team, horizon, mase, coverage_80, naive_coverage_80, n)
    """
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in _BLOCK_SECTIONS}
    for team in report["teams"]:
        _block_rows(team, rows)
        rows["concentration"].append({"team": team["team"], **team["concentration"]})
    if "org" in report:  # reports made before the org block existed have none
        _block_rows(report["org"], rows)
    share, weekly, planned = rows["share"], rows["weekly"], rows["planned"]
    turnaround, support = rows["turnaround"], rows["support"]
    load_weekly, load_summary = rows["load_weekly"], rows["load_summary"]
    concentration = rows["concentration"]

    coupling = []
    for pair in report["coupling"]:
        row = {k: v for k, v in pair.items() if k != "r_by_lag"}
        row.update({f"r_lag{k}": r for k, r in enumerate(pair["r_by_lag"])})
        coupling.append(row)
    tables = {
        "allocation_share": _frame(share, ["team", "category", "share", "fte"]),
        "allocation_weekly": _frame(weekly, ["team", "week", "category", "fte"]),
        "planned": _frame(
            planned,
            ["team", "week", "total_fte", "planned_fte", "unplanned_fte", "unplanned_share"],
        ),
        "turnaround": _frame(turnaround, ["team", "metric", *STATS]),
        "support": _frame(
            support,
            [
                "team",
                "n",
                "open",
                "sla_breach_rate",
                "first_response_breach_rate",
                "requested_n",
                "requested_sla_breach_rate",
                "opened",
                "resolved",
                "unassigned",
            ],
        ),
        "load_weekly": _frame(load_weekly, ["team", "person", "week", "load", "state", "members"]),
        "load_summary": _frame(load_summary, ["team", "person", *LOAD_SUMMARY]),
        "concentration": _frame(
            concentration, ["team", "members", "total_fte", "top1_person", "top1_share", "gini"]
        ),
        "coupling": _frame(
            coupling,
            [
                "requesting_team",
                "serving_team",
                "n_requests",
                "best_lag_weeks",
                "r",
                *[f"r_lag{k}" for k in range(5)],
            ],
        ),
        "reorgs": reorg_table(report["reorgs"]),
    }
    if "forecast" in report:
        tables.update(forecast_tables(report["forecast"]))
    return tables


FORECAST_WEEK: tuple[str, ...] = (
    "week",
    "expected",
    "lower_80",
    "upper_80",
    "lower_95",
    "upper_95",
    "p_flood",
    "p_drought",
    "members",
)


def forecast_tables(block: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The `forecast` block as two tidy frames: the weeks ahead and the backtest per horizon."""
    weeks, accuracy = [], []
    for team in block["teams"]:
        key = {"team": team["team"]}
        weeks += [{**key, "model": team["model"], **w} for w in team["weeks"]]
        accuracy += [{**key, **h} for h in team["backtest"]["horizons"]]
    return {
        "forecast": _frame(weeks, ["team", "model", *FORECAST_WEEK]),
        "forecast_accuracy": _frame(
            accuracy, ["team", "horizon", "mase", "coverage_80", "naive_coverage_80", "n"]
        ),
    }


def reorg_table(reorgs: list[dict[str, Any]]) -> pd.DataFrame:
    """The report's `reorgs` as one row per comparison (the `reorgs` section above)."""
    rows = []
    for reorg in reorgs:
        for row in reorg["comparisons"]:
            ci = row["ci95"] or [None, None]
            rest = {k: v for k, v in row.items() if k != "ci95"}
            rows.append(
                {
                    "date": reorg["date"],
                    "name": reorg["name"],
                    **rest,
                    "ci95_low": ci[0],
                    "ci95_high": ci[1],
                }
            )
    return _frame(
        rows,
        [
            "date",
            "name",
            "team",
            "metric",
            "before_median",
            "after_median",
            "change",
            "ci95_low",
            "ci95_high",
            "p_value",
            "n_before",
            "n_after",
        ],
    )
