"""What-if timings: a 12-week structure replay with 200 runs, and one epic's delivery forecast.

The world is generated and fed to the engine straight from the model (as the planted-truth
tests do: no servers, no database), so the figures are the simulation's and the
forecast's own. Targets (issue 19): the replay under 10 s on `medium`; the forecast under
1 s. Run: `.venv/bin/python -m benchmarks whatif`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections import Counter

import numpy as np

from metrics import delivery
from metrics.facts import Facts
from metrics.scenario import NO_CHANGE, Move, Route, Scenario
from metrics.simulation import demand, simulate
from metrics.weeks import widen
from sandbox.world.generate import generate
from tests.metrics.test_metrics_planted_truth import frames_from_world, world_config

END = dt.date(2025, 6, 30)


def scenario_for(replay) -> Scenario:
    """Two people of the busiest team move to the next one, and its support goes with them."""
    busiest = Counter(replay.jobs["team"]).most_common(2)
    teams = [t for t, _ in busiest]
    days = replay.memberships
    people = sorted(days.loc[days["team"] == teams[0], "person"].unique())[:2]
    other = teams[1] if len(teams) > 1 else teams[0]
    return Scenario(
        "bench",
        moves=tuple(Move(p, other) for p in people),
        routes=(Route("DS support", other, from_team=teams[0]),),
    )


def measure(scale: str, runs: int) -> dict[str, object]:
    world = generate(1, scale, END)
    facts = Facts.build(frames_from_world(world), world_config(world), world.clock)
    window = widen(END - dt.timedelta(weeks=12), END - dt.timedelta(days=1), facts.timezone)
    facts.segments(window)  # the facts' shared timelines, built once for every metric
    c0, t0 = time.process_time(), time.perf_counter()
    replay = demand(facts, window)
    c1, t1 = time.process_time(), time.perf_counter()
    simulate(replay, NO_CHANGE, np.random.default_rng(0), runs)
    c2, t2 = time.process_time(), time.perf_counter()
    simulate(replay, scenario_for(replay), np.random.default_rng(0), runs)
    c3, t3 = time.process_time(), time.perf_counter()
    as_of = facts.now - np.timedelta64(28, "D")
    # the epic with the most items among those still growing in the 12 weeks before
    recent = as_of - np.timedelta64(84, "D")
    children = Counter(
        i.epic_key for i in world.issues if i.epic_key and recent <= i.created <= as_of
    )
    epic = children.most_common(1)[0][0]
    c4, t4 = time.process_time(), time.perf_counter()
    try:
        delivery.forecast(facts, delivery.Scope(epic=epic), as_of, np.random.default_rng(0))
        c5, t5 = time.process_time(), time.perf_counter()
    except ValueError as exc:  # shown in the table rather than losing the simulation's figures
        print(f"{scale}: forecast of {epic} failed: {exc}")
        c5 = t5 = float("nan")
    return {
        "scale": scale,
        "jobs": len(replay.jobs),
        "demand_s": t1 - t0,
        "no_change_s": t2 - t1,
        "scenario_s": t3 - t2,
        "forecast_s": t5 - t4,
        # CPU seconds of this process: what the code costs when other work shares the cores
        "replay_cpu_s": (c1 - c0) + (c3 - c2),
        "no_change_cpu_s": c2 - c1,
        "forecast_cpu_s": c5 - c4,
        "epic": epic,
    }


def figures(scale: str, runs: int) -> None:
    """The figures docs/metrics.md quotes: backtest, calibration, planted-reorg validation."""
    import pandas as pd

    from metrics.calibration import calibration
    from metrics.reorg_validation import validate_reorg

    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    world = generate(1, scale, END)
    facts = Facts.build(frames_from_world(world), world_config(world), world.clock)
    checked = delivery.backtest(facts, np.random.default_rng(0))
    print(f"backtest on {scale}: {checked['n']} finished epics forecast at their midpoint")
    for p in delivery.PERCENTILES:
        print(f"  share done by P{p}: {checked[f'share_by_p{p}']:.3f}")
    date = world.reorg_date
    window = widen(date - dt.timedelta(weeks=12), date - dt.timedelta(days=1), facts.timezone)
    replay = demand(facts, window)
    baseline = simulate(replay, NO_CHANGE, np.random.default_rng(0), runs)
    checked = calibration(facts, replay, baseline)
    print(f"\ncalibration: no change over the 12 weeks before {date}, {runs} runs")
    print(checked["load_by_team"].round(4).to_string(index=False))
    print(checked["support"].round(3).to_string(index=False))
    routes = {
        "Infrastructure": "Infra",
        "DS support": "Enablement",
        "Core development": "Enablement",
    }
    result = validate_reorg(facts, date, "Squad", routes, np.random.default_rng(0), runs=runs)
    print(f"\nvalidation on the planted reorg ({date}): passed = {result['passed']}")
    print(result["table"].round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["medium", "large"])
    parser.add_argument("--runs", type=int, default=None, help="200; 100 with --figures")
    parser.add_argument(
        "--figures",
        metavar="SCALE",
        help="print the backtest, calibration and reorg validation instead",
    )
    args = parser.parse_args()
    if args.figures:
        figures(args.figures, args.runs or 100)
        return
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; runs {args.runs or 200}")
    print(
        f"{'scale':<8} {'jobs':>6} {'demand s':>9} {'no change s':>12} {'scenario s':>11} "
        f"{'forecast s':>11}  cpu s: {'replay':>6} {'no change':>9} {'forecast':>8}  verdict"
    )
    for scale in args.scales:
        row = measure(scale, args.runs or 200)
        replay = row["demand_s"] + row["scenario_s"]
        verdict = []
        if scale == "medium":
            verdict.append("replay " + ("< 10 s" if replay < 10 else ">= 10 s: over target"))
        verdict.append(
            "forecast " + ("< 1 s" if row["forecast_s"] < 1 else ">= 1 s (or failed): over target")
        )
        print(
            f"{scale:<8} {row['jobs']:>6} {row['demand_s']:>9.2f} {row['no_change_s']:>12.2f} "
            f"{row['scenario_s']:>11.2f} {row['forecast_s']:>11.2f}         "
            f"{row['replay_cpu_s']:>6.2f} {row['no_change_cpu_s']:>9.2f} "
            f"{row['forecast_cpu_s']:>8.2f}  {', '.join(verdict)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
