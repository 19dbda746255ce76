"""The machine-readable metrics summary (`teamtide metrics`): one dict for a window and teams.

What counts for a team: the window is widened to whole ISO weeks (org timezone);
membership is judged at the moment in question. Cycle and lead time: items done in
the window whose assignee when done was a member. PR times: PRs created in the window
by members. Support: requests created in the window served by the team (percentiles
over those that have the event; `sla_breach_rate` = requests over their resolution
target, or still open past it at the window's end (or `now`, if earlier), / n).
Allocation and load: every week of the window. Durations are hours. The result is
plain JSON (no NaN, no numpy types); `tables.summary_tables` turns it into tidy frames.

Keys beyond the contract's example, per team:
- allocation: `fte` (average FTE per week by category, over the weeks begun by
  `now`), `planned_fte` / `unplanned_fte` (same average), `unplanned_share`
  (unplanned / tracked FTE, "no tracked work" excluded; null without tracked work);
  each weekly entry also has total_fte, planned_fte, unplanned_fte. `share` is null
  for every category of a team without member-days (0/0).
- turnaround: `active_time_hours`, `flow_efficiency` (per-item ratios),
  `flow_efficiency_overall` (total active / total cycle time), `skipped_start`
  (done items never started), `done_items`, `pr_breakdown_hours` (merged PRs: draft,
  pickup and review stats with their mean; the means add up to the mean time to merge).
- support: `opened` (= `n`: requests created in the window), `resolved` (requests that
  reached done in the window, whenever created), `first_response_breach_rate`, `open`
  (of those opened, still open at `now`), and `requested` (the same block for requests
  the team filed, by requesting team).
- load: `flood_share`, `drought_share`, weekly `members`; `people`: each member's own
  load series and states; `concentration`: top1_person, top1_share, gini, total_fte.
Top level: `now`, `categories`, `unassigned_support_requests`, `org`; coupling rows carry
`n_requests` and `r_by_lag`; reorgs carry their windows (`before_from`, `after_to`,
see `compare.periods`) and comparisons per selected team plus "(all)" (org-wide),
for every metric in `samples.TURNAROUND_METRICS`.

`org`: the whole organisation, whatever teams are selected, with `team` "(all)",
`teams` (the org file's teams, or those in memberships without any) and `allocation`,
`turnaround`, `support`, `load` shaped as a team's. Its members on a day are the
people in any of those teams that day, each counted once: allocation sums their
member-days (so it is the sum of the teams' FTE when no one is in two teams at once),
load is their work in progress per person. Turnaround counts items whose assignee when
done, and PRs whose author at creation, was such a member; support counts requests
served by any of the teams (and `requested`: filed by a member). An unassigned request
(no assignee now while open, or none when it was done) is served by no team (it is shown
as unassigned: docs/metrics.md, "Support requests"), so it is not in the org's served figures:
`support.unassigned` counts those opened in the window instead (the
same number as the top level's `unassigned_support_requests`). Unlike the reorgs'
"(all)" rows, work by people in no team is left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from config.schema import Config
from metrics import compare
from metrics.allocation import fte_by_week, planned_by_week, shares
from metrics.concentration import concentration_of
from metrics.coupling import coupling
from metrics.facts import Facts
from metrics.frames import Frames
from metrics.intervals import ns
from metrics.load import variability
from metrics.parts import AllocationSums, Basis, Samples, WeekParts, for_window, week_parts
from metrics.rules import category_names
from metrics.samples import ALL_TEAMS, TURNAROUND_METRICS, long_samples
from metrics.stats import describe, plain
from metrics.support import UNASSIGNED, breaches
from metrics.weeks import Window, widen


def window_of(start: dt.date, end: dt.date, config: Config) -> Window:
    """The report's window for `start`..`end`: whole ISO weeks in the org timezone."""
    return widen(start, end, config.org.timezone)


def summary(
    frames: Frames,
    config: Config,
    start: dt.date,
    end: dt.date,
    teams: list[str] | None,
    now: dt.datetime | pd.Timestamp,
    *,
    reorg_days: int = compare.DEFAULT_DAYS,
    resamples: int = compare.RESAMPLES,
    seed: int = compare.SEED,
) -> dict[str, Any]:
    """Every metric for the window `start`..`end` (widened to ISO weeks) and `teams`
    (None: the org file's teams), as of `now`. See the module docstring."""
    facts = Facts.build(frames, config, now)
    return summary_from_facts(
        facts, start, end, teams, reorg_days=reorg_days, resamples=resamples, seed=seed
    )


