"""`teamtide schedule`: every source and the weekly report on their schedule, safely.

APScheduler 3 keeps the jobs in the same database (its SQLAlchemy job store), so a
restart continues the schedule; missed runs are coalesced within a grace time. A lease
in the database (`db.locks`) makes a job run on one scheduler at a time even if two are
started by mistake, and every run lands in `job_runs` (and, for syncs, `sync_state`).
SIGTERM or SIGINT asks running syncs to stop after the page they are storing, then exits.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, insert, update

from db import locks, models
from db.session import make_engine
from teamtide.config import Config, Job
from teamtide.configload import load_config

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
JOB_ID_PREFIX = "teamtide-"
STOP = threading.Event()
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def trigger(job: Job, config: Config) -> IntervalTrigger | CronTrigger:
    if job.cron:
        return CronTrigger.from_crontab(job.cron, timezone=config.org.tz)
    return IntervalTrigger(seconds=round((job.every_minutes or 30) * 60), timezone=config.org.tz)


def jobs(config: Config) -> dict[str, Job]:
    """The jobs this org file asks for: each configured source, and the report if it is delivered."""
    wanted: dict[str, Job] = {}
    for name in ("jira", "github", "cluster"):
        job: Job = getattr(config.schedule, name)
        if getattr(config.sources, name) is not None and job.enabled:
            wanted[name] = job
    if config.schedule.report.enabled and (config.report.recipients or config.report.webhook_url):
        wanted["report"] = config.schedule.report
    return wanted


def _run_sync(config: Config, engine: Engine, name: str) -> tuple[str, str | None]:
    from collectors.sync import sync

    outcomes = sync(engine, config, only=[name], should_stop=STOP.is_set)
    errors = [o.error for o in outcomes if o.error] + [
        r.error for o in outcomes for r in o.results if r.error
    ]
    if STOP.is_set():
        return "stopped", None
    return ("failed", "; ".join(e for e in errors if e)[:1000]) if errors else ("ok", None)


def _run_report(config: Config, engine: Engine, name: str) -> tuple[str, str | None]:
    # Last week's report to whoever lacks it: `run_job` holds the `report` lease, which is
    # also the delivery lease, and the ledger makes a rerun or a restart send nothing twice.
    from dashboard.delivery import run_weekly

    return run_weekly(config, engine, now=_now())


RUNNERS: dict[str, Callable[[Config, Engine, str], tuple[str, str | None]]] = {
    "jira": _run_sync,
    "github": _run_sync,
    "cluster": _run_sync,
    "report": _run_report,
}


def run_job(config_path: str, name: str) -> str:
    """One run of one job under the database lease; APScheduler stores this by reference."""
    config = load_config(Path(config_path))
    engine = make_engine(config.database.url)
    try:
        with engine.begin() as conn:
            run_id = conn.execute(
                insert(models.JobRun)
                .values(job=name, holder=HOLDER, started_at=_now())
                .returning(models.JobRun.id)
            ).scalar_one()
        if not locks.acquire(engine, name, HOLDER, LEASE, _now()):
            _finish(engine, run_id, "skipped", "another scheduler is running this job")
            return "skipped"
        done = threading.Event()
        renewer = threading.Thread(target=_renew, args=(engine, name, done), daemon=True)
        renewer.start()
        try:
            outcome, detail = RUNNERS[name](config, engine, name)
        except Exception as exc:  # recorded, and the scheduler lives on
            outcome, detail = "failed", f"{type(exc).__name__}: {exc}"[:1000]
            log.exception("job %s failed", name)
        finally:
            done.set()
            renewer.join()
            locks.release(engine, name, HOLDER)
        _finish(engine, run_id, outcome, detail)
        return outcome
    finally:
        engine.dispose()


def _renew(engine: Engine, name: str, done: threading.Event) -> None:
    while not done.wait(LEASE.total_seconds() / 3):
        if not locks.renew(engine, name, HOLDER, LEASE, _now()):
            log.error("lost the lease on %s", name)
            return


def _finish(engine: Engine, run_id: int, outcome: str, detail: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(models.JobRun)
            .where(models.JobRun.id == run_id)
            .values(finished_at=_now(), outcome=outcome, detail=detail)
        )


def build(config: Config, config_path: Path, engine: Engine) -> BackgroundScheduler:
    """A paused scheduler holding this org file's jobs; a job already stored keeps its next run."""
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": config.schedule.misfire_grace_seconds,
        },
        timezone=config.org.tz,
    )
    scheduler.start(paused=True)
    wanted = jobs(config)
    for job in scheduler.get_jobs():
        if job.id.removeprefix(JOB_ID_PREFIX) not in wanted:
            job.remove()
    for name, job in wanted.items():
        job_id = JOB_ID_PREFIX + name
        new_trigger = trigger(job, config)
        kwargs: dict[str, Any] = {"args": [str(config_path.resolve()), name], "name": name}
        existing = scheduler.get_job(job_id)
        if existing is None:
            # First start: run at once, so a fresh install has data without waiting.
            scheduler.add_job(
                run_job,
                new_trigger,
                id=job_id,
                next_run_time=dt.datetime.now(config.org.tz),
                **kwargs,
            )
        elif str(existing.trigger) != str(new_trigger) or list(existing.args) != kwargs["args"]:
            scheduler.add_job(run_job, new_trigger, id=job_id, replace_existing=True, **kwargs)
    return scheduler


def serve(
    config: Config, config_path: Path, on_start: Callable[[BackgroundScheduler], None] | None = None
) -> None:
    """Run until SIGTERM/SIGINT; then let running syncs store their page and stop."""
    engine = make_engine(config.database.url)
    STOP.clear()

    def stop(signum: int, _frame: Any) -> None:
        log.warning(
            "received %s: stopping after the pages in flight are stored",
            signal.Signals(signum).name,
        )
        STOP.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler = build(config, config_path, engine)
    scheduler.resume()
    if on_start:
        on_start(scheduler)
    try:
        while not STOP.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        engine.dispose()
