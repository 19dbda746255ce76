"""Generates the sandbox's synthetic organisation from a seed and a scale, with planted ground truth.

The generator plans first and writes records second. The plan (`plan`) decides, for
every member (`people`) and weekday, how many parallel "lanes" of work they carry
(driven by a data-science demand cycle of known period and, for engineers, the share of
the demand their team serves) and which work item runs in each lane on which days,
drawn from each team's target allocation. Support requests wait for work, and for a
first reply, in inverse proportion to the serving team's attention to them (its share
of lane-days on requests), so the reorg's support improvement comes from the split
itself: Enablement gives requests a larger share of its time than the Squad did. Jira issues, their
changelogs, comments and worklogs (`issues`, `epics`), and GitHub pull requests
(`pulls`) are then written so that each item is in an `active` stage while assigned to
its owner exactly on its planned days (status changes at working hours in the org
timezone; an item waits `Blocked` over its owner's days off; linked pull requests are
open inside the item's active period); the cluster (`cluster`) follows the same demand
cycle. Every part takes the run's `Context`. `sandbox.world.truth` turns the plan into
the figures the metrics must recover. `World.truth` holds: `plan`
(`sandbox.world.truth.Plan`, from which `truth_report` computes any window),
`categories`, `teams`, `weeks` (Mondays), `person_week_fte` (people x weeks x
categories, people in `World.people` order), `person_week_load`, `team_week_fte`,
`team_week_unplanned`, `team_week_load`, `team_week_state` and `team_baseline` (states
over the weeks before the clock), `demand` (`period_weeks`, `amplitude`, `phase_weeks`,
`weekly` factor, `lead_weeks`), `targets` (the planned shares per team), `attention` (per
team: the share of its lane-days on support requests), `issue_category` and
`issue_unplanned` (per issue, in `World.issues` order) and `reorg` (median support
first response and resolution hours before and after the reorg, as seen at the clock).

Determinism: one `numpy.random.default_rng(seed)` feeds every draw, consumed in a
fixed program order (people, plan, issues, pulls; see `sandbox.world.draws`); the cluster
and the identities draw from streams of their own (seeded by the seed and their name), so
a change to the people, items or pulls does not move them; no global random state, no
iteration over sets.
"""

from __future__ import annotations

import datetime as dt
import gc

import numpy as np

from sandbox.world import truth as truth_mod
from sandbox.world.cluster import build_cluster
from sandbox.world.context import Context, new_context
from sandbox.world.identities import build_identities
from sandbox.world.issue_log import IssueLog, unplanned
from sandbox.world.issues import build_issues
from sandbox.world.model import Repo, World
from sandbox.world.people import Org, build_people
from sandbox.world.plan import Work, plan_work, support_attention
from sandbox.world.pulls import build_pulls
from sandbox.world.settings import (
    BOT_TIMEZONE,
    DEMAND_AMPLITUDE,
    DEMAND_PERIOD_WEEKS,
    ORG_TIMEZONE,
    PROJECTS,
    REORG_NAME,
    REPOS,
    SCALES,
    STATUSES,
    TARGETS,
    TEAMS,
)
from sandbox.world.truth import ALL_CATEGORIES, TEAM_NAMES, Plan
from sandbox.world.workdays import at


