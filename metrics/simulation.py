"""Structure what-if: replay a past window's demand through another team structure (simpy), many runs.

The demand is what the window really held: every work item active in it under an
assignee (its team then is the team that served it), with its category, requesting
team, arrival (when work on it started; for a support request, the historical wait
before that is kept as it was) and effort (its active time: the `active` segments of
its timeline, see metrics/timeline.py). Demand belongs to teams and people are
capacity: moving a person changes who serves a team's queue; a route (or a split or
merge) changes which team's queue an item joins.

Each team is a pool of servers: every member brings `slots` parallel lanes (a team's
slots per person = the most items its members had active at once per member in the
window, so that history itself never waits), and the pool follows the members day by day. An item
takes a lane when one is free (first come, first served) and holds it for its active
time. Each run resamples the window's items within (team, week), so the runs' spread
shows how much of a result is the luck of one window. Outputs per team and week: the
load (active item-hours / member-hours, as metrics/load.py defines it, with the item's
active periods shifted by its wait for a lane) and its flood/drought state against the
no-change baseline's median; and support first-response and resolution times (the
historical ones plus the wait). A team whose lanes never run out needs no queue: its
waits are exactly 0, and simpy only runs from the first moment demand meets the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from metrics.facts import Facts
from metrics.intervals import ns
from metrics.membership import member_days, teams_at
from metrics.scenario import Move, Scenario
from metrics.stages import ACTIVE
from metrics.support import support_requests
from metrics.weeks import Window

RUNS = 200
DRAIN_WEEKS = 12  # the simulation runs on past the window so queues can empty
ALL = "(all)"
_HOUR_NS = 3.6e12


@dataclass(frozen=True)
class Demand:
    """The window's demand and people, in hours from the window's start."""

    window: Window
    jobs: pd.DataFrame  # item_id, team, category, requesting_team, support, arrive, effort, week
    segments: pd.DataFrame  # job, start, end: each job's active periods
    support: pd.DataFrame  # item_id, job (-1: never worked on), team, first_response, resolution
    memberships: pd.DataFrame
    slots: dict[str, float]  # person -> parallel lanes
    day_hours: np.ndarray  # hour offset of each day start, plus the window's end
    teams: list[str]


def demand(facts: Facts, window: Window) -> Demand:
    """Read the window's demand from the facts (see the module docstring)."""
    start_ns = window.start_ns
    seg = facts.segments(window)
    pick = np.flatnonzero((seg.stage == ACTIVE) & (seg.person >= 0))
    pos, person = seg.pos[pick], seg.names[seg.person[pick]]
    s_ns, e_ns = seg.start_ns[pick], seg.end_ns[pick]
    order = np.lexsort((s_ns, pos))
    pos, person, s_ns, e_ns = pos[order], person[order], s_ns[order], e_ns[order]
    firsts = np.r_[True, pos[1:] != pos[:-1]] if len(pos) else np.array([], bool)
    job_pos = pos[firsts]
    job_of_seg = np.cumsum(firsts) - 1
    first_at = pd.Series(pd.to_datetime(s_ns[firsts], utc=True))
    serving = teams_at(
        pd.Series(person[firsts], dtype=object), first_at, facts.frames.memberships, facts.timezone
    )
    serving = serving.drop_duplicates("row")
    team = np.full(len(job_pos), None, dtype=object)
    team[serving["row"].to_numpy()] = serving["team"].to_numpy(dtype=object)
    items = facts.items.iloc[job_pos].reset_index(drop=True)
    requesting = teams_at(
        items["reporter"], items["created_at"], facts.frames.memberships, facts.timezone
    ).drop_duplicates("row")
    req = np.full(len(job_pos), None, dtype=object)
    req[requesting["row"].to_numpy()] = requesting["team"].to_numpy(dtype=object)
    seg_start = (s_ns - start_ns) / _HOUR_NS
    seg_end = (e_ns - start_ns) / _HOUR_NS
    effort = np.bincount(
        job_of_seg,
        weights=np.maximum(seg_end - np.maximum(seg_start, 0), 0),
        minlength=len(job_pos),
    )
    arrive = np.maximum(seg_start[firsts], 0.0)
    jobs = pd.DataFrame(
        {
            "item_id": items["item_id"].to_numpy(),
            "team": team,
            "category": items["category"].to_numpy(dtype=object),
            "requesting_team": req,
            "support": items["support"].to_numpy(bool),
            "arrive": arrive,
            "effort": effort,
            "week": np.minimum((arrive // (7 * 24)).astype(np.int64), window.n_weeks - 1),
        }
    )
    keep = jobs["team"].notna().to_numpy() & (
        seg_start[firsts] < (window.end_ns - start_ns) / _HOUR_NS
    )
    renumber = np.cumsum(keep) - 1
    segments = pd.DataFrame({"job": renumber[job_of_seg], "start": seg_start, "end": seg_end})
    segments = segments[keep[job_of_seg]].reset_index(drop=True)
    jobs = jobs[keep].reset_index(drop=True)
    first_start = seg_start[firsts][keep]

    requests = support_requests(facts).drop_duplicates("item_id")
    created = requests["created_at"]
    inside = (created >= window.start) & (created < window.end)
    requests = requests[inside.to_numpy()].reset_index(drop=True)
    job_index = pd.Index(jobs["item_id"]).get_indexer(requests["item_id"])
    support = pd.DataFrame(
        {
            "item_id": requests["item_id"].to_numpy(),
            "job": job_index,
            # the team that took it up (the simulation's notion), else the serving team
            "team": np.where(
                job_index >= 0,
                jobs["team"].to_numpy(dtype=object)[np.maximum(job_index, 0)],
                requests["serving_team"].to_numpy(dtype=object),
            ),
            "first_response": requests["first_response_hours"].to_numpy(np.float64),
            "resolution": requests["resolution_hours"].to_numpy(np.float64),
            # created -> work started: the pickup the serving team's attention decides
            "pickup": np.where(
                job_index >= 0,
                first_start[np.maximum(job_index, 0)]
                - (ns(requests["created_at"]) - start_ns) / _HOUR_NS,
                np.nan,
            ),
        }
    )
    teams = facts.teams()
    return Demand(
        window=window,
        jobs=jobs,
        segments=segments,
        support=support,
        memberships=facts.frames.memberships,
        slots=_slots(
            jobs,
            segments,
            facts.frames.memberships,
            window,
            (window.bounds_ns - start_ns) / _HOUR_NS,
        ),
        day_hours=(window.bounds_ns - start_ns) / _HOUR_NS,
        teams=teams,
    )


def _slots(
    jobs: pd.DataFrame,
    segments: pd.DataFrame,
    memberships: pd.DataFrame,
    window: Window,
    day_hours: np.ndarray,
) -> dict[str, float]:
    """Parallel lanes per person: the most items a member of their first team in the window
    ever had active at once (the team's peak work in progress per member), so the window's
    own history never waits for a lane."""
    days = member_days(memberships, window)
    per_team: dict[str, int] = {}
    for team, rows in jobs.groupby("team", sort=False):
        arrive, effort = rows["arrive"].to_numpy(), rows["effort"].to_numpy()
        times = np.r_[arrive, arrive + effort]
        steps = np.r_[np.ones(len(arrive)), -np.ones(len(arrive))]
        order = np.lexsort((steps, times))
        busy = np.cumsum(steps[order])
        day = np.clip(
            np.searchsorted(day_hours, times[order], side="right") - 1, 0, window.n_days - 1
        )
        counts = np.bincount(days.loc[days["team"] == team, "day"], minlength=window.n_days)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_member = np.where(counts[day] > 0, busy / counts[day], 0.0)
        per_team[str(team)] = max(math.ceil(float(per_member.max(initial=1.0)) - 1e-9), 1)
    first = days.sort_values("day", kind="stable").drop_duplicates("person")
    return {
        p: float(per_team.get(t, 1)) for p, t in zip(first["person"], first["team"], strict=True)
    }


def _start_day(demand: Demand, start: object) -> object:
    return start or demand.window.first_day


def memberships_under(scenario: Scenario, demand: Demand) -> pd.DataFrame:
    """The membership history with the scenario's moves, splits and merges applied."""
    moves = list(scenario.moves)
    for split in scenario.splits:
        moves += [
            Move(p, part, split.start) for part, people in split.parts.items() for p in people
        ]
    days = member_days(demand.memberships, demand.window)
    for merge in scenario.merges:
        start = _start_day(demand, merge.start)
        day = (pd.Timestamp(start) - pd.Timestamp(demand.window.first_day)).days
        members = days[(days["team"] == merge.team) & (days["day"] >= max(day, 0))]["person"]
        moves += [Move(p, merge.into, merge.start) for p in pd.unique(members)]
    rows = demand.memberships.copy()
    for move in moves:
        start = pd.Timestamp(_start_day(demand, move.start))
        mine = rows["person"] == move.person
        if not mine.any():
            raise ValueError(f"scenario moves {move.person!r}, who has no membership")
        last = rows.loc[mine, "valid_to"]
        end = pd.NaT if last.isna().any() else last.max()
        cut = mine & (rows["valid_to"].isna() | (rows["valid_to"] >= start))
        rows.loc[cut, "valid_to"] = start - pd.Timedelta(days=1)
        rows = rows[~(mine & (rows["valid_from"] >= start))]
        new = pd.DataFrame(
            [{"person": move.person, "team": move.team, "valid_from": start, "valid_to": end}]
        )
        rows = pd.concat([rows, new], ignore_index=True)
    return rows.reset_index(drop=True)


def teams_under(scenario: Scenario, demand: Demand) -> np.ndarray:
    """Which team's queue each job joins under the scenario."""
    jobs = demand.jobs
    team = jobs["team"].to_numpy(dtype=object).copy()
    original = team.copy()
    category = jobs["category"].to_numpy(dtype=object)
    arrive = jobs["arrive"].to_numpy()

    def after(start: object) -> np.ndarray:
        day = (pd.Timestamp(_start_day(demand, start)) - pd.Timestamp(demand.window.first_day)).days
        return arrive >= demand.day_hours[min(max(day, 0), len(demand.day_hours) - 1)]

    for split in scenario.splits:
        first = next(iter(split.parts))
        hit = (original == split.team) & after(split.start)
        team[hit] = [split.routes.get(c, first) for c in category[hit]]
    for merge in scenario.merges:
        team[(original == merge.team) & after(merge.start)] = merge.into
    for route in scenario.routes:
        hit = (category == route.category) & after(route.start)
        if route.from_team:
            hit &= original == route.from_team
        if route.requesting_team:
            hit &= jobs["requesting_team"].to_numpy(dtype=object) == route.requesting_team
        team[hit] = route.team
    return team


def _capacity(demand: Demand, memberships: pd.DataFrame, teams: list[str]) -> np.ndarray:
    """Lanes per team (rows) and window day (columns), and member counts alike."""
    days = member_days(memberships, demand.window)
    index = pd.Index(teams)
    row = index.get_indexer(days["team"].to_numpy(dtype=object))
    ok = row >= 0
    lanes = np.array([demand.slots.get(p, 1.0) for p in days["person"]], dtype=np.float64)
    n_days = demand.window.n_days
    cap = np.zeros((len(teams), n_days))
    members = np.zeros((len(teams), n_days))
    np.add.at(cap, (row[ok], days["day"].to_numpy()[ok]), lanes[ok])
    np.add.at(members, (row[ok], days["day"].to_numpy()[ok]), 1.0)
    return np.stack([cap, members])


_CHUNK = 256  # items scanned at a time for the next overflow


def _next_overflow(
    t0: float,
    arrive: np.ndarray,
    end: np.ndarray,
    held_end: np.ndarray,
    cap: np.ndarray,
    day_hours: np.ndarray,
    horizon: float,
) -> float | None:
    """The first moment in [t0, horizon) at which serving every item at once would need
    more lanes than the team has that day (None: none), with `held_end` the ends of the
    items already holding a lane at t0 and `arrive`/`end` those of the items arriving from
    t0 on if none of them waited (all items arriving before `horizon`)."""
    times = np.r_[held_end, arrive, end]
    steps = np.r_[-np.ones(len(held_end)), np.ones(len(arrive)), -np.ones(len(end))]
    order = np.lexsort((steps, times))  # a release before an arrival at the same instant
    at = times[order]
    busy = len(held_end) + np.cumsum(steps[order])
    day = np.clip(np.searchsorted(day_hours, at, side="right") - 1, 0, len(cap) - 1)
    over = (busy > cap[day] + 1e-9) & (at < horizon)
    first = [float(at[np.argmax(over)])] if over.any() else []
    # A day whose lanes drop below the work already in hand overflows at its start.
    lo = np.searchsorted(day_hours[: len(cap)], t0, side="left")
    hi = np.searchsorted(day_hours[: len(cap)], horizon, side="left")
    if hi > lo:
        starts = day_hours[lo:hi]
        held = (
            len(held_end)
            - np.searchsorted(np.sort(held_end), starts, side="right")
            + np.searchsorted(arrive, starts, side="right")
            - np.searchsorted(np.sort(end), starts, side="right")
        )
        cut = held > cap[lo:hi] + 1e-9
        if cut.any():
            first.append(float(starts[np.argmax(cut)]))
    return min(first) if first else None


def _queue(
    arrive: np.ndarray, effort: np.ndarray, cap: np.ndarray, day_hours: np.ndarray, until: float
) -> np.ndarray:
    """Wait of each job for a lane of one team whose lanes follow `cap` day by day (simpy).

    Nobody waits while the work in hand fits the lanes, so simpy runs only through the
    busy periods: from the first moment demand meets the limit (a sweep over the items
    finds it) until the queue has emptied again (the last item waiting gets a lane, or an
    arrival finds a free lane and nobody waiting), with the lanes the earlier items still
    hold released as they finish; then
    the sweep looks for the next one. First come, first served throughout. Events carry
    callbacks rather than processes: the same Container, at a fraction of the cost.
    """
    n = len(arrive)
    wait = np.zeros(n)
    order = np.argsort(arrive, kind="stable")
    sorted_arrive = arrive[order]
    finish = arrive + effort  # actual ends, once waits are known
    held_end = np.zeros(0)
    as_lists = (arrive.tolist(), effort.tolist(), order.tolist())  # simpy's callbacks read them
    pos = 0
    while pos < n:
        t0 = float(sorted_arrive[pos])
        held_end = held_end[held_end > t0]
        stop = min(pos + _CHUNK, n)
        horizon = float(sorted_arrive[stop]) if stop < n else np.inf
        chunk = order[pos:stop]
        start = _next_overflow(
            t0,
            sorted_arrive[pos:stop],
            finish[chunk],
            held_end,
            cap,
            day_hours,
            horizon,
        )
        if start is None:
            held_end = np.r_[held_end, finish[chunk]]
            pos = stop
            continue
        k = max(pos, int(np.searchsorted(sorted_arrive, start, side="left")))
        held_end = np.r_[held_end, finish[order[pos:k]]]
        held_end = held_end[held_end > start]
        pos = _busy_period(*as_lists, k, start, held_end, cap, day_hours, until, wait, finish)
        decided = order[:pos]
        held_end = finish[decided][finish[decided] > (sorted_arrive[pos] if pos < n else until)]
    return wait


def _busy_period(
    arrive: list[float],
    effort: list[float],
    order: list[int],
    k: int,
    start: float,
    held_end: np.ndarray,
    cap: np.ndarray,
    day_hours: np.ndarray,
    until: float,
    wait: np.ndarray,
    finish: np.ndarray,
) -> int:
    """Run simpy from `start` (items order[k:] arrive from then on, `held_end` hold lanes)
    until the queue has emptied; fill in `wait` and `finish` of the items it served and
    return the position (in `order`) of the first item it left to the sweep."""
    env = simpy.Environment(initial_time=start)
    first_day = int(np.clip(np.searchsorted(day_hours, start, side="right") - 1, 0, len(cap) - 1))
    lanes = float(cap[first_day]) - len(held_end)
    pool = simpy.Container(env, init=max(lanes, 0.0))
    if lanes < 0:
        pool.get(-lanes)  # a cut waits for lanes to free up

    def release(_event: object) -> None:
        pool.put(1)

    def releases():  # the held lanes come back in order; only those the period reaches cost an event
        for end in np.sort(held_end).tolist():
            yield env.timeout(end - env.now)
            pool.put(1)

    def staffing():  # the team's lanes follow its members day by day
        current = float(cap[first_day])
        for d in range(first_day + 1, len(cap)):
            yield env.timeout(day_hours[d] - env.now)
            delta, current = float(cap[d]) - current, float(cap[d])
            if delta > 0:
                pool.put(delta)
            elif delta < 0:
                pool.get(-delta)

    asked: list[tuple[int, simpy.events.Event]] = []
    drained = env.event()
    drained.callbacks.append(simpy.core.StopSimulation.callback)

    def on_lane(j: int):
        def started(_event: object) -> None:
            wait[j] = env.now - arrive[j]
            finish[j] = env.now + effort[j]
            env.timeout(effort[j]).callbacks.append(release)
            if not pool.get_queue and not drained.triggered:
                # nobody waits any more: the sweep takes over from the next arrival
                drained.succeed(k + len(asked))

        return started

    def dispatcher():
        for idx in range(k, len(order)):
            j = order[idx]
            if arrive[j] > env.now:
                yield env.timeout(arrive[j] - env.now)
            if drained.triggered:  # stopped at this instant: item idx is the sweep's
                return
            if idx > k and not pool.get_queue and pool.level >= 1:
                drained.succeed(idx)  # the queue has emptied: the sweep takes over
                return
            request = pool.get(1)
            request.callbacks.append(on_lane(j))
            asked.append((j, request))

    env.process(releases())
    env.process(staffing())
    env.process(dispatcher())
    env.run(until=until)
    for j, request in asked:
        if request.callbacks is not None and request.triggered:
            # granted at this very instant, its callback not yet run
            wait[j] = env.now - arrive[j]
            finish[j] = env.now + effort[j]
        elif not request.triggered:
            wait[j] = until - arrive[j]  # still waiting at the end: censored there
            finish[j] = np.inf
    return int(drained.value) if drained.triggered else len(order)


def _attention_ratio(demand: Demand, job_team: np.ndarray) -> np.ndarray:
    """Per job: (support share of its historical team's effort) / (that of its scenario team).

    1 when a team's share is unchanged; a team with no support effort under the
    scenario keeps the factor 1 (it serves no request)."""
    jobs = demand.jobs
    effort = jobs["effort"].to_numpy()
    support = jobs["support"].to_numpy(bool)

    def shares(teams: np.ndarray) -> dict[object, float]:
        frame = pd.DataFrame(
            {"team": teams, "all": effort, "support": np.where(support, effort, 0.0)}
        )
        sums = frame.groupby("team")[["all", "support"]].sum()
        return (sums["support"] / sums["all"]).to_dict()

    before, after = shares(jobs["team"].to_numpy(object)), shares(job_team)
    old = np.array([before.get(t, np.nan) for t in jobs["team"]], dtype=np.float64)
    new = np.array([after.get(t, np.nan) for t in job_team], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((old > 0) & (new > 0), old / new, 1.0)
    return ratio


def _week_overlap(start: np.ndarray, end: np.ndarray, week_hours: np.ndarray) -> np.ndarray:
    """Hours of each interval inside each week (rows: intervals, columns: weeks)."""
    below = np.clip(week_hours[None, :] - start[:, None], 0, None)
    below = np.minimum(below, (end - start)[:, None])
    return np.diff(below, axis=1)


@dataclass
class Result:
    """One scenario's runs: per team and week, and per support metric."""

    scenario: Scenario
    runs: int
    load: pd.DataFrame  # team, week, members, load (mean over runs), load_p05, load_p95
    support: pd.DataFrame  # team, metric, median (mean of the runs' medians), p05, p95, n
    waits: pd.DataFrame  # team, jobs, queued_share, wait_hours_mean, unserved_share


def simulate(
    demand: Demand,
    scenario: Scenario,
    rng: np.random.Generator,
    runs: int = RUNS,
    resample: bool = True,
) -> Result:
    """Replay the demand through the scenario's structure `runs` times (`resample`
    False: every run replays the window's items exactly, for checks by hand)."""
    window = demand.window
    memberships = memberships_under(scenario, demand)
    job_team = teams_under(scenario, demand)
    teams = list(dict.fromkeys([*demand.teams, *sorted(scenario.teams() - set(demand.teams))]))
    capacity, members = _capacity(demand, memberships, teams)
    day_hours = demand.day_hours
    week_hours = day_hours[::7]
    member_hours = np.stack(
        [
            np.add.reduceat(members[t] * np.diff(day_hours), np.arange(0, window.n_days, 7))
            for t in range(len(teams))
        ]
    )
    team_code = pd.Index(teams).get_indexer(job_team)
    jobs = demand.jobs
    arrive, effort = jobs["arrive"].to_numpy(), jobs["effort"].to_numpy()
    strata = (jobs["team"].astype(str) + "|" + jobs["week"].astype(str)).to_numpy()
    groups = [np.flatnonzero(strata == s) for s in pd.unique(strata)]
    seg_job = demand.segments["job"].to_numpy()
    seg_start, seg_end = demand.segments["start"].to_numpy(), demand.segments["end"].to_numpy()
    seg_order = np.argsort(seg_job, kind="stable")
    seg_bounds = np.searchsorted(seg_job[seg_order], np.arange(len(jobs) + 1))
    # Each job's active hours per week as history had them: shared by every run, in
    # which only the jobs that waited need their hours worked out again.
    job_hours = np.zeros((len(jobs), window.n_weeks))
    np.add.at(job_hours, seg_job, _week_overlap(seg_start, seg_end, week_hours))
    until = day_hours[-1] + DRAIN_WEEKS * 7 * 24
    loads = np.zeros((runs, len(teams), window.n_weeks))
    support_rows: list[tuple[int, str, str, float]] = []
    wait_rows: list[tuple[int, str, int, float, float, float]] = []
    sup = demand.support
    sup_job = sup["job"].to_numpy()
    sup_team = np.where(
        sup_job >= 0, job_team[np.maximum(sup_job, 0)], sup["team"].to_numpy(object)
    )
    # Attention: the pickup of a request scales with 1 / the serving team's support share
    # of its effort (history's own team and share for the no-change run: a factor of 1).
    ratio = _attention_ratio(demand, job_team)[np.maximum(sup_job, 0)]
    ratio = np.where(sup_job >= 0, ratio, 1.0)
    pickup = np.nan_to_num(np.maximum(sup["pickup"].to_numpy(), 0.0))
    for r in range(runs):
        if not resample:
            picks = np.arange(len(jobs))
        elif groups:
            picks = np.concatenate([rng.choice(g, size=len(g)) for g in groups])
        else:
            picks = np.array([], np.int64)
        wait = np.zeros(len(picks))
        for t in range(len(teams)):
            mine = np.flatnonzero(team_code[picks] == t)
            if len(mine) == 0:
                continue
            a, e = arrive[picks[mine]], effort[picks[mine]]
            wait[mine] = _queue(a, e, capacity[t], day_hours, until)
            wait_rows.append(
                (
                    r,
                    teams[t],
                    len(mine),
                    float(np.mean(wait[mine] > 1e-9)),
                    float(wait[mine].mean()),
                    # never served before the simulation ended (a team with no lanes)
                    float(np.mean(wait[mine] >= until - a - 1e-9)),
                )
            )
        moved = wait > 0
        still = picks[~moved]
        by_team = np.zeros((len(teams), len(still)))
        by_team[team_code[still], np.arange(len(still))] = 1.0
        loads[r] = by_team @ job_hours[still]
        late = picks[moved]
        if len(late):
            counts = seg_bounds[late + 1] - seg_bounds[late]
            offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            rows = seg_order[np.repeat(seg_bounds[late], counts) + offsets]
            shift = np.repeat(wait[moved], counts)
            hours = _week_overlap(seg_start[rows] + shift, seg_end[rows] + shift, week_hours)
            codes = np.repeat(team_code[late], counts)
            for w in range(window.n_weeks):
                loads[r, :, w] += np.bincount(codes, weights=hours[:, w], minlength=len(teams))
        # Support: the run's support jobs, each as many times as it was drawn, plus the
        # requests nobody worked on (as they were, once each: a job is drawn once on
        # average, so neither kind outweighs the other).
        times = np.bincount(picks, minlength=len(jobs))
        waited = np.bincount(picks, weights=wait, minlength=len(jobs))
        chosen_job = np.maximum(sup_job, 0)
        copies = np.where(sup_job >= 0, times[chosen_job], 1)
        in_run = copies > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_wait = np.where(times > 0, waited / times, 0.0)
        extra = np.where(sup_job >= 0, mean_wait[chosen_job], 0.0)
        for metric in ("first_response", "resolution"):
            if metric == "first_response":
                values = sup[metric].to_numpy() * ratio + extra
            else:
                values = sup[metric].to_numpy() + (ratio - 1.0) * pickup + extra
            for team in (ALL, *sorted({str(t) for t in sup_team[in_run] if t})):
                chosen = in_run & (sup_team == team) if team != ALL else in_run
                keep = chosen & ~np.isnan(values)
                known = np.repeat(values[keep], copies[keep])
                if len(known):
                    support_rows.append((r, team, metric, float(np.median(known))))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_run = np.where(member_hours[None] > 0, loads / member_hours[None], np.nan)
    rows = []
    for t, team in enumerate(teams):
        for w in range(window.n_weeks):
            values = per_run[:, t, w]
            known = values[~np.isnan(values)]
            rows.append(
                (
                    team,
                    window.weeks[w],
                    float(member_hours[t, w] / max(week_hours[w + 1] - week_hours[w], 1e-9)),
                    float(known.mean()) if len(known) else np.nan,
                    float(np.percentile(known, 5)) if len(known) else np.nan,
                    float(np.percentile(known, 95)) if len(known) else np.nan,
                )
            )
    load = pd.DataFrame(rows, columns=["team", "week", "members", "load", "load_p05", "load_p95"])
    frame = pd.DataFrame(support_rows, columns=["run", "team", "metric", "median"])
    support = (
        frame.groupby(["team", "metric"])["median"]
        .agg(
            median="mean",
            p05=lambda v: np.percentile(v, 5),
            p95=lambda v: np.percentile(v, 95),
            runs="size",
        )
        .reset_index()
    )
    waits = pd.DataFrame(
        wait_rows,
        columns=["run", "team", "jobs", "queued_share", "wait_hours_mean", "unserved_share"],
    )
    waits = (
        waits.groupby("team", sort=False)[
            ["jobs", "queued_share", "wait_hours_mean", "unserved_share"]
        ]
        .mean()
        .reset_index()
    )
    return Result(scenario, runs, load, support, waits)
