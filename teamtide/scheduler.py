"""`teamtide schedule`: every source, the weekly report and the alerts on their schedule, safely.

APScheduler 3 keeps the jobs in the same database (its SQLAlchemy job store), so a
restart continues the schedule; missed runs are coalesced within a grace time, and a run
missed by more than that is recorded as `missed`. A lease in the database (`db.locks`)
makes a job run on one scheduler at a time even if two are started by mistake, and a
source's sync never beside a `teamtide sync` of the same source: the loser records a
`skipped` attempt. Every run lands in `job_runs` (and, for syncs, `sync_state`).
SIGTERM or SIGINT asks running syncs to stop after the page they are storing, then exits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from config.load import load_config
from config.schema import Config, Job
from db import jobruns, locks
from db.session import make_engine

log = logging.getLogger(__name__)

LEASE = locks.JOB_LEASE  # the lease `teamtide sync` takes too, per source
JOB_ID_PREFIX = "teamtide-"
SYNC_JOBS = ("jira", "github", "cluster")
STOP = threading.Event()

ShouldStop = Callable[[], bool]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def trigger(job: Job, config: Config) -> IntervalTrigger | CronTrigger:
    if job.cron:
        return CronTrigger.from_crontab(job.cron, timezone=config.org.tz)
    # whole seconds, at least one: a fraction of a minute that rounds to 0 would spin
    seconds = max(1, round((job.every_minutes or 30) * 60))
    return IntervalTrigger(seconds=seconds, timezone=config.org.tz)


def jobs(config: Config, *, store_reports: bool = False) -> dict[str, Job]:
    """The jobs this org file asks for: each configured source, and the report if it is delivered.

    `store_reports` (the demo) schedules the report even with nobody to send it to: each
    week's is then generated and stored for the Reports page, and sent to no one.
    """
    wanted: dict[str, Job] = {}
    for name in SYNC_JOBS:
        job: Job = getattr(config.schedule, name)
        if getattr(config.sources, name) is not None and job.enabled:
            wanted[name] = job
    if config.schedule.report.enabled:
        from report.delivery import RETRY_EVERY_MINUTES
        from report.recipients import recipients

        # Team leads alone (`per_team_lead`, no other recipient) are an audience too.
        if recipients(config):
            wanted["report"] = config.schedule.report
            wanted["report-retry"] = Job(every_minutes=RETRY_EVERY_MINUTES)
        elif store_reports:
            wanted["report"] = config.schedule.report
    if config.alerts.enabled and config.schedule.alerts.enabled:
        from report.alerts import recipients_of

        if any(recipients_of(config, team) for team in config.team_names()):
            wanted["alerts"] = config.schedule.alerts
    return wanted


def _run_sync(
    config: Config, engine: Engine, name: str, should_stop: ShouldStop
) -> tuple[str, str | None]:
    from collectors.sync import sync

    outcomes = sync(engine, config, only=[name], should_stop=should_stop)
    errors = [o.error for o in outcomes if o.error] + [
        r.error for o in outcomes for r in o.results if r.error
    ]
    if errors:
        return "failed", "; ".join(e for e in errors if e)  # redacted and cut by db.jobruns
    rows = sum(r.rows for o in outcomes for r in o.results)
    if name != "cluster" and not should_stop():
        return "ok", f"{rows} rows; {_refresh_rollups(config, engine)}"
    if should_stop():
        # every page stored so far is committed with its cursor: the next run resumes there
        return "stopped", f"stopped on request after {rows} rows; the next run resumes"
    return "ok", f"{rows} rows"


def _refresh_rollups(config: Config, engine: Engine) -> str:
    """Right after a sync, within its lease, so the pages see the new data at once."""
    from metrics.rollup import refresh_leased

    try:
        done = refresh_leased(engine, config, _now())
    except Exception as exc:  # the sync is stored; readers fall back to the facts
        log.exception("rollups not refreshed")
        return f"rollups not refreshed: {type(exc).__name__}: {exc}"
    return done.line() if done else "rollups not refreshed: their lease stayed taken"


def _run_report(config: Config, engine: Engine, name: str) -> tuple[str, str | None]:
    # Last week's report to whoever lacks it: `run_job` holds the `report` lease, which is
    # also the delivery lease, and the ledger makes a rerun or a restart send nothing twice.
    from report.delivery import run_weekly

    return run_weekly(config, engine, now=_now())


def _report_runner(
    config: Config, engine: Engine, name: str, should_stop: ShouldStop
) -> tuple[str, str | None]:
    # A delivery is not interrupted halfway (its ledger would cope, but a half-sent week
    # helps no one): a stop request waits for it.
    return _run_report(config, engine, name)


def _report_retry_runner(
    config: Config, engine: Engine, name: str, should_stop: ShouldStop
) -> tuple[str, str | None]:
    from report.delivery import retry_failed

    return retry_failed(config, engine, now=_now())


def _alerts_runner(
    config: Config, engine: Engine, name: str, should_stop: ShouldStop
) -> tuple[str, str | None]:
    # Each event to each recipient once: the alert ledger claims a row before it is sent,
    # and `run_job` holds the `alerts` lease, so two schedulers never send at once.
    from report.alerts import run_alerts

    return run_alerts(config, engine, now=_now())


RUNNERS: dict[str, Callable[[Config, Engine, str, ShouldStop], tuple[str, str | None]]] = {
    "jira": _run_sync,
    "github": _run_sync,
    "cluster": _run_sync,
    "report": _report_runner,
    "report-retry": _report_retry_runner,
    "alerts": _alerts_runner,
}


def run_job(config_path: str, name: str) -> str:
    """One run of one job under the database lease; APScheduler stores this by reference."""
    config = load_config(Path(config_path))
    engine = make_engine(config.database.url)
    # One holder per run, not per process: two schedulers built in one process (tests,
    # an embedding application) must exclude each other just as two processes do.
    holder = locks.process_holder()
    try:
        if not locks.acquire(engine, name, holder, LEASE, _now(), dead=locks.holder_is_dead):
            _record(
                engine,
                name,
                holder,
                "skipped",
                "another teamtide (a scheduler, or `teamtide sync`) is running this job",
            )
            log.info("job %s skipped: another teamtide is running it", name)
            return "skipped"
        try:
            run_id = _start(engine, name, holder)
        except BaseException:
            locks.release(engine, name, holder)
            raise
        lost = threading.Event()
        done = threading.Event()
        renewer = threading.Thread(
            target=_renew, args=(engine, name, holder, done, lost), daemon=True
        )
        renewer.start()
        try:
            outcome, detail = RUNNERS[name](
                config, engine, name, lambda: STOP.is_set() or lost.is_set()
            )
            if lost.is_set() and outcome != "failed":
                outcome, detail = (
                    "failed",
                    "lost the lease mid-run; stopped after the page in flight",
                )
        except Exception as exc:  # recorded, and the scheduler lives on
            outcome, detail = "failed", f"{type(exc).__name__}: {exc}"  # db.jobruns redacts
            log.exception("job %s failed", name)
        finally:
            done.set()
            renewer.join()
        _finish(engine, run_id, outcome, detail, name, holder)
        log.info("job %s: %s%s", name, outcome, f" ({detail})" if detail else "")
        return outcome
    finally:
        engine.dispose()


def _start(engine: Engine, name: str, holder: str) -> int:
    """Record our run as of now, with the lease held: a run's recorded interval lies inside it.

    (Taking the time before asking would be wrong: asking can wait on the previous
    holder's release, and the interval would then seem to overlap its run.) Runs of this
    job that another holder left unfinished died with it: we hold the lease, so their
    holder lost it (it expired, or its process exited). They are closed as `abandoned`,
    and the cursors they stored are where we go on from.
    """
    return jobruns.start(engine, name, holder, since=_now())


def _record(engine: Engine, name: str, holder: str, outcome: str, detail: str) -> None:
    """An attempt that did not run (`skipped`, `missed`): a moment, not an interval."""
    jobruns.record(engine, name, holder, outcome, detail, _now())


def _renew(
    engine: Engine, name: str, holder: str, done: threading.Event, lost: threading.Event
) -> None:
    """Keep the lease while the run works; if it can't be kept, ask the run to stop.

    A failed renewal (the database briefly away) is retried until the lease would have
    run out: past that, another scheduler may have taken the job, and going on would
    overlap it.
    """
    expires = _now() + LEASE
    while not done.wait(LEASE.total_seconds() / 6):
        try:
            if locks.renew(engine, name, holder, LEASE, _now()):
                expires = _now() + LEASE
                continue
            log.error("lost the lease on %s: another scheduler took it", name)
        except Exception:
            if _now() < expires - LEASE / 6:
                log.warning("could not renew the lease on %s; retrying", name, exc_info=True)
                continue
            log.error("could not renew the lease on %s before it ran out", name)
        lost.set()
        return


def _finish(
    engine: Engine, run_id: int, outcome: str, detail: str | None, name: str, holder: str
) -> None:
    """Record the end and release the lease in one transaction: the next run starts after it."""
    jobruns.finish(engine, run_id, outcome, detail, _now(), lease=name, holder=holder)


def _on_missed(engine: Engine, grace: int) -> Callable[[JobExecutionEvent], None]:
    def missed(event: JobExecutionEvent) -> None:
        name = event.job_id.removeprefix(JOB_ID_PREFIX)
        due = event.scheduled_run_time
        try:
            _record(
                engine,
                name,
                locks.process_holder(),
                "missed",
                f"due at {due:%Y-%m-%d %H:%M:%S %Z}, more than the misfire grace of {grace} s ago",
            )
        except Exception:  # a listener must not take the scheduler down
            log.exception("could not record the missed run of %s", name)

    return missed


def build(
    config: Config,
    config_path: Path,
    engine: Engine,
    *,
    store_reports: bool = False,
    run_at_once: bool = True,
) -> BackgroundScheduler:
    """A paused scheduler holding this org file's jobs; a job already stored keeps its next run.

    A job stored for the first time runs at once, so a fresh install has data without
    waiting; with `run_at_once` false (the demo, which has just synced) it first runs when
    its schedule says. `store_reports`: see `jobs`.
    """
    grace = config.schedule.misfire_grace_seconds
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        timezone=config.org.tz,
    )
    scheduler.add_listener(_on_missed(engine, grace), EVENT_JOB_MISSED)
    scheduler.start(paused=True)
    wanted = jobs(config, store_reports=store_reports)
    for job in scheduler.get_jobs():
        if job.id.removeprefix(JOB_ID_PREFIX) not in wanted:
            job.remove()
    for name, job in wanted.items():
        job_id = JOB_ID_PREFIX + name
        new_trigger = trigger(job, config)
        args = [str(config_path.resolve()), name]
        existing = scheduler.get_job(job_id)
        if existing is None:
            # First start: run at once, so a fresh install has data without waiting.
            first = {"next_run_time": dt.datetime.now(config.org.tz)} if run_at_once else {}
            # a second scheduler started at the same moment may have stored it first
            with contextlib.suppress(ConflictingIdError):
                scheduler.add_job(run_job, new_trigger, id=job_id, name=name, args=args, **first)
            continue
        if str(existing.trigger) != str(new_trigger):
            # a new schedule starts from now
            scheduler.reschedule_job(job_id, trigger=new_trigger)
        changes: dict[str, Any] = {}
        if list(existing.args) != args:
            changes["args"] = args
        # Stored jobs keep the options they were added with: the org file's grace wins,
        # and modifying (unlike replacing) keeps the pending run time, missed or not.
        if existing.misfire_grace_time != grace:
            changes["misfire_grace_time"] = grace
        if not existing.coalesce or existing.max_instances != 1:
            changes.update(coalesce=True, max_instances=1)
        if changes:
            scheduler.modify_job(job_id, **changes)
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
    try:
        if not STOP.is_set():
            scheduler.resume()
            if on_start:
                on_start(scheduler)
        while not STOP.wait(0.5):
            pass
    finally:
        stop_scheduler(scheduler)
        engine.dispose()


@contextlib.contextmanager
def running(
    config: Config, config_path: Path, engine: Engine, **options: bool
) -> Iterator[BackgroundScheduler]:
    """The scheduler at work in this process's threads while the block runs (`teamtide demo`).

    The caller owns the signals: on the way out, however the block ends, running syncs
    are asked to stop after their page, and the scheduler waits for them. `options`: those
    of `build`.
    """
    STOP.clear()
    scheduler = build(config, config_path, engine, **options)
    try:
        scheduler.resume()
        yield scheduler
    finally:
        STOP.set()
        stop_scheduler(scheduler)


def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Shut down without consuming due runs: they stay due in the store for the next start.

    APScheduler 3's shutdown wakes its loop once more after stopping the executors, and a
    job due by then is "submitted" to a closed pool: the submission fails, yet its next
    run time moves on, so that run is neither made nor recorded. Paused, the loop takes no
    new runs; detached, the store leaves that last wake-up nothing to take. The running
    jobs don't use the store: shutdown waits for them (they see STOP after their page).
    """
    scheduler.pause()
    scheduler.remove_jobstore("default")
    scheduler.shutdown(wait=True)