def generate(seed: int, scale: str = "tiny", end: dt.date | None = None) -> World:
    """A whole synthetic organisation, identical for the same (seed, scale, end).

    `end` (default: today, UTC) is the clock's date: the servers start at `end` 00:00
    UTC and the world runs 21 days further so tests can advance the clock.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    end = end or dt.datetime.now(dt.UTC).date()
    # Millions of small acyclic objects: the cyclic collector would rescan them again and
    # again for nothing (about a third of the run time at `large`).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(seed, scale, end)
    finally:
        if collecting:
            gc.enable()


def _generate(seed: int, scale: str, end: dt.date) -> World:
    ctx = new_context(seed, SCALES[scale], end)
    org = build_people(ctx)
    works = plan_work(ctx, org)
    log = build_issues(ctx, org, works)
    pulls = build_pulls(ctx, org, works)
    cluster = build_cluster(ctx)
    plan = _truth_plan(ctx, org, works, log)
    last_day = end - dt.timedelta(days=1)
    truth = truth_mod.planted(plan, ctx.end_s, last_day)
    reorg_s = int(plan.day_start[ctx.reorg_day])
    truth.update(
        plan=plan,
        demand={
            "period_weeks": DEMAND_PERIOD_WEEKS,
            "amplitude": DEMAND_AMPLITUDE,
            "phase_weeks": ctx.demand_phase,
            "weekly": ctx.demand,
            # Support requests are filed as the engineers' demand-driven lanes take them
            # up, in the same week: the requesting team's demand leads the engineers'
            # load by 0 weeks.
            "lead_weeks": 0,
        },
        targets={
            TEAM_NAMES[t]: dict(zip(ALL_CATEGORIES, v, strict=True)) for t, v in TARGETS.items()
        },
        attention=dict(
            zip(TEAM_NAMES, support_attention(org, works, ctx.cal.wd_ord).tolist(), strict=True)
        ),
        issue_category=np.array([r[3] for r in log.records], dtype=np.int8),
        issue_unplanned=np.array([r[4] for r in log.records], dtype=bool),
        reorg=_reorg_medians(plan, reorg_s, ctx.clock_s),
    )
    world = World(
        seed=seed,
        scale=scale,
        start=at(ctx.cal.day_start[0]),
        clock=ctx.clock,
        end=at(ctx.end_s),
        timezone=ORG_TIMEZONE,
        teams=list(TEAMS),
        people=org.people,
        reorg_date=ctx.cal.date(ctx.reorg_day),
        reorg_name=REORG_NAME,
        statuses=list(STATUSES),
        projects=dict(PROJECTS),
        issues=[r[2] for r in log.records],
        repos=[
            Repo(name, 7_000_000 + k, f"{name.split('/')[1]} repository")
            for k, name in enumerate(REPOS)
        ],
        pulls=pulls,
        cluster=cluster,
        truth=truth,
        bot_timezone=BOT_TIMEZONE,
    )
    world.identities = build_identities(world)  # its own random stream: nothing above moves
    return world


def _truth_plan(ctx: Context, org: Org, works: list[Work], log: IssueLog) -> Plan:
    """The plan as `sandbox.world.truth` reads it: active segments per person, support requests."""
    rows = []
    for work in works:
        is_unplanned = work.issue is not None and unplanned(work.issue)
        final = len(work.stretches) - 1
        for k, (_a, _b, s, e) in enumerate(work.stretches):
            end = ctx.end_s if work.open_end and k == final else e
            rows.append(
                (work.owner, s, end, work.thing, work.category, is_unplanned, not work.as_pr)
            )
    arr = np.array(rows, dtype=np.int64).reshape(-1, 7)
    segments = {
        "person": arr[:, 0].astype(np.int32),
        "start": arr[:, 1],
        "end": arr[:, 2],
        "thing": arr[:, 3],
        "category": arr[:, 4].astype(np.int8),
        "unplanned": arr[:, 5].astype(bool),
        "item": arr[:, 6].astype(bool),
    }
    support = np.array(
        [(c, fr, done) for _, c, fr, done in log.support_rows], dtype=np.int64
    ).reshape(-1, 3)
    return Plan(
        first_day=ctx.first_day,
        day_start=np.array(ctx.cal.day_start, dtype=np.int64),
        person_team=org.person_team,
        segments=segments,
        support={
            "created": support[:, 0],
            "first_response": support[:, 1],
            "done": support[:, 2],
        },
        reorg_day=ctx.reorg_day,
    )


def _reorg_medians(plan: Plan, reorg_s: int, clock_s: int) -> dict[str, dict[str, float | None]]:
    """Median support first response and resolution (hours) before and after the reorg, as seen at the clock."""
    lo = int(plan.day_start[0])
    before = truth_mod.support_samples(plan, lo, reorg_s, clock_s)
    after = truth_mod.support_samples(plan, reorg_s, clock_s, clock_s)
    out: dict[str, dict[str, float | None]] = {}
    for k, name in enumerate(("first_response_median_hours", "resolution_median_hours")):
        out[name] = {
            "before": float(np.median(before[k])) if len(before[k]) else None,
            "after": float(np.median(after[k])) if len(after[k]) else None,
        }
    return out
