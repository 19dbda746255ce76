"""Dashboard render time per page on a `medium` sandbox world synced into SQLite: cold and warm.

Cold: the page's first render with every Streamlit cache empty (`st.cache_data` and
`st.cache_resource` cleared before each page and viewer), as the first visitor after a
start, an hour's expiry or a new sync sees it; the dashboard's modules are already
imported (the one-off import a new server process pays is timed and printed apart).
Warm: the median of `--runs` reruns of the same page right after, every cache filled.
The synced database is built once and kept under `.bench/` (it takes minutes), keyed by
scale and seed; `--rebuild` builds it again.

Run: `.venv/bin/python -m benchmarks.bench_dashboard` (`--scale small` for a quick look).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = (
    "overview",
    "allocation",
    "turnaround",
    "support",
    "flood",
    "planning",
    "cluster",
    "reorg",
    "health",
)
TARGET_SECONDS = 1.0
END = dt.date(2025, 6, 30)  # the sandbox worlds' clock, as in tests/synced.py


def build(scale: str, seed: int, rebuild: bool) -> Path:
    """The org file of a synced world under .bench/ (building it first when missing).

    The same steps as the tests' synced world (tests/synced.py), with GitHub's hourly
    request budget lifted: a first sync of three years of pull requests would otherwise
    wait for the next hour, as it would against the real service.
    """
    directory = ROOT / ".bench" / f"{scale}-{seed}"
    config = directory / "teamtide.yaml"
    done = directory / "synced.ok"
    if done.exists() and not rebuild:
        return config
    from collectors.org import prepare_database
    from collectors.sync import sync
    from config.load import load_config
    from sandbox.stack import SandboxStack
    from sandbox.world.generate import generate

    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (ROOT / ".bench" / ".gitignore").write_text("*\n")
    started = time.perf_counter()
    print(f"building the {scale} world (seed {seed}) and syncing it into SQLite…", flush=True)
    world = generate(seed, scale, end=END)
    with SandboxStack(world, github_rate_limit=10_000_000) as stack:
        stack.write_config(config, f"sqlite:///{directory / 'teamtide.db'}")
        engine, _ = prepare_database(load_config(config))
        outcomes = sync(engine, load_config(config), now=lambda: world.clock)
        engine.dispose()
    failed = [o for o in outcomes if o.failed]
    if failed:
        raise SystemExit(f"the sandbox sync failed: {failed}")
    done.write_text(f"{time.perf_counter() - started:.0f} s\n")
    print(f"built in {time.perf_counter() - started:.0f} s: {directory}", flush=True)
    return config


def director_config(config: Path) -> Path:
    """The same org file with person-level views on: the heaviest pages, for a director."""
    import yaml

    data = yaml.safe_load(config.read_text())
    data["access"] = {"person_level": True, "local_role": "director"}
    target = config.with_name("teamtide-director.yaml")
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def import_modules() -> float:
    """Seconds to import what the pages use: paid once per server process, by its first visitor."""
    started = time.perf_counter()
    for module in ("dashboard.data", "dashboard.widgets", "report.charts", "metrics.summary"):
        importlib.import_module(module)
    return time.perf_counter() - started


def time_page(page: str, config: Path, runs: int) -> tuple[float, float]:
    """Cold (every cache empty) and warm (median of `runs` reruns) render time of one page, in s."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["TEAMTIDE_CONFIG"] = str(config)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "views" / f"{page}.py"), default_timeout=900)
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].message}")
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="medium")
    # seed 2: the medium world of seed 1 writes an org file with one e-mail on two people
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="warm runs per page (median shown)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--config", type=Path, help="bench this org file instead of building")
    parser.add_argument("pages", nargs="*", default=list(PAGES))
    args = parser.parse_args()
    config = args.config or build(args.scale, args.seed, args.rebuild)
    if args.build_only:
        return
    viewers = {"aggregates": config, "director": director_config(config)}
    print(
        f"\nload average {load_average()}; importing the dashboard's modules: {import_modules():.2f} s"
    )
    print(
        f"{args.config or f'{args.scale} world (seed {args.seed})'}, default window (26 weeks); "
        "cold = first render "
        f"with every cache empty, warm = median of {args.runs} reruns after it; "
        f"target < {TARGET_SECONDS:.0f} s warm\n"
    )
    header = "".join(f" {v + ' cold':>17} {v + ' warm':>17}" for v in viewers)
    print(f"{'page':<12}{header}")
    slow = []
    for page in args.pages:
        cells = []
        for viewer, path in viewers.items():
            cold, warm = time_page(page, path, args.runs)
            cells.append(f" {cold:>16.2f}s {warm:>16.2f}s")
            if warm >= TARGET_SECONDS:
                slow.append(f"{page} ({viewer})")
        print(f"{page:<12}{''.join(cells)}", flush=True)
    print(
        f"\nover {TARGET_SECONDS:.0f} s warm: {', '.join(slow)}"
        if slow
        else "\nevery page under target"
    )
    print(f"load average {load_average()}")
    print(
        f"memory with every page opened by both viewers: {every_page_memory(args.pages, viewers)}"
    )


def every_page_memory(pages: list[str], viewers: dict[str, Path]) -> str:
    """This process's resident memory after every page has been opened by every viewer,
    keeping what they cached (as one dashboard process after a morning's visitors)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    for path in viewers.values():
        os.environ["TEAMTIDE_CONFIG"] = str(path)
        for page in pages:
            AppTest.from_file(
                str(ROOT / "dashboard" / "views" / f"{page}.py"), default_timeout=900
            ).run()
    status = dict(
        line.split(":", 1)
        for line in Path("/proc/self/status").read_text().splitlines()
        if ":" in line
    )
    rss, peak = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    return f"{rss:,.0f} MB resident, {peak:,.0f} MB peak"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
