"""The numbers of one week's report, read from the database through `metrics.reading`.

`figures()` reads everything the report says (and the cluster metrics) as one
JSON-ready dict that is stored in `reports.summary`; every form is then rendered from
that dict alone, so a report re-rendered after a restart is the report that was first
sent. The org's figures are the metrics' `org` block (each member of any team once);
figures stored before that block existed have none, and are still read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from config.schema import Config
from db import queries
from db.cluster_queries import cluster_frames, cluster_history
from metrics import reading, rollup
from metrics.cluster import cluster_weekly, weekly_pending
from metrics.summary import summary_from_facts
from metrics.weeks import monday as monday_of
from metrics.weeks import widen
from report.weeks import week_label

HISTORY_WEEKS = 12  # the load baseline, the streaks and the charts look back a quarter
COMPARE_WEEKS = 4  # "this week against the four weeks before"
FRESH_FOR = dt.timedelta(hours=6)  # as the Data health page: older than this is stale
SOURCE_NAMES = {"jira": "Jira", "github": "GitHub", "cluster": "the cluster"}
TURNAROUND = (
    ("cycle_time_hours", "Cycle time"),
    ("pr_first_review_hours", "PR time to first review"),
)
SUPPORT = (
    ("first_response_hours", "Support first response"),
    ("resolution_hours", "Support resolution"),
)


def figures(conn: Connection, config: Config, monday: dt.date, now: dt.datetime) -> dict[str, Any]:
    """Everything the report for the week of `monday` says, as plain JSON (see module docstring).

    Three windows of `compute`: the week itself, the `COMPARE_WEEKS` before it, and the
    `HISTORY_WEEKS` ending with it (load states, streaks, charts); one read of the
    database serves all three.
    """
    sunday = monday + dt.timedelta(days=6)
    before_start = monday - dt.timedelta(weeks=COMPARE_WEEKS)
    history_start = monday - dt.timedelta(weeks=HISTORY_WEEKS - 1)
    windows = [(monday, sunday), (before_start, monday - dt.timedelta(days=1))]
    windows.append((history_start, sunday))
    # From the weekly rollups (as of their refresh after the last sync) when they describe
    # this org file, else from the facts as of `now`: one read serves the three windows.
    kept = [rollup.summary(conn, config, first, last, None) for first, last in windows]
    if any(k is None for k in kept):
        facts = reading.facts(conn, config, history_start, sunday, now)
        kept = [summary_from_facts(facts, first, last, None) for first, last in windows]
    this, before, history = kept
    teams = [t["team"] for t in this["teams"]]
    window = widen(history_start, sunday, config.org.timezone)
    cluster = cluster_weekly(
        cluster_frames(conn, window.start.to_pydatetime(), window.end.to_pydatetime()),
        window,
        now,
        teams,
    )["usage"]
    first_sample = cluster_history(conn)["first_sample"]
    # weeks before the cluster's history are not known, not zero (None: no history at all)
    began = None if first_sample is None else first_sample.astimezone(config.org.tz).date()
    with Session(bind=conn) as session:
        states = queries.sync_states(session)
    return {
        "forecast": _forecast(conn, config, sunday, now),
        "period": week_label(monday),
        "from": this["from"],
        "to": this["to"],
        "timezone": this["timezone"],
        "now": this["now"],
        "categories": this["categories"],
        "flood_factor": config.load.flood_factor,
        "drought_factor": config.load.drought_factor,
        "reorgs": [
            {"date": r.date.isoformat(), "name": r.name}
            for r in config.org.reorgs
            if history_start <= r.date <= sunday
        ],
        "teams": [
            _team_figures(
                t,
                before["teams"][i],
                history["teams"][i],
                _gpu_by_week(cluster[cluster["team"] == t["team"]], began),
                monday,
                this["categories"],
            )
            for i, t in enumerate(this["teams"])
        ],
        # the whole org, from the metrics' own org block (each member counted once), not
        # sums of the teams: percentiles do not add up, and a person in two teams would
        # count twice; GPU waits over every namespace of the cluster, a team's or not
        "org": {
            **_team_figures(
                this["org"],
                before["org"],
                history["org"],
                _gpu_by_week(cluster, began),
                monday,
                this["categories"],
            ),
            "teams": this["org"]["teams"],
        },
        "unassigned_support_requests": this["unassigned_support_requests"],
        "freshness": _freshness(config, states, now, sunday),
    }


def _forecast(
    conn: Connection, config: Config, sunday: dt.date, now: dt.datetime
) -> list[dict[str, Any]]:
    """Each team's load forecast as it stood at the end of the report's week (or `now`, if
    earlier), without its history: what the "Coming weeks" lines say (`forecast_words`)."""
    end = dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time.min, config.org.tz)
    block = reading.forecast(conn, config, None, min(now, end.astimezone(dt.UTC)))
    return [{k: v for k, v in team.items() if k != "history"} for team in block["teams"]]


@dataclass(frozen=True)
class Gpu:
    """GPU pending pod-hours per week (Monday) and the day the cluster's history begins,
    its first sample (None: no cluster samples at all)."""

    weekly: dict[dt.date, float | None]
    began: dt.date | None

    def at(self, week: dt.date) -> float | None:
        """The week's pending pod-hours; None when not known: before the history begins,
        or rebuilt from pods (which do not record waiting)."""
        if self.began is None or week < monday_of(self.began):
            return None
        return self.weekly.get(week, 0.0)

    def unknown(self, week: dt.date) -> str | None:
        """Why the week's pending time is not known: "no samples", "before history" or
        "rebuilt" (from pods); None when it is known."""
        if self.began is None:
            return "no samples"
        if week < monday_of(self.began):
            return "before history"
        return "rebuilt" if self.at(week) is None else None


def _gpu_by_week(usage: pd.DataFrame, began: dt.date | None) -> Gpu:
    """`Gpu` over the given `team_usage` rows (a week whose pending time was rebuilt from
    pods has None)."""
    if usage.empty:
        return Gpu({}, began)
    weekly = weekly_pending(usage)
    return Gpu(
        {week: None if pd.isna(value) else float(value) for week, value in weekly.items()},
        began,
    )


def _team_figures(
    this: dict[str, Any],
    before: dict[str, Any],
    history: dict[str, Any],
    gpu: Gpu,
    monday: dt.date,
    categories: list[str],
) -> dict[str, Any]:
    """One team's figures (or the org's, from the metrics' `org` blocks)."""
    team = this["team"]
    weeks = history["load"]["weekly"]
    week = weeks[-1] if weeks else {"load": None, "state": None, "members": 0}
    earlier = [monday - dt.timedelta(weeks=k) for k in range(COMPARE_WEEKS, 0, -1)]
    alloc, alloc_before = this["allocation"], before["allocation"]
    return {
        "team": team,
        "members": week["members"] or 0,
        "allocation": [
            {
                "category": c,
                "fte": alloc["fte"][c],
                "share": alloc["share"][c],
                "fte_before": alloc_before["fte"][c],
                "share_before": alloc_before["share"][c],
            }
            for c in categories
        ],
        "unplanned_share": alloc["unplanned_share"],
        "unplanned_share_before": alloc_before["unplanned_share"],
        "turnaround": {
            key: {
                "this": _pcts(this["turnaround"][key]),
                "before": _pcts(before["turnaround"][key]),
            }
            for key, _ in TURNAROUND
        },
        "support": {
            "opened": this["support"]["opened"],
            # done this week, whenever opened (so it can exceed `opened`)
            "resolved": this["support"]["resolved"],
            "open": this["support"]["open"],
            # the org's only: requests nobody is assigned, served by no team
            "unassigned": this["support"].get("unassigned"),
            "sla_breach_rate": this["support"]["sla_breach_rate"],
            "sla_breach_rate_before": before["support"]["sla_breach_rate"],
            **{
                key: {
                    "this": _pcts(this["support"][key]),
                    "before": _pcts(before["support"][key]),
                }
                for key, _ in SUPPORT
            },
        },
        "load": {
            "load": week["load"],
            "state": week["state"],
            "streak": weeks_running([w["state"] for w in weeks]),
            "baseline": history["load"]["baseline"],
            "weekly": [{"week": w["week"], "load": w["load"], "state": w["state"]} for w in weeks],
        },
        "allocation_weekly": [
            {"week": w["week"], "fte": w["fte"]} for w in history["allocation"]["weekly"]
        ],
        "gpu_pending_hours": gpu.at(monday),
        "gpu_pending_hours_before": [gpu.at(d) for d in earlier],
        "gpu_known_from": None if gpu.began is None else gpu.began.isoformat(),
        "gpu_unknown": gpu.unknown(monday),
    }