def summary_from_facts(
    facts: Facts,
    start: dt.date,
    end: dt.date,
    teams: list[str] | None,
    *,
    reorgs: bool = True,
    reorg_days: int = compare.DEFAULT_DAYS,
    resamples: int = compare.RESAMPLES,
    seed: int = compare.SEED,
) -> dict[str, Any]:
    """`summary` over already built facts (so callers can reuse them).

    Without `reorgs`, the `reorgs` entry is left empty: the before/after comparisons do
    not depend on the window, so a caller showing several windows (or none of the
    comparisons) takes them once from `reorg_comparisons`, over facts that need not
    cover this window.
    """
    window = widen(start, end, facts.timezone)
    return summary_from_parts(
        Basis.of(facts),
        week_parts(facts, window),
        Samples.of(facts),
        window,
        teams,
        reorgs=reorgs,
        reorg_days=reorg_days,
        resamples=resamples,
        seed=seed,
    )


def summary_from_parts(
    basis: Basis,
    parts: WeekParts,
    samples: Samples,
    window: Window,
    teams: list[str] | None,
    *,
    reorgs: bool = True,
    reorg_days: int = compare.DEFAULT_DAYS,
    resamples: int = compare.RESAMPLES,
    seed: int = compare.SEED,
    sums: AllocationSums | None = None,
) -> dict[str, Any]:
    """The summary of `window` from its parts (`metrics.parts`): freshly computed or read
    from the database's rollups, the same figures. `sums`: the allocation already summed
    (then `parts.allocation` is not read)."""
    selected = basis.teams(teams)
    org_teams = basis.teams(None)
    lo, hi = window.start_ns, window.end_ns
    as_of = pd.Timestamp(min(hi, basis.now_ns), tz="UTC")
    config = basis.config

    mine = for_window(parts, window, basis.every_team())
    sums = sums or AllocationSums.of(mine.allocation)
    by_week = sums.by_week[sums.by_week["team"] != ALL_TEAMS]
    by_person = sums.by_person[sums.by_person["team"] != ALL_TEAMS]
    categories = category_names(config)
    weekly = fte_by_week(by_week, window, selected, categories)
    planned = planned_by_week(by_week, window, selected)
    share = shares(weekly)
    items, pulls = samples.items, samples.pulls
    requests = breaches(samples.requests, as_of)
    loads = mine.loads[mine.loads["team"] != ALL_TEAMS]
    people_loads = dict(tuple(mine.people.groupby("person", sort=False)))
    members = {t: sorted(g.unique()) for t, g in by_person.groupby("team")["person"]}
    concentrated = concentration_of(by_person, selected)

    items_in = items[_between(items["at"], lo, hi)]
    pulls_in = pulls[_between(pulls["at"], lo, hi)]
    requests_in = requests[_between(requests["created_at"], lo, hi)]
    elapsed_weeks = int(np.sum(window.bounds_ns[:-1:7] <= basis.now_ns))

    team_reports = []
    for team in selected:
        team_reports.append(
            {
                "team": team,
                "allocation": _allocation(team, weekly, planned, share, categories, elapsed_weeks),
                "turnaround": _turnaround(
                    items_in[items_in["team"] == team], pulls_in[pulls_in["team"] == team]
                ),
                "support": _support([team], requests_in, requests, lo, hi),
                "load": _load(loads[loads["team"] == team], config),
                "concentration": _concentration(concentrated[concentrated["team"] == team]),
                "people": _people(members.get(team, []), people_loads, config),
            }
        )

    org_days = sums.by_week[sums.by_week["team"] == ALL_TEAMS]
    org = {
        "team": ALL_TEAMS,
        "teams": org_teams,
        "allocation": _allocation(
            ALL_TEAMS,
            fte_by_week(org_days, window, [ALL_TEAMS], categories),
            planned_by_week(org_days, window, [ALL_TEAMS]),
            shares(fte_by_week(org_days, window, [ALL_TEAMS], categories)),
            categories,
            elapsed_weeks,
        ),
        "turnaround": _turnaround(
            items_in[items_in["team"].isin(org_teams)], pulls_in[pulls_in["team"].isin(org_teams)]
        ),
        "support": {
            **_support(org_teams, requests_in, requests, lo, hi),
            "unassigned": _unassigned(requests_in),
        },
        "load": _load(mine.loads[mine.loads["team"] == ALL_TEAMS], config),
    }
    report = {
        "from": window.first_day.isoformat(),
        "to": window.last_day.isoformat(),
        "timezone": basis.timezone,
        "now": basis.now.isoformat(),
        "categories": categories,
        "teams": team_reports,
        "unassigned_support_requests": _unassigned(requests_in),
        "org": org,
        "coupling": coupling(requests, loads, window, selected).to_dict("records"),
        "reorgs": (
            _reorgs(basis, samples, selected, reorg_days, resamples, seed) if reorgs else []
        ),
    }
    return plain(report)


