"""Load forecast time per team (backtest and final fit) on sandbox worlds, and the Planning page's cold load.

For each scale, the world is loaded into SQLite by `benchmarks.loader` (cached under
`.bench/`); the facts the forecast reads are timed apart, then one `forecast_block` over
every team with the backtest and the model fits timed per team. On the first scale the
Planning page is rendered through AppTest with every Streamlit cache empty (cold: the
first visitor after a start or a new sync) and then again (warm): on the loaded database
as it is (computed from the facts) and on a copy with its rollups refreshed, as every
sync leaves it (the forecast kept). The accuracy of each
team's forecast (MASE and 80% coverage at horizons 1-4) is printed beside its times.

With several `--seeds`, a table of each team's near-term accuracy on every seed follows,
and how many seeds meet the issue's target: one world's backtest has 20 to 26 origins,
and the spread between worlds shows how much one figure can be trusted.

Run: `.venv/bin/python -m benchmarks forecast` (or `-m benchmarks.bench_forecast --scales small
--seeds 1 2 3 4`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

END = dt.date(2025, 6, 30)  # the loaded worlds' clock
NOW = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
PAGE_TARGET_SECONDS = 3.0
TARGET_MASE = 0.8  # the accuracy target, horizons 1-4
TARGET_COVER = (0.7, 0.9)


def timed_calls(module: Any, name: str, bucket: dict[str, float], key: list[str]) -> None:
    """Wrap `module.name` so that its time adds to bucket[current team]."""
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            bucket[key[0]] += time.perf_counter() - started

    setattr(module, name, wrapper)


def bench_scale(scale: str, seed: int, rebuild: bool = False) -> tuple[Path, dict[str, Any]]:
    from sqlalchemy import create_engine

    from benchmarks.loader import cached
    from metrics import backtest, forecast, forecast_teams, reading
    from metrics.facts import Facts
    from metrics.frames import Frames

    loaded = cached(scale, seed, END, rebuild=rebuild)
    config = loaded.config()
    engine = create_engine(loaded.db_url)
    started = time.perf_counter()
    from db import queries

    with engine.connect() as conn:
        frames = Frames(
            **queries.metric_frames(conn, *reading.forecast_span(config, NOW), work_only=True)
        )
    facts = Facts.build(frames, config, NOW)
    read = time.perf_counter() - started
    engine.dispose()

    current = ["(shared)"]
    tests: dict[str, float] = defaultdict(float)
    fits: dict[str, float] = defaultdict(float)
    teams: dict[str, float] = defaultdict(float)
    timed_calls(backtest, "backtest", tests, current)
    original_team = forecast_teams._team

    def team(facts_: Any, name: str, *args: Any) -> Any:
        current[0] = name
        begun = time.perf_counter()
        try:
            return original_team(facts_, name, *args)
        finally:
            teams[name] += time.perf_counter() - begun
            current[0] = "(shared)"

    forecast_teams._team = team
    timed_calls(forecast, "fit", fits, current)
    started = time.perf_counter()
    block = forecast_teams.forecast_block(facts, None)
    total = time.perf_counter() - started
    forecast_teams._team = original_team
    print(
        f"\n{scale} (seed {seed}): reading the facts {read:.2f} s; forecast_block {total:.2f} s "
        f"(team loads, coupling and demand shared: {total - sum(teams.values()):.2f} s)"
    )
    print(
        f"{'team':<12}{'backtest':>10}{'fits':>8}{'team total':>12}  {'model':<16}"
        f"{'MASE h1-4':<28}{'80% coverage h1-4':<26}"
    )
    for entry in block["teams"]:
        name = entry["team"]
        near = entry["backtest"]["horizons"][:4]
        mase = " ".join("–" if h["mase"] is None else f"{h['mase']:.2f}" for h in near)
        cover = " ".join(
            "–" if h["coverage_80"] is None else f"{h['coverage_80']:.2f}" for h in near
        )
        model = "naive" if entry["model"] == "seasonal naive" else "state-space"
        print(
            f"{name:<12}{tests[name]:>9.2f}s{fits[name] - 0:>7.2f}s{teams[name]:>11.2f}s  "
            f"{model:<16}{mase:<28}{cover:<26}"
        )
    return loaded.config_path, block


def near_term(entry: dict[str, Any]) -> tuple[float | None, float | None]:
    """A team's backtest MASE and 80% coverage averaged over horizons 1-4 (None: no
    backtest)."""
    near = entry["backtest"]["horizons"][:4]
    mase = [h["mase"] for h in near if h["mase"] is not None]
    cover = [h["coverage_80"] for h in near if h["coverage_80"] is not None]
    if not mase or not cover:
        return None, None
    return sum(mase) / len(mase), sum(cover) / len(cover)


def spread(blocks: dict[tuple[str, int], dict[str, Any]]) -> None:
    """Per scale and team, the near-term accuracy on each seed, and how many seeds meet
    the target: every horizon 1-4 below `TARGET_MASE`, with coverage in `TARGET_COVER`."""
    print("\nacross seeds (MASE / 80% coverage, horizons 1-4 averaged; target: every horizon")
    print(f"MASE < {TARGET_MASE}, coverage {TARGET_COVER[0]:.0%}-{TARGET_COVER[1]:.0%})")
    seeds = sorted({seed for _, seed in blocks})
    print(
        f"{'scale':<8}{'team':<12}" + "".join(f"{'seed ' + str(s):>14}" for s in seeds) + "  meets"
    )
    for scale in dict.fromkeys(scale for scale, _ in blocks):
        names = [t["team"] for t in blocks[scale, seeds[0]]["teams"]]
        for name in names:
            cells, met = [], 0
            for seed in seeds:
                entry = next(t for t in blocks[scale, seed]["teams"] if t["team"] == name)
                mase, cover = near_term(entry)
                cells.append("–" if mase is None else f"{mase:.2f} / {cover:.2f}")
                met += meets(entry)
            print(
                f"{scale:<8}{name:<12}"
                + "".join(f"{c:>14}" for c in cells)
                + f"  {met}/{len(seeds)}"
            )


def meets(entry: dict[str, Any]) -> bool:
    near = entry["backtest"]["horizons"][:4]
    return bool(near) and all(
        h["mase"] is not None
        and h["mase"] < TARGET_MASE
        and TARGET_COVER[0] <= h["coverage_80"] <= TARGET_COVER[1]
        for h in near
    )


def with_rollups(config: Path, work: Path) -> Path:
    """A copy of the loaded database with its rollups refreshed, as `teamtide sync` leaves
    it (the forecast kept), and its org file: the Planning page's usual path."""
    import shutil

    import yaml

    from config.load import load_config
    from db.session import make_engine
    from metrics.rollup import refresh_leased

    doc = yaml.safe_load(config.read_text())
    source = Path(doc["database"]["url"].removeprefix("sqlite:///"))
    shutil.copy(source, work / "teamtide.db")
    doc["database"] = {"url": f"sqlite:///{work / 'teamtide.db'}"}
    copy = work / "teamtide.yaml"
    copy.write_text(yaml.safe_dump(doc, sort_keys=False))
    engine = make_engine(doc["database"]["url"])
    try:
        refresh_leased(engine, load_config(copy), NOW)
    finally:
        engine.dispose()
    return copy