def _pcts(block: dict[str, Any]) -> dict[str, Any]:
    return {"n": block["n"], "p50": block["p50"], "p85": block["p85"]}


def weeks_running(states: Sequence[str | None]) -> int:
    """How many weeks in a row, up to the last, have the last week's state."""
    if not states or states[-1] is None:
        return 0
    run = 0
    for state in reversed(states):
        if state != states[-1]:
            break
        run += 1
    return run


def _freshness(
    config: Config, states: list[queries.StreamStatus], now: dt.datetime, sunday: dt.date
) -> list[dict[str, Any]]:
    """Per configured source: when it last synced in full, and what is wrong if anything is."""
    week_end = dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time.min, config.org.tz)
    out = []
    for source, label in SOURCE_NAMES.items():
        if getattr(config.sources, source) is None:
            continue
        mine = [s for s in states if s.source == source]
        # the stalest stream (or repository) is what the source's figures can be trusted to
        successes = [s.last_success for s in mine]
        last = None if not mine or None in successes else min(successes)  # type: ignore[type-var]
        errors = [s.last_error for s in mine if s.last_error]
        if last is None:
            problem = "has never synced completely"
        elif errors:
            problem = f"failed on its last sync ({errors[0][:200]})"
        elif now - last <= FRESH_FOR:
            problem = None
        elif last < week_end <= now:
            problem = f"last synced on {last:%d %b %Y %H:%M} UTC, before this week ended"
        else:
            problem = f"has not synced for {_age(now - last)}"
        out.append(
            {
                "source": label,
                "last_success": last.isoformat() if last else None,
                "problem": problem,
            }
        )
    return out


def _age(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"


def measures(fig: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """A team's (or the org's) four duration measures: (key, label, {"this", "before"})."""
    return [(key, label, fig["turnaround"][key]) for key, label in TURNAROUND] + [
        (key, label, fig["support"][key]) for key, label in SUPPORT
    ]


def gpu_before(team: dict[str, Any]) -> float | None:
    """The four weeks before as a weekly average, to compare with one week: over the weeks
    whose pending time is known; None when none is (and there were weeks before)."""
    values = team["gpu_pending_hours_before"]
    known = [v for v in values if v is not None]
    if not values:
        return 0.0
    return sum(known) / len(known) if known else None


def active(team: dict[str, Any]) -> bool:
    """A team worth a section: it had members or work this week or in the weeks before."""
    return bool(team["members"]) or any(
        row["fte"] or row["fte_before"] for row in team["allocation"]
    )


def ordered_teams(figs: dict[str, Any], first_team: str | None = None) -> list[tuple[int, dict]]:
    """(chart index, team) for the teams with a section; `first_team` (a lead's) first."""
    teams = list(enumerate(t for t in figs["teams"] if active(t)))
    if first_team:
        teams.sort(key=lambda pair: pair[1]["team"] != first_team)
    return teams
