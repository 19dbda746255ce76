"""Weekly rollups (issue 20): refresh cost, and `teamtide metrics` from them, on SQLite and PostgreSQL.

For each scale a world is loaded by the collectors without HTTP (`benchmarks/loader.py`,
cached under `.bench/`) and copied, so the cache stays as built: into a temporary SQLite
file, and table by table into a fresh PostgreSQL schema (`TEAMTIDE_TEST_DATABASE_URL`,
else `postgresql://postgres@127.0.0.1:5432/test`). Then, per database, in this process:

- the full refresh (the first one, every week of the history);
- an incremental refresh after 0.1%, 1% and 5% of the work items were stored again by a
  sync (the most recently updated ones, as an incremental sync brings them), the clock
  moved on by a day: what the scheduler pays after each sync (each from the full
  refresh's state: the refresh is rolled back);
- the same with nothing stored (the clock alone moves on), then `keep_results` (what the
  dashboard's default view shows, computed once per refresh);
- `teamtide metrics` for 12 months from the rollups and from the facts (fresh child
  processes: wall time and peak memory, the whole command as a user runs it).

Targets (issue 20): the incremental refresh on `large` under 10 s and growing with the
change; `teamtide metrics` 12 months on `large` under 5 s and 1 GB.

Run: `.venv/bin/python -m benchmarks.bench_rollup [--scales medium large] [--dbs sqlite postgresql]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

END = dt.date(2025, 6, 30)
PG_URL = os.environ.get("TEAMTIDE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
CHANGED_SHARES = (0.001, 0.01, 0.05)  # of the work items, stored again by a "sync"
DAY = dt.timedelta(days=1)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def copy_database(source: Engine, target: Engine) -> int:
    """Every table of the domain model, row by row in pages, into an upgraded `target`."""
    from db import models
    from db.migrate import upgrade

    upgrade(target)
    copied = 0
    for table in models.Base.metadata.sorted_tables:
        if table.name.startswith("rollup_"):
            continue
        with source.connect() as read, target.begin() as write:
            result = read.execution_options(yield_per=20_000).execute(select(table))
            for page in result.partitions():
                write.execute(table.insert(), [dict(row._mapping) for row in page])
                copied += len(page)
    with target.begin() as conn:  # ids were copied: the sequences must follow them
        if target.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))  # the planner's statistics, as a live database has
            for table in models.Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
    return copied


def databases(scale: str, wanted: list[str], work: Path) -> dict[str, tuple[str, Any]]:
    """{db: (url, config)} of copies of the cached loaded world."""
    from benchmarks import loader
    from config.load import load_config
    from db.migrate import upgrade

    loaded = loader.cached(scale, 2, END)
    out = {}
    doc = yaml.safe_load(Path(loaded.config_path).read_text())
    # An upgraded copy (a cached database may predate the rollups): the SQLite figures'
    # database, and what PostgreSQL is filled from.
    path = work / f"{scale}.db"
    shutil.copy(Path(loaded.db_url.removeprefix("sqlite:///")), path)
    sqlite_url = f"sqlite:///{path}"
    upgrade(create_engine(sqlite_url))
    for kind in wanted:
        if kind == "sqlite":
            url = sqlite_url
            engine = create_engine(url)
        else:
            schema = f"bench_{scale}_{uuid.uuid4().hex[:6]}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
            url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
            url = url.render_as_string(hide_password=False)
            engine = create_engine(url)
            began = time.perf_counter()
            rows = copy_database(create_engine(sqlite_url), engine)
            print(
                f"  {scale}: {rows:,} rows copied into PostgreSQL in {time.perf_counter() - began:.0f} s"
            )
        age_stored_rows(engine)
        engine.dispose()
        doc["database"] = {"url": url}
        config_path = work / f"{scale}-{kind}.yaml"
        config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
        out[kind] = (url, load_config(config_path), config_path, loaded.clock)
    return out


def age_stored_rows(engine: Engine) -> None:
    """Every row as stored an hour ago (the copy stamped none, or the time it was loaded):
    the sync the first refresh follows was over before it, as when a first sync ends."""
    from db import models

    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with engine.begin() as conn:
        for model in (models.WorkItem, models.PullRequest):
            conn.execute(model.__table__.update().values(stored_at=an_hour_ago))


def touch_recent_items(engine: Engine, share: float) -> int:
    """Store the most recently updated `share` of work items again, as a sync would."""
    from db import models
    from db.upsert import upsert

    w = models.WorkItem
    with engine.begin() as conn:
        total = conn.execute(select(text("count(*)")).select_from(w)).scalar_one()
        columns = [c for c in w.__table__.c if c.key not in ("id", "stored_at")]
        rows = (
            conn.execute(
                select(*columns).order_by(w.updated_at.desc()).limit(max(1, int(total * share)))
            )
            .mappings()
            .all()
        )
        upsert(conn, w, [dict(r) for r in rows], ["source", "key"])
    return len(rows)


def metrics_command(config_path: Path, start: dt.date, end: dt.date) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `teamtide metrics` in a fresh process (VmHWM:
    getrusage's maximum would include this process's, kept across exec)."""
    code = (
        "import sys, time\n"
        "from teamtide.cli import app\n"
        "t = time.perf_counter()\n"
        "try:\n"
        f"    app(['--config', {str(config_path)!r}, 'metrics', '--from', '{start}', "
        f"'--to', '{end}'], standalone_mode=False)\n"
        "finally:\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    print(f'#{time.perf_counter() - t:.3f} {int(hwm.split()[1]) / 1024:.0f}', "
        "file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("#")][-1]
    seconds, rss = line[1:].split()
    return float(seconds), float(rss)


def drop_rollups(engine: Engine) -> None:
    from db import rollups

    with engine.begin() as conn:
        rollups.clear(conn)
        conn.execute(text("DELETE FROM rollup_state"))


def run(scale: str, kinds: list[str], work: Path) -> list[dict[str, Any]]:
    from metrics import rollup

    rows = []
    for kind, (url, config, config_path, clock) in databases(scale, kinds, work).items():
        engine = create_engine(url)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with engine.begin() as conn:
            full = rollup.refresh(conn, config, clock)
        full_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        incremental = []
        for share in CHANGED_SHARES:  # each from the full refresh's state (rolled back)
            changed = touch_recent_items(engine, share)
            with engine.connect() as conn, conn.begin() as tx:
                incremental.append((share, changed, rollup.refresh(conn, config, clock + DAY)))
                tx.rollback()
            age_stored_rows(engine)
        with engine.begin() as conn:  # a day later, nothing stored since the full refresh
            quiet = rollup.refresh(conn, config, clock + 2 * DAY)
        with engine.begin() as conn:
            kept = rollup.keep_results(conn, config)
        start = (clock - dt.timedelta(days=365)).date()
        end = (clock - dt.timedelta(days=1)).date()
        from_rollups = metrics_command(config_path, start, end)
        drop_rollups(engine)
        from_facts = metrics_command(config_path, start, end)
        engine.dispose()
        row = {
            "scale": scale,
            "db": kind,
            "full": full,
            "full_rss": full_rss,
            "rss_before": before / 1024,
            "incremental": incremental,
            "quiet": quiet,
            "kept": kept,
            "metrics_rollups": from_rollups,
            "metrics_facts": from_facts,
            "load": load_average(),
        }
        rows.append(row)
        show(row)
    return rows


def show(row: dict[str, Any]) -> None:
    full, quiet = row["full"], row["quiet"]
    changes = " | ".join(
        f"{share:.1%} ({changed:,} items) stored again: {done.weeks} weeks {done.rows:,} rows "
        f"{done.seconds:.1f} s"
        for share, changed, done in row["incremental"]
    )
    print(
        f"{row['scale']:<7} {row['db']:<10} full refresh {full.weeks} weeks {full.rows:,} rows "
        f"{full.seconds:.1f} s (peak RSS {row['full_rss']:.0f} MB) | {changes} | "
        f"clock only: {quiet.weeks} weeks {quiet.seconds:.1f} s | default view kept "
        f"{row['kept'] or 0:.1f} s | metrics 12 months: rollups {row['metrics_rollups'][0]:.1f} s "
        f"{row['metrics_rollups'][1]:.0f} MB, facts {row['metrics_facts'][0]:.1f} s "
        f"{row['metrics_facts'][1]:.0f} MB | load {row['load']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["medium", "large"])
    parser.add_argument("--dbs", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench-rollup-") as tmp:
        for scale in args.scales:
            run(scale, args.dbs, Path(tmp))


if __name__ == "__main__":
    main()