def page_load(config: Path) -> tuple[float, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["TEAMTIDE_CONFIG"] = str(config)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "planning.py"), default_timeout=900)
    at.query_params["from"], at.query_params["to"] = "2025-01-06", "2025-06-29"
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    started = time.perf_counter()
    at.run()
    return cold, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["medium", "large"])
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[2], help="worlds to measure (default: 2)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the worlds again with the current code"
    )
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    blocks: dict[tuple[str, int], dict[str, Any]] = {}
    configs = []
    for scale in args.scales:
        for seed in args.seeds:
            config, blocks[scale, seed] = bench_scale(scale, seed, args.rebuild)
            configs.append(config)
    if len(args.seeds) > 1:
        spread(blocks)
    cold, warm = page_load(configs[0])
    print(
        f"\nPlanning page on {args.scales[0]} computed from the facts (no rollups): "
        f"cold {cold:.2f} s, warm {warm:.2f} s"
    )
    with tempfile.TemporaryDirectory() as work:
        cold, warm = page_load(with_rollups(configs[0], Path(work)))
    verdict = "under" if cold < PAGE_TARGET_SECONDS else "OVER"
    print(
        f"Planning page on {args.scales[0]} after a sync (rollups refreshed, forecast kept): "
        f"cold {cold:.2f} s ({verdict} the {PAGE_TARGET_SECONDS:.0f} s target), warm {warm:.2f} s"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