def reorg_comparisons(
    facts: Facts,
    teams: list[str] | None,
    *,
    reorg_days: int = compare.DEFAULT_DAYS,
    resamples: int = compare.RESAMPLES,
    seed: int = compare.SEED,
) -> list[dict[str, Any]]:
    """The report's `reorgs` entry alone, for `teams` (None: the org file's).

    The same for every window: the periods around each reorg and the samples in them
    come from the facts and `now` only, so `facts` need only cover those periods
    (`metrics.reading.reorg_span`).
    """
    return reorgs_from_parts(
        Basis.of(facts), Samples.of(facts), teams, reorg_days, resamples=resamples, seed=seed
    )


def reorgs_from_parts(
    basis: Basis,
    samples: Samples,
    teams: list[str] | None,
    reorg_days: int = compare.DEFAULT_DAYS,
    *,
    resamples: int = compare.RESAMPLES,
    seed: int = compare.SEED,
) -> list[dict[str, Any]]:
    """`reorg_comparisons` from samples that cover the reorgs' periods."""
    return plain(_reorgs(basis, samples, basis.teams(teams), reorg_days, resamples, seed))


def _between(instants: pd.Series, lo: int, hi: int) -> np.ndarray:
    values = ns(instants) if len(instants) else np.array([], np.int64)
    return (values >= lo) & (values < hi)


def _allocation(
    team: str,
    weekly: pd.DataFrame,
    planned: pd.DataFrame,
    share: pd.DataFrame,
    categories: list[str],
    elapsed_weeks: int,
) -> dict[str, Any]:
    mine = share[share["team"] == team].set_index("category")
    fte_weeks = mine["fte"].reindex(categories, fill_value=0.0)
    shares_ = mine["share"].reindex(categories)
    plan = planned[planned["team"] == team]
    tracked, unplanned = plan["tracked_fte"].sum(), plan["unplanned_fte"].sum()
    weeks = []
    by_week = weekly[weekly["team"] == team]
    for (week, group), (_, totals) in zip(
        by_week.groupby("week", sort=True), plan.groupby("week", sort=True), strict=True
    ):
        weeks.append(
            {
                "week": week,
                "fte": dict(zip(group["category"], group["fte"], strict=True)),
                "total_fte": totals["total_fte"].iloc[0],
                "planned_fte": totals["planned_fte"].iloc[0],
                "unplanned_fte": totals["unplanned_fte"].iloc[0],
            }
        )
    return {
        # 0/0 for a team without member-days: every category is there, as null.
        "share": {c: (shares_[c] if pd.notna(shares_[c]) else None) for c in categories},
        "fte": {c: fte_weeks[c] / elapsed_weeks if elapsed_weeks else 0.0 for c in categories},
        "unplanned_share": unplanned / tracked if tracked > 0 else None,
        "planned_fte": (tracked - unplanned) / elapsed_weeks if elapsed_weeks else 0.0,
        "unplanned_fte": unplanned / elapsed_weeks if elapsed_weeks else 0.0,
        "weekly": weeks,
    }


def _turnaround(items: pd.DataFrame, pulls: pd.DataFrame) -> dict[str, Any]:
    items = items.drop_duplicates("item_id")
    pulls = pulls.drop_duplicates("pr_id")
    merged = pulls[pulls["merge_hours"].notna()]
    return {
        "cycle_time_hours": describe(items["cycle_hours"]),
        "lead_time_hours": describe(items["lead_hours"]),
        "active_time_hours": describe(items["active_hours"]),
        "flow_efficiency": describe(items["flow_efficiency"]),
        "flow_efficiency_overall": overall_efficiency(items),
        "skipped_start": int(items["skipped_start"].sum()),
        "done_items": len(items),
        "pr_first_review_hours": describe(pulls["first_review_hours"]),
        "pr_merge_hours": describe(pulls["merge_hours"]),
        "pr_breakdown_hours": {
            "n": len(merged),
            "draft": describe(merged["draft_hours"], mean=True),
            "pickup": describe(merged["pickup_hours"], mean=True),
            "review": describe(merged["review_hours"], mean=True),
        },
    }


