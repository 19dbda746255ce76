"""The plan: for every member and weekday, how many parallel lanes of work they carry, and what runs in each.

Lanes follow demand: an engineer's follow the data-science demand cycle and the share of
the engineering demand their team serves per engineer (`team_lane_factor`), a data
scientist's a coin; each lane is filled with work items whose categories are drawn from
the owner's team's target allocation and whose lengths are drawn per category, the same
before and after the reorg. How fast a team picks up and answers support requests
follows its attention to them (`support_attention`), which the issues read. An item's active days may
be broken by a day or two off (it waits `Blocked`) or, rarely, continued after it was
done (reopened). Everything the records show is written from this plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sandbox.world.context import Context
from sandbox.world.model import Issue
from sandbox.world.people import Org
from sandbox.world.settings import (
    CORE,
    INFRA,
    LANE_MEAN,
    LENGTHS,
    SERVES,
    SQUAD,
    SUPPORT,
    TARGETS,
)
from sandbox.world.truth import NO_WORK
from sandbox.world.workdays import HOUR, WORK_START


@dataclass(slots=True)
class Work:
    """One planned unit of work: an item (or an unlinked pull request) in one lane of its owner."""

    owner: int
    category: int
    stretches: list[list[int]]  # [first day, last day, start s, end s]: active periods
    breaks: list[str]  # what separates stretch i from i+1: "blocked" or "reopened"
    open_end: bool  # still active at the end of the generated span
    as_pr: bool  # realised as an unlinked pull request instead of an issue
    thing: int
    issue: Issue | None = None


def plan_work(ctx: Context, org: Org) -> list[Work]:
    works: list[Work] = []
    cum = {t: _cumulative(_item_odds(t)) for t in TARGETS}
    factor = team_lane_factor(org)
    for p, st in enumerate(org.staff):
        if p == org.bot:
            continue
        a, b = st.first, min(st.last, ctx.horizon - 1)
        if b < a:
            continue
        n = b - a + 1
        day = np.arange(a, b + 1)
        row = org.person_team[p, a : b + 1]
        none_share = np.array([TARGETS[t][NO_WORK] if t >= 0 else 0.0 for t in range(4)] + [0.0])
        off = ctx.rng.random(n) < none_share[row]
        week = day // 7
        if p == org.contractor:
            lanes = np.ones(ctx.weeks, dtype=np.int64)
        elif st.engineer:
            noise = np.exp(0.15 * ctx.rng.standard_normal(ctx.weeks))
            # the team of the week's Monday (teams change on Mondays): its demand per engineer
            team = org.person_team[p, ::7][: ctx.weeks]
            demand = ctx.demand * factor[team, np.arange(ctx.weeks)]
            lanes = np.clip(np.rint(LANE_MEAN * demand * noise), 1, 6).astype(np.int64)
        else:
            lanes = 1 + (ctx.rng.random(ctx.weeks) < 0.3).astype(np.int64)
        count = np.where((day % 7 < 5) & ~off, lanes[week], 0)
        for lane in range(int(count.max(initial=0))):
            days = (np.flatnonzero(count > lane) + a).tolist()
            still_employed = st.last >= ctx.horizon - 1
            _fill_lane(ctx, org, works, p, days, cum, still_employed)
    return works


def _fill_lane(
    ctx: Context,
    org: Org,
    works: list[Work],
    p: int,
    days: list[int],
    cum: dict[int, list[float]],
    still_employed: bool,
) -> None:
    d, teams = ctx.d, org.team_rows[p]
    engineer = org.staff[p].engineer
    wd = ctx.cal.wd_ord
    prev: Work | None = None
    i = 0
    while i < len(days):
        if prev is not None and _reopenable(prev, days[i - 1], days[i], wd) and d.chance(0.04):
            want, j = 1 + d.poisson(0.4), i
            while j + 1 < len(days) and j - i + 1 < want and wd[days[j + 1]] - wd[days[j]] == 1:
                j += 1
            prev.stretches.append(_stretch(ctx, days[i], days[j]))
            prev.breaks.append("reopened")
            i = j + 1
            continue
        team = teams[days[i]]
        category = CORE if p == org.contractor else _pick_cum(d.u(), cum[team])
        want = _length(ctx, category)
        j, stretches, breaks = i, [[days[i], days[i]]], []
        while j + 1 < len(days) and j - i + 1 < want:
            gap = wd[days[j + 1]] - wd[days[j]] - 1
            if gap == 0:
                stretches[-1][1] = days[j + 1]
            elif gap <= 2 and d.chance(0.7):
                stretches.append([days[j + 1], days[j + 1]])
                breaks.append("blocked")
            else:
                break
            j += 1
        open_end = (
            j + 1 == len(days)
            and j - i + 1 < want
            and still_employed
            and ctx.horizon - 1 - days[j] <= 3
        )
        work = Work(
            owner=p,
            category=category,
            stretches=[_stretch(ctx, x, y, category == SUPPORT) for x, y in stretches],
            breaks=breaks,
            open_end=open_end,
            as_pr=engineer
            and category in (INFRA, CORE)
            and len(stretches) == 1
            and not open_end
            and p != org.contractor
            and d.chance(0.06),
            thing=len(works),
        )
        works.append(work)
        prev = work
        i = j + 1


def _stretch(ctx: Context, a: int, b: int, support: bool = False) -> list[int]:
    ds, u = ctx.cal.day_start, ctx.d.u
    if not support:
        return [a, b, ds[a] + WORK_START + int(u() * 5400), ds[b] + 16 * HOUR + int(u() * 7200)]
    # a support request is picked up at any time of day and closed as soon as it is solved
    begin = ds[a] + WORK_START + int(u() * 5 * HOUR)
    return [a, b, begin, max(ds[b] + 12 * HOUR + int(u() * 6 * HOUR), begin + HOUR)]


def _length(ctx: Context, category: int) -> int:
    base, lam = LENGTHS[category]
    return base + ctx.d.poisson(lam)


def team_lane_factor(org: Org) -> np.ndarray:
    """Per team (rows; the last row: no team) and week: how many lanes an engineer carries
    relative to the Squad's, so that a team's lanes follow the demand it serves.

    A team serves `SERVES`' categories, a share of the engineering demand equal to the
    Squad's planned share of them; its engineers share it, so the factor is that demand
    share over the team's share of the engineers that week (1 for the Squad, and for
    everyone outside the engineering teams).
    """
    squad = TARGETS[SQUAD]
    tracked = sum(squad[c] for c in SERVES[SQUAD])
    teams = len(org.week_members)
    counts = np.array(
        [[len(members) for members in org.week_members[t]] for t in range(teams)], np.float64
    )
    engineers = counts[list(SERVES)].sum(axis=0)
    factor = np.ones((teams + 1, org.weeks))
    for t, categories in SERVES.items():
        share = sum(squad[c] for c in categories) / tracked
        with np.errstate(divide="ignore", invalid="ignore"):
            factor[t] = np.where(counts[t] > 0, share * engineers / counts[t], 1.0)
    return factor


def support_attention(org: Org, works: list[Work], wd: list[int]) -> np.ndarray:
    """Per team: the share of its members' lane-days spent on support requests (0: none).

    The one rule for support times reads it: a team that gives requests more of its time
    picks them up and answers them sooner, before the reorg and after it alike.
    """
    teams = len(org.week_members)
    lane_days = np.zeros((teams, 2))
    for work in works:
        team = org.team_rows[work.owner][work.stretches[0][0]]
        if team < 0:
            continue
        n = sum(wd[b] - wd[a] + 1 for a, b, _, _ in work.stretches)
        lane_days[team, 0] += n
        if work.category == SUPPORT:
            lane_days[team, 1] += n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(lane_days[:, 0] > 0, lane_days[:, 1] / lane_days[:, 0], 0.0)


def _item_odds(team: int) -> list[float]:
    """Odds of each category per new item, so that days (item count x length) meet the team's target."""
    odds = []
    for c, share in enumerate(TARGETS[team][:NO_WORK]):
        base, lam = LENGTHS.get(c, (1, 0.0))
        odds.append(share / (base + lam))
    return odds


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    return out


def _pick_cum(u: float, cum: list[float]) -> int:
    for i, c in enumerate(cum):
        if u < c:
            return i
    return len(cum) - 1


def _reopenable(work: Work, last_day: int, next_day: int, wd: list[int]) -> bool:
    return (
        work.category != SUPPORT
        and not work.as_pr
        and not work.open_end
        and not work.breaks
        and work.stretches[-1][1] == last_day
        and wd[next_day] - wd[last_day] == 1
    )