def overall_efficiency(items: pd.DataFrame) -> float | None:
    """Total active time over total cycle time of the done items that have both: the share
    of the team's elapsed item-time that was worked. Unlike the per-item median (100% when
    most items are never blocked), long waits weigh in by their length. None without
    cycle time."""
    timed = items[items["cycle_hours"].notna() & items["active_hours"].notna()]
    cycle = float(timed["cycle_hours"].sum())
    return float(timed["active_hours"].sum()) / cycle if cycle > 0 else None


def _support_block(rows: pd.DataFrame, resolved: pd.DataFrame) -> dict[str, Any]:
    """Figures of the requests `rows` (created in the window); `resolved`: those done in it."""
    n = len(rows)
    return {
        "n": n,
        "opened": n,
        "resolved": len(resolved),
        "first_response_hours": describe(rows["first_response_hours"]),
        "resolution_hours": describe(rows["resolution_hours"]),
        "sla_breach_rate": float(rows["resolution_breach"].sum() / n) if n else None,
        "first_response_breach_rate": float(rows["first_response_breach"].sum() / n) if n else None,
        "open": int(rows["resolution_hours"].isna().sum()),
    }


def _support(
    teams: list[str], created_in: pd.DataFrame, every: pd.DataFrame, lo: int, hi: int
) -> dict[str, Any]:
    """The support block of the requests served by (and `requested`: filed by) any of `teams`.

    `created_in`: the requests created in the window [lo, hi); `every`: all of them, for
    `resolved` (done in the window, whenever created). A request counts once however
    many of the teams its person was in.
    """
    done_in = every[_between(every["done_at"], lo, hi)]

    def pick(rows: pd.DataFrame, column: str) -> pd.DataFrame:
        return rows[rows[column].isin(teams)].drop_duplicates("item_id")

    return {
        **_support_block(pick(created_in, "serving_team"), pick(done_in, "serving_team")),
        "requested": _support_block(
            pick(created_in, "requesting_team"), pick(done_in, "requesting_team")
        ),
    }


def _unassigned(created_in: pd.DataFrame) -> int:
    """Requests created in the window with no assignee (open, or done by nobody assigned)."""
    rows = created_in[created_in["serving_team"] == UNASSIGNED]
    return int(rows["item_id"].nunique())


def _load(rows: pd.DataFrame, config: Config) -> dict[str, Any]:
    summary = variability(rows["load"].to_numpy(), config.load)
    states = summary.pop("states")
    weekly = [
        {"week": week, "load": load, "state": state, "members": members}
        for week, load, state, members in zip(
            rows["week"], rows["load"], states, rows["members"], strict=True
        )
    ]
    return {**summary, "weekly": weekly}


def _concentration(row: pd.DataFrame) -> dict[str, Any]:
    if row.empty:
        return {
            "members": 0,
            "total_fte": 0.0,
            "top1_person": None,
            "top1_share": None,
            "gini": None,
        }
    return row.drop(columns="team").iloc[0].to_dict()


def _people(
    members: list[str], loads: dict[str, pd.DataFrame], config: Config
) -> list[dict[str, Any]]:
    """Per member of the team in the window: their own load series and its states."""
    return [{"person": person, **_load(loads[person], config)} for person in members]


def _reorgs(
    basis: Basis,
    samples: Samples,
    teams: list[str],
    days: int,
    resamples: int,
    seed: int,
) -> list[dict[str, Any]]:
    reorgs = basis.config.org.reorgs
    if not reorgs:
        return []
    long = long_samples(samples.items, samples.pulls, samples.requests)
    metrics = list(TURNAROUND_METRICS)
    groups = [(team, metric) for team in teams for metric in metrics]
    groups += [(ALL_TEAMS, m) for m in metrics if not m.startswith("requested_")]
    out = []
    for reorg in reorgs:
        when = compare.periods(reorg.date, basis.now, basis.timezone, basis.data_start, days)
        table = compare.compare_periods(long, when, groups, resamples, seed)
        out.append(
            {
                "date": reorg.date.isoformat(),
                "name": reorg.name,
                "before_from": when.before_start.isoformat(),
                "after_to": when.after_end.isoformat(),
                "comparisons": table.to_dict("records"),
            }
        )
    return out
