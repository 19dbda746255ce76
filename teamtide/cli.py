"""The `teamtide` command: the composition root, the one place that wires every layer together."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup

from collectors.org import prepare_database
from config.checks import RequireEnv
from config.display import summary_text
from config.document import ConfigError, format_problems
from config.load import load_config, resolve_config_path
from config.schema import Config
from teamtide import children, failures, output

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from collectors.base import Progress
    from collectors.sync import SourceOutcome


class Commands(TyperGroup):
    """The command group: every command's failures pass through `failures.explain`.

    A database that cannot be reached or used (or a file that cannot be written) ends
    the command with one line and exit 2 (bad input) or 1 (unavailable), never a
    traceback; an exception `explain` does not know is a bug and keeps its traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        failures.forget()
        try:
            return super().invoke(ctx)
        except Exception as exc:
            failure = failures.explain(exc)
            if failure is None:
                raise
            fail(escape(failure.message), failure.code)


app = typer.Typer(
    cls=Commands,
    help="teamtide: where engineering time goes, how long people wait, and whether load comes in floods and droughts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = output.console()
err = output.console(stderr=True)

EXIT_CONFIG = 2
MAX_FORECAST_WEEKS = 12  # the backtest measures horizons up to 12 weeks (metrics/backtest.py)
# How long `teamtide sync` waits for another teamtide syncing the same source
SYNC_WAIT_SECONDS = 600.0
SOURCES_ONLY = frozenset({"sources"})  # what a sync needs set in the environment


class State:
    config_path: Path = Path("teamtide.yaml")


state = State()


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="The org file. Default: $TEAMTIDE_CONFIG, else ./teamtide.yaml."
        ),
    ] = None,
) -> None:
    state.config_path = resolve_config_path(config)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def prepare(cfg: Config) -> tuple[Engine, str]:
    """`prepare_database` for a command: its failures name `database.url` and the org file."""
    failures.using(cfg.database.url, "database.url", state.config_path)
    return prepare_database(cfg)


def load(require_env: RequireEnv = False) -> Config:
    """The org file, or a clear list of its problems and exit 2."""
    path = state.config_path
    if not path.exists():
        fail(
            f"no org file at {path} (pass --config PATH or set TEAMTIDE_CONFIG; see teamtide.example.yaml)",
            EXIT_CONFIG,
        )
    try:
        return load_config(path, require_env=require_env)
    except ConfigError as exc:
        err.print(
            format_problems(exc.problems, path),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        err.print(f"{len(exc.problems)} problem(s) in {path}", style="bold red")
        raise typer.Exit(EXIT_CONFIG) from None


@app.command("check-config")
def check_config() -> None:
    """Validate the org file: every problem at once with its key and line (exit 2), or a summary."""
    cfg = load(require_env=True)
    console.print(summary_text(cfg), highlight=False, markup=False, soft_wrap=True)


@app.command()
def discover(
    out: Annotated[Path, typer.Option(help="Where to write the draft org file.")] = Path(
        "teamtide.discovered.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
    people_csv: Annotated[
        Path | None,
        typer.Option(
            help="An HR export (name, email, team, start, end) whose moves become memberships."
        ),
    ] = None,
) -> None:
    """Draft an org file from what the sources know: teams, people and their accounts, statuses."""
    from collectors.discover_cmd import write_draft

    if out.exists() and not force:
        fail(f"{out} exists: pass --force to overwrite it, or --out another path", EXIT_CONFIG)
    cfg = load(require_env=SOURCES_ONLY)
    try:
        with err.status("Reading the sources…") as status:
            summary = write_draft(
                cfg, state.config_path, out, people_csv, lambda m: status.update(f"{m}…")
            )
    except ValueError as exc:
        fail(str(exc), EXIT_CONFIG)
    err.print(summary, highlight=False, markup=False)


@app.command()
def doctor(
    send_test: Annotated[
        bool, typer.Option("--send-test", help="Also log in to SMTP and post to the webhook.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Check every configured connection end to end; one line each with what to fix (exit 1 if any fails)."""
    from collectors.doctor import run_checks
    from db.session import make_engine

    check_format(fmt)
    cfg = load(require_env=SOURCES_ONLY)
    failures.using(cfg.database.url, "database.url", state.config_path)
    engine = make_engine(cfg.database.url)
    try:
        with err.status("Checking every connection…"):
            checks = run_checks(cfg, engine, send_test=send_test)
    finally:
        engine.dispose()
    table = output.Rows("teamtide doctor", ("source", "check", "ok", "detail", "fix"))
    for c in checks:
        table.add(
            c.source,
            c.check,
            output.Cell("ok" if c.ok else "FAIL", "green" if c.ok else "bold red", c.ok),
            c.detail,
            c.fix,
        )
    if fmt == "json":
        output.show_json(console, table.records())
    else:
        output.show(console, table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def init() -> None:
    """Create or upgrade the database schema and load the org file's teams and people. Safe to rerun."""
    from config.display import redact_url

    cfg = load()
    _, said = prepare(cfg)
    console.print(f"{redact_url(cfg.database.url)}: {said}", highlight=False)


@app.command()
def sync(
    source: Annotated[
        list[str] | None,
        typer.Option(help="Only this source: jira, github or cluster (repeatable)."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore cursors and fetch everything again.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds to wait for another teamtide syncing the same source (the "
            "scheduler, another sync) before skipping it as failed.",
        ),
    ] = SYNC_WAIT_SECONDS,
) -> None:
    """Pull new and changed records from the configured sources; exits 1 if any source failed.

    Each source is synced under its lease, the one `teamtide schedule` takes: a sync of a
    source another teamtide is syncing waits for it to finish (up to `--wait` seconds),
    then goes on from where it stopped.
    """
    from collectors.sync import SOURCES, configured_sources

    check_format(fmt)
    known = [s.name for s in SOURCES]
    for name in source or []:
        if name not in known:
            fail(f"unknown source {name!r}: choose from {', '.join(known)}", EXIT_CONFIG)
    cfg = load(require_env=SOURCES_ONLY)
    if not (source or configured_sources(cfg)):
        fail(
            f"no sources configured in {state.config_path} (sources.jira, sources.github, sources.cluster)",
            EXIT_CONFIG,
        )
    engine, _ = prepare(cfg)
    outcomes = sync_and_summarise(engine, cfg, only=source, full=full, fmt=fmt, wait=wait)
    if any(o.failed for o in outcomes):
        raise typer.Exit(1)


def sync_and_summarise(
    engine: Engine,
    cfg: Config,
    *,
    only: list[str] | None = None,
    full: bool = False,
    now: Callable[[], dt.datetime] | None = None,
    fmt: str = "table",
    wait: float = SYNC_WAIT_SECONDS,
) -> list[SourceOutcome]:
    """Run the sync with a progress bar, then print a table of what each stream did."""
    from teamtide.progress import RichProgress

    with RichProgress(err) as progress:
        outcomes = sync_leased(
            engine, cfg, only=only, full=full, progress=progress, now=now, wait=wait
        )
    from collectors.sync import configured_sources

    if set(only or configured_sources(cfg)) - {"cluster"}:
        refresh_rollups(engine, cfg, (now or (lambda: dt.datetime.now(dt.UTC)))())
    table = output.Rows(
        "sync",
        ("source", "stream", "partition", "rows", "rejects", "pages", "requests", "outcome"),
        right=frozenset({"rows", "rejects", "pages", "requests"}),
    )
    for outcome in outcomes:
        if outcome.error:
            table.add(outcome.source, "", "", None, None, None, None, failed(outcome.error))
        for r in outcome.results:
            table.add(
                r.source,
                r.stream,
                r.partition,
                r.rows,
                r.rejects,
                r.pages,
                r.requests,
                failed(r.error) if r.error else output.Cell("ok", "green"),
            )
    if fmt == "json":
        output.show_json(console, table.records())
    else:
        output.show(console, table)
    return outcomes


def refresh_rollups(engine: Engine, cfg: Config, now: dt.datetime) -> None:
    """Bring the metrics' weekly rollups up to date after a sync, saying what it did on
    stderr; a failure is one line there (the metrics then compute from the facts)."""
    from metrics import rollup

    try:
        with err.status("Refreshing the weekly rollups…"):
            done = rollup.refresh_leased(engine, cfg, now)
    except Exception as exc:  # the synced data is stored; readers fall back to the facts
        err.print(f"rollups not refreshed: {type(exc).__name__}: {exc}", highlight=False)
        return
    if done is None:
        err.print("rollups not refreshed: another teamtide held the rollups lease", highlight=False)
    else:
        err.print(done.line(), highlight=False)


def sync_leased(
    engine: Engine,
    cfg: Config,
    *,
    only: list[str] | None,
    full: bool,
    progress: Progress,
    now: Callable[[], dt.datetime] | None,
    wait: float,
) -> list[SourceOutcome]:
    """Sync each source under its lease (`db.locks`), the same one the scheduler takes.

    Two syncs of one source at once would write the same rows and state at the same
    moment; under the lease the second waits (up to `wait` seconds) and then goes on
    from the first one's cursors. A source whose lease stays taken is skipped as failed,
    with who holds it; one whose lease is lost mid-run stops after the page in flight.
    """
    from collectors.sync import SOURCES, SourceOutcome, configured_sources
    from collectors.sync import sync as run_sync
    from db import locks

    clock = {"now": now} if now else {}
    wanted = list(only) if only else configured_sources(cfg)
    outcomes: list[SourceOutcome] = []
    for name in [s.name for s in SOURCES if s.name in wanted]:

        def waiting(holder: str, name: str = name) -> None:
            progress.note(
                f"{name}: {locks.describe_holder(holder)} is syncing it; "
                f"waiting up to {wait:g} s for it to finish"
            )

        with locks.hold(engine, name, locks.JOB_LEASE, wait=wait, on_wait=waiting) as held:
            if held is None:
                holder = locks.current_holder(engine, name)
                who = locks.describe_holder(holder) if holder else "another teamtide"
                outcomes.append(
                    SourceOutcome(
                        name,
                        [],
                        error=f"skipped: {who} is still syncing {name} after {wait:g} s of "
                        "waiting; run again later (or with a longer --wait)",
                    )
                )
                continue
            ran = run_sync(
                engine,
                cfg,
                only=[name],
                full=full,
                progress=progress,
                should_stop=held.lost.is_set,
                **clock,
            )
            if held.lost.is_set():
                for outcome in ran:
                    outcome.error = outcome.error or (
                        f"lost the lease on {name} mid-run (the database was out of reach, "
                        "or another teamtide took over); stopped after the page in flight"
                    )
            outcomes.extend(ran)
    return outcomes


def failed(error: str) -> output.Cell:
    return output.Cell(error, "red")


def check_format(fmt: str) -> None:
    if fmt not in output.FORMATS:
        fail(f"--format {fmt!r}: choose {' or '.join(output.FORMATS)}", EXIT_CONFIG)


def _cell(value: object) -> str:
    """A table cell: blank where there is no figure (None, or NaN from a team without members)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def parse_day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date: write YYYY-MM-DD", EXIT_CONFIG)


@app.command()
def metrics(
    start: Annotated[
        str,
        typer.Option("--from", help="First day (YYYY-MM-DD); widened to its ISO week's Monday."),
    ],
    end: Annotated[
        str, typer.Option("--to", help="Last day (YYYY-MM-DD); widened to its ISO week's Sunday.")
    ],
    team: Annotated[list[str] | None, typer.Option(help="Only these teams (repeatable).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json, csv or table.")] = "json",
    out: Annotated[
        Path | None, typer.Option(help="With --format csv: write one file per section here.")
    ] = None,
    forecast_weeks: Annotated[
        int,
        typer.Option(
            "--forecast-weeks",
            help=f"Add each team's load forecast for 1..{MAX_FORECAST_WEEKS} weeks ahead.",
        ),
    ] = 0,
) -> None:
    """Compute the metrics of docs/metrics.md for a window (durations in hours)."""
    import orjson

    from db.session import make_engine
    from metrics import reading, rollup

    if fmt not in ("json", "csv", "table"):
        fail(f"--format {fmt!r}: choose json, csv or table", EXIT_CONFIG)
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if last < first:
        fail(f"--to {last} is before --from {first}", EXIT_CONFIG)
    if not 0 <= forecast_weeks <= MAX_FORECAST_WEEKS:
        fail(f"--forecast-weeks {forecast_weeks}: choose 1 to {MAX_FORECAST_WEEKS}", EXIT_CONFIG)
    cfg = load()
    unknown = [t for t in team or [] if t not in cfg.team_names()]
    if unknown:
        fail(
            f"unknown team(s) {', '.join(unknown)}: the org file has {', '.join(cfg.team_names())}",
            EXIT_CONFIG,
        )
    key = "database.readonly_url" if cfg.database.readonly_url else "database.url"
    failures.using(cfg.database.read_url, key, state.config_path)
    engine = make_engine(cfg.database.read_url, readonly=True)
    with err.status("Computing metrics…"), engine.connect() as conn:
        # From the weekly rollups, as of their last refresh, when they describe this org
        # file; from the facts, as of now, when they do not (yet).
        result = rollup.summary(conn, cfg, first, last, team or None)
        kept = result is not None
        if result is None:
            moment = dt.datetime.now(dt.UTC)
            result = reading.summary(conn, cfg, first, last, team or None, moment)
        if forecast_weeks:
            found = rollup.forecast(conn, cfg, team or None, forecast_weeks) if kept else None
            result["forecast"] = found or reading.forecast(
                conn, cfg, team or None, dt.datetime.fromisoformat(result["now"]), forecast_weeks
            )
    if fmt == "json":
        # orjson: 12 months of a 600-person org are 5 MB of JSON, 2 s through `json`
        sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.flush()
        return
    from metrics.tables import summary_tables

    tables = summary_tables(result)
    if fmt == "csv":
        if out:
            out.mkdir(parents=True, exist_ok=True)
            for name, frame in tables.items():
                frame.to_csv(out / f"{name}.csv", index=False)
            console.print(f"wrote {len(tables)} tables to {out}", highlight=False)
        else:
            for name, frame in tables.items():
                sys.stdout.write(f"# {name}\n{frame.to_csv(index=False)}\n")
        return
    for name, frame in tables.items():
        view = output.Rows(name, [str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            view.add(*(_cell(v) for v in row))
        output.show(console, view)


WHATIF_FORMATS = ("json", "table")


@app.command()
def whatif(
    name: Annotated[str | None, typer.Argument(help="A saved scenario to run.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the saved scenarios.")] = False,
    save: Annotated[
        Path | None, typer.Option(help="Save the scenario in this YAML or JSON file.")
    ] = None,
    author: Annotated[str, typer.Option(help="With --save: who wrote it.")] = "",
    epic: Annotated[str | None, typer.Option(help="Forecast this epic's delivery.")] = None,
    filter_: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help="Forecast the items matching: epic, project, labels, key with = or in (...), "
            "joined by AND.",
        ),
    ] = None,
    fte_change: Annotated[
        float, typer.Option(help="With a forecast: FTE added to the scope's categories.")
    ] = 0.0,
    weeks: Annotated[int, typer.Option(help="Weeks of demand to replay.", min=1)] = 12,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Last day replayed (default: last Sunday); a forecast is made as of its end.",
        ),
    ] = None,
    runs: Annotated[int, typer.Option(help="Simulation runs.", min=1)] = 200,
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "table",
) -> None:
    """Run a saved what-if scenario against the no-change baseline, or forecast a delivery."""
    import yaml

    from db import scenarios
    from db.session import make_engine
    from metrics import delivery
    from metrics import whatif as runner
    from metrics.scenario import scenario_from_dict

    if fmt not in WHATIF_FORMATS:
        fail(f"--format {fmt!r}: choose json or table", EXIT_CONFIG)
    chosen = [bool(name), list_, save is not None, bool(epic or filter_)]
    if sum(chosen) != 1:
        fail(
            "give one of: a scenario NAME, --list, --save FILE, --epic KEY or --filter TEXT",
            EXIT_CONFIG,
        )
    cfg = load()
    now = dt.datetime.now(dt.UTC)
    if save is not None:
        try:
            data = yaml.safe_load(save.read_text())
            scenario = scenario_from_dict(data)
        except OSError as exc:
            fail(f"cannot read {save}: {exc.strerror or exc}", EXIT_CONFIG)
        except yaml.YAMLError as exc:
            fail(f"{save} is not YAML or JSON: {escape(str(exc).splitlines()[0])}", EXIT_CONFIG)
        except ValueError as exc:
            fail(f"{save}: {escape(str(exc))}", EXIT_CONFIG)
        engine, _ = prepare(cfg)
        scenarios.save(
            engine,
            scenario.name,
            author or os.environ.get("USER", "unknown"),
            scenario.to_dict(),
            now,
        )
        console.print(f"saved scenario {scenario.name!r}", highlight=False, markup=False)
        return
    if list_:
        engine, _ = prepare(cfg)
        view = output.Rows("scenarios", ["name", "author", "created", "moves", "routes"])
        for saved in scenarios.listing(engine):
            view.add(
                saved.name,
                saved.author,
                saved.created_at.isoformat(timespec="minutes"),
                len(saved.body.get("moves") or []),
                len(saved.body.get("routes") or []),
            )
        _whatif_out(fmt, [view])
        return
    key = "database.readonly_url" if cfg.database.readonly_url else "database.url"
    failures.using(cfg.database.read_url, key, state.config_path)
    if epic or filter_:
        try:
            scope = delivery.parse_scope(filter_) if filter_ else delivery.Scope(epic=epic)
            if filter_ and epic:
                scope = delivery.Scope(epic, scope.projects, scope.labels, scope.keys)
        except ValueError as exc:
            fail(f"--filter: {escape(str(exc))}", EXIT_CONFIG)
        if end:
            last_day = parse_day(end, "--to") + dt.timedelta(days=1)
            now = dt.datetime.combine(last_day, dt.time.min, cfg.org.tz).astimezone(dt.UTC)
        engine = make_engine(cfg.database.read_url, readonly=True)
        with err.status("Forecasting…"), engine.connect() as conn:
            facts = runner.all_facts(conn, cfg, now)
        try:
            with err.status("Forecasting…"):
                found = runner.forecast_with_backtest(facts, scope, fte_change)
        except ValueError as exc:
            fail(escape(str(exc)), EXIT_CONFIG)
        _whatif_out(fmt, _forecast_tables(found))
        return
    engine, _ = prepare(cfg)
    saved = scenarios.load(engine, name or "")
    if saved is None:
        known = ", ".join(s.name for s in scenarios.listing(engine)) or "none saved"
        fail(f"no scenario named {name!r} (saved: {known})", EXIT_CONFIG)
    try:
        scenario = scenario_from_dict(saved.body)
    except ValueError as exc:
        fail(f"scenario {name!r}: {escape(str(exc))}", EXIT_CONFIG)
    last = parse_day(end, "--to") if end else None
    with err.status(f"Simulating {runs} runs…"), engine.connect() as conn:
        try:
            outcome = runner.run_scenario(conn, cfg, scenario, now, weeks, last, runs)
        except ValueError as exc:
            fail(escape(str(exc)), EXIT_CONFIG)
    views = []
    for title, frame in outcome.tables().items():
        view = output.Rows(title, [str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            view.add(*(_figure(v) for v in row))
        views.append(view)
    _whatif_out(fmt, views)


def _forecast_tables(found: dict[str, Any]) -> list[output.Rows]:
    result, checked = found["forecast"], found["backtest"]
    view = output.Rows("forecast", ["figure", "value"])
    for key, value in result.items():
        view.add(key, _figure(", ".join(value) if isinstance(value, list) else value))
    view.add("backtest_epics", checked["n"])
    view.add("backtest_share_by_p85", _figure(checked["share_by_p85"]))
    epics = output.Rows("backtest", ["epic", "midpoint", "end", "p50", "p85", "p95", "by p85"])
    for row in checked["epics"]:
        epics.add(
            row["epic_key"],
            row["midpoint"],
            row["end"],
            row.get("p50"),
            row.get("p85"),
            row.get("p95"),
            row.get("hit85", row.get("error")),
        )
    return [view, epics]


def _figure(value: object) -> output.Cell:
    """A cell shown like `_cell`, with the plain number or date in JSON."""
    from metrics.stats import plain

    return output.Cell(_cell(value), value=plain(value))


def _whatif_out(fmt: str, views: list[output.Rows]) -> None:
    if fmt == "json":
        output.show_json(console, {view.title: view.records() for view in views})
        return
    for view in views:
        output.show(console, view)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind (loopback unless sign-in is configured).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8501,
    insecure_no_auth: Annotated[
        bool,
        typer.Option(
            "--insecure-no-auth",
            help="Serve beyond this machine without sign-in (not recommended).",
        ),
    ] = False,
) -> None:
    """Start the dashboard (Streamlit) on the org file's database, read-only."""
    from teamtide import serving

    cfg = load()
    try:
        plan = serving.plan_serve(
            cfg, host, insecure_no_auth=insecure_no_auth, files=serving.secrets_files(app_file())
        )
    except serving.ServeRefused as refused:
        fail(escape(str(refused)), EXIT_CONFIG)
    for note in plan.notes:
        console.print(note, highlight=False, markup=False)
    for warning in plan.warnings:
        err.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    run_dashboard(state.config_path, plan.host, port)


def app_file() -> Path:
    """The dashboard's Streamlit entrypoint (its folder may hold a .streamlit/secrets.toml)."""
    import dashboard

    return Path(dashboard.__file__).resolve().parent / "app.py"


def run_dashboard(config_path: Path, host: str, port: int) -> None:
    """Streamlit in the foreground, with the org file passed through the environment.

    A SIGTERM (a service manager stopping teamtide) is passed on to Streamlit, so the
    server never outlives the command that started it.
    """
    child = start_dashboard(config_path, host, port)
    # Ctrl-C from a script reaches only this process: the child is stopped on the way out.
    code = children.wait(child, (signal.SIGTERM,), grace=10)
    raise typer.Exit(code)


def start_dashboard(config_path: Path, host: str, port: int) -> subprocess.Popen[Any]:
    """Streamlit as our child, saying where it serves; `children.wait` waits for it."""
    env = dict(os.environ, TEAMTIDE_CONFIG=str(config_path.resolve()))
    command = [
        # Streamlit's `run`, with a thread that warms the default view as it starts
        sys.executable, "-m", "teamtide.dashboard_server", "run", str(app_file()),
        "--server.address", host, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        # A wall screen in a planning meeting has no use for Streamlit's Deploy button.
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    shown = f"[{host}]" if ":" in host else host
    console.print(f"Dashboard on http://{shown}:{port}", highlight=False)
    return children.start(command, env=env)


@app.command()
def schedule() -> None:
    """Run every collector and the weekly report on the configured schedule, until SIGTERM/SIGINT."""
    import logging

    from teamtide import scheduler

    cfg = load(require_env=True)
    prepare(cfg)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    wanted = scheduler.jobs(cfg)
    if not wanted:
        fail(
            "nothing to schedule: configure sources (and report recipients) in the org file",
            EXIT_CONFIG,
        )

    def started(sched: object) -> None:
        for job in sched.get_jobs():  # type: ignore[attr-defined]
            console.print(
                f"{job.name}: {job.trigger}; next run {job.next_run_time:%Y-%m-%d %H:%M %Z}",
                highlight=False,
            )
        console.print(
            "Running; stop with Ctrl-C or SIGTERM (running syncs finish their page first)."
        )

    scheduler.serve(cfg, state.config_path, on_start=started)


@app.command()
def report(
    week: Annotated[
        str | None,
        typer.Option(help="ISO week, e.g. 2025-W10 (org timezone). Default: last complete week."),
    ] = None,
    send: Annotated[
        bool,
        typer.Option("--send", help="Deliver it to every recipient that does not have it yet."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Compute it afresh and, with --send, resend to everyone."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write it here as Markdown, HTML (with its PNG charts) and text."),
    ] = None,
) -> None:
    """Generate the weekly report, store it (the dashboard's Reports page), and optionally send it."""
    import contextlib

    from report import content, delivery, recipients, weeks

    cfg = load(require_env=frozenset({"report"}) if send else False)
    now = dt.datetime.now(dt.UTC)
    try:
        monday = weeks.parse_week(week) if week else weeks.last_complete_week(now, cfg)
    except ValueError as exc:
        fail(f"--week {exc}", EXIT_CONFIG)
    if send and not recipients.recipients(cfg):
        fail(
            f"nothing to send to: set report.recipients or report.webhook_url in {state.config_path}",
            EXIT_CONFIG,
        )
    engine, _ = prepare(cfg)
    with contextlib.ExitStack() as stack:
        if send and not stack.enter_context(delivery.leased(engine)):
            fail(
                "another teamtide (the scheduler?) is delivering the report right now; "
                "run this again in a few minutes: nothing will be sent twice"
            )
        with err.status(f"Building the report for {weeks.week_label(monday)}…"):
            result = delivery.run(engine, cfg, monday, now, send=send, force=force)
    rendered = result.rendered
    console.print(
        f"[bold]{escape(content.title(rendered.figures))}[/] "
        f"({'computed now' if result.regenerated else 'as stored when first sent'}; "
        f"{len(rendered.images.png)} charts rendered in {rendered.images.seconds:.1f} s)",
        highlight=False,
    )
    for line in rendered.headlines:
        console.print(f"  • {escape(line)}", highlight=False)
    if rendered.images.error:
        err.print(
            f"[bold yellow]warning:[/] the charts could not be drawn ({escape(rendered.images.error)}); "
            "the report has none. Kaleido needs Chromium on the PATH (Debian: apt install chromium)."
        )
    if out:
        written = rendered.write(out, cfg.report.dashboard_url)
        console.print(f"wrote {', '.join(str(p) for p in written)}", highlight=False)
    for outcome in result.outcomes:
        colour = {"sent": "green", "already sent": "dim", "taken": "dim"}.get(outcome.status, "red")
        detail = f": {escape(outcome.error)}" if outcome.error else ""
        console.print(f"  {escape(outcome.recipient)}: [{colour}]{outcome.status}[/]{detail}")
    if send and not result.ok:
        raise typer.Exit(1)


@app.command()
def status(
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Sources, last success and error, rows and rejects; unmapped identities."""
    from db import queries
    from db.session import session_scope

    check_format(fmt)
    cfg = load()
    engine, _ = prepare(cfg)
    with session_scope(engine) as session:
        streams = queries.stream_overview(session)
        unmapped = queries.unmapped_identities(session)
        next_run = queries.next_runs(session.connection())
        last_runs = queries.last_job_runs(session)
    sources = output.Rows(
        "sources",
        (
            "source",
            "stream",
            "partition",
            "last success",
            "last error",
            "next run",
            "rows",
            "rejects",
            "kept rejects",
        ),
    )
    for row in streams:
        sources.add(
            row["source"],
            row["stream"],
            row["partition"],
            _moment(row["last_success"], cfg),
            row["last_error"] or "",
            _moment(row["next_run"], cfg, "not scheduled"),
            row["rows"],
            row["rejects"],
            row["rejects_kept"],
        )
    # the scheduler's view: the report job has no sync_state, and a skipped or missed
    # attempt leaves none either
    jobs = output.Rows(
        "scheduled jobs (teamtide schedule)", ("job", "last run", "outcome", "detail", "next run")
    )
    for job in sorted(set(last_runs) | {j.removeprefix("teamtide-") for j in next_run}):
        run = last_runs.get(job)
        jobs.add(
            job,
            _moment(run.finished_at if run else None, cfg),
            (run.outcome or "") if run else "",
            (run.detail or "") if run else "",
            _moment(next_run.get(f"teamtide-{job}"), cfg, "not scheduled"),
        )
    ids = output.Rows(
        f"{len(unmapped)} unmapped identities (add them to a person in the org file)",
        ("source", "account", "name", "e-mail"),
    )
    for i in unmapped:
        ids.add(i.source, i.value, i.display_name or "", i.email or "")
    if fmt == "json":
        output.show_json(
            console,
            {"sources": sources.records(), "jobs": jobs.records(), "unmapped": ids.records()},
        )
        return
    if not streams:
        console.print("No sync has run yet: `teamtide sync` pulls the configured sources.")
    for table in (sources, jobs, ids):
        if table.rows:
            output.show(console, table)


def _when(moment: dt.datetime | None, cfg: Config, otherwise: str = "never") -> str:
    return moment.astimezone(cfg.org.tz).strftime("%Y-%m-%d %H:%M %Z") if moment else otherwise


def _moment(moment: dt.datetime | None, cfg: Config, otherwise: str = "never") -> output.Cell:
    """A moment in the org's timezone for people, as an ISO timestamp (or null) in JSON."""
    return output.Cell(_when(moment, cfg, otherwise), value=moment.isoformat() if moment else None)


DEMO_DIR = Path(".demo")
DEMO_GITHUB_RATE_LIMIT = 1_000_000
SANDBOX_HELP = "The synthetic organisation served as fake Jira, GitHub and Kubernetes APIs."
# The sandbox is a program of its own (`python -m sandbox`), never imported here: it runs
# as a child process that stops by itself once this process is gone (SANDBOX_PARENT_PID),
# and names itself as our subcommand in its usage lines (SANDBOX_PROG_NAME).
SANDBOX_STOP_SECONDS = 30
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


DEMO_SYNC_MINUTES_VARIABLE = "TEAMTIDE_DEMO_SYNC_MINUTES"
DEMO_REPORT_WEEKS = 4


@app.command()
def demo(
    scale: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed of the generated world.")] = 1,
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.")] = 8501,
    directory: Annotated[
        Path, typer.Option(help="Where the demo's org file and SQLite database go.")
    ] = DEMO_DIR,
    sync_every: Annotated[
        float,
        typer.Option(
            "--sync-every",
            envvar=DEMO_SYNC_MINUTES_VARIABLE,
            help="Minutes between the scheduler's syncs of each source (fractions too: 0.1 is 6 s).",
        ),
    ] = 5.0,
) -> None:
    """Start the sandbox, sync it into SQLite, open the dashboard, store the last weeks' reports,
    and keep syncing on a schedule while the sandbox's clock follows the wall clock (Ctrl-C stops all)."""
    if not sync_every > 0:
        fail(f"--sync-every {sync_every:g}: give a number of minutes above 0", EXIT_CONFIG)
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "teamtide.db"
    for stale in directory.glob("teamtide.db*"):  # a new world each time: no stale cursors
        stale.unlink()
    path = directory / "teamtide.yaml"
    # The demo wants the dashboard in minutes, not after GitHub's hourly reset. On this
    # machine the viewer is the org's director: the org file shows the person-level views.
    # The world's clock follows the wall clock's minute, so the figures are as of now, the
    # sync is not reported as hours stale, and the scheduled syncs find new work.
    with served_sandbox(
        "--seed", str(seed), "--scale", scale, "--port", "0",
        "--github-rate-limit", str(DEMO_GITHUB_RATE_LIMIT),
        "--write-config", str(path), "--database-url", f"sqlite:///{database.resolve()}",
        "--person-level", "--follow-wall-clock",
    ) as served:  # fmt: skip
        admin = f"{served['url']}/_sandbox/clock"
        schedule_demo(path, sync_every)
        state.config_path = path
        cfg = load(require_env=SOURCES_ONLY)
        engine, said = prepare(cfg)
        try:
            console.print(said, highlight=False)
            outcomes = sync_and_summarise(engine, cfg, now=lambda: sandbox_clock(admin))
            if any(o.failed for o in outcomes):
                fail("the demo sync failed (see the table above)")
            console.print(
                f"Org file: {path} (try `teamtide --config {path} metrics --from ... --to ...`)",
                highlight=False,
            )
            code = live_demo(cfg, path, engine, port, directory / "schedule.log")
        finally:
            engine.dispose()
    raise typer.Exit(code)


def schedule_demo(path: Path, every_minutes: float) -> None:
    """Write the demo's schedule into its org file: every source synced every few minutes.

    The weekly report keeps its default (Monday 08:00); `teamtide --config PATH status`
    shows the jobs as the dashboard's Data health page does.
    """
    import yaml

    from teamtide.scheduler import SYNC_JOBS

    document = yaml.safe_load(path.read_text())
    document["schedule"] = {name: {"every_minutes": every_minutes} for name in SYNC_JOBS}
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def live_demo(cfg: Config, path: Path, engine: Engine, port: int, log_file: Path) -> int:
    """The dashboard, with the scheduler at work in this process and the last weeks' reports
    stored beside it, until the dashboard stops (Ctrl-C, SIGTERM); its exit code.

    The scheduler's first syncs come one interval after the sync just made; it logs to
    `log_file`. The reports are built in a thread while Streamlit starts; on the way out
    the report in progress is finished (its browser closed), the running syncs store
    their page, and then the caller stops the sandbox.
    """
    import logging

    from teamtide import scheduler

    logging.basicConfig(
        filename=log_file,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for chatty in ("choreographer", "kaleido"):  # the report's chart browser, tab by tab
        logging.getLogger(chatty).setLevel(logging.WARNING)
    with scheduler.running(cfg, path, engine, store_reports=True, run_at_once=False) as sched:
        dashboard = start_dashboard(path, "127.0.0.1", port)
        stop = threading.Event()
        reports = threading.Thread(
            target=store_recent_reports, args=(engine, cfg, stop), name="demo-reports"
        )
        try:
            reports.start()
            console.print(scheduled_summary(cfg, sched, log_file), highlight=False)
            console.print("Stop everything with Ctrl-C.", highlight=False)
            return children.wait(dashboard, (signal.SIGTERM,), grace=10)
        finally:
            stop.set()
            if reports.is_alive():
                reports.join()


def scheduled_summary(cfg: Config, sched: Any, log_file: Path) -> str:
    """What the demo's scheduler runs, and when, in a sentence."""
    from teamtide.scheduler import SYNC_JOBS

    jobs = {job.name: job for job in sched.get_jobs()}
    syncs = [name for name in SYNC_JOBS if name in jobs]
    every = sorted({_interval(jobs[name].trigger.interval) for name in syncs})
    said = f"Scheduler: {', '.join(syncs)} synced every {' or '.join(every)}"
    if "report" in jobs:
        said += (
            f"; the weekly report next on {_when(jobs['report'].next_run_time, cfg)} "
            "(stored for the Reports page, not sent: the demo has no recipients)"
        )
    return f"{said}. Its log: {log_file}"


def _interval(span: dt.timedelta) -> str:
    seconds = round(span.total_seconds())
    return f"{seconds} s" if seconds < 60 else f"{seconds / 60:g} min"


def store_recent_reports(engine: Engine, cfg: Config, stop: threading.Event) -> None:
    """Store the weekly reports of the last complete weeks, newest first, as
    `teamtide report --week` does (generated and stored, never sent); say which."""
    import logging

    from report import delivery, weeks

    now = dt.datetime.now(dt.UTC)
    last = weeks.last_complete_week(now, cfg)
    stored: list[str] = []
    chartless = False
    for back in range(DEMO_REPORT_WEEKS):
        if stop.is_set():
            return
        monday = last - dt.timedelta(weeks=back)
        try:
            result = delivery.run(engine, cfg, monday, now, send=False)
        except Exception as exc:  # one week's failure leaves the others, and the demo, alone
            logging.getLogger(__name__).exception("the demo's report %s", monday)
            if not stop.is_set():
                err.print(
                    f"[bold yellow]warning:[/] the report for {weeks.week_label(monday)} "
                    f"could not be built: {escape(f'{type(exc).__name__}: {exc}')}",
                    highlight=False,
                )
            continue
        stored.append(result.period)
        if result.rendered.images.error and not chartless:
            chartless = True
            err.print(
                "[bold yellow]warning:[/] the reports have no charts: Kaleido needs Chromium "
                "on the PATH (Debian: apt install chromium).",
                highlight=False,
            )
    if stored:
        console.print(
            f"Reports page: the weekly reports of {', '.join(sorted(stored))} are stored "
            "(not sent: the demo has no recipients).",
            highlight=False,
        )


def sandbox_process(*args: str, **popen: Any) -> subprocess.Popen[Any]:
    """`python -m sandbox ARGS` as our child, in a process group of its own.

    Its own group: a Ctrl-C in the terminal reaches this process alone, which passes it
    on once (or stops the child itself), so the child never hears it twice.
    """
    env = dict(
        os.environ, SANDBOX_PARENT_PID=str(os.getpid()), SANDBOX_PROG_NAME="teamtide sandbox"
    )
    command = [sys.executable, "-m", "sandbox", *args]
    return children.start(command, env=env, process_group=0, **popen)


@contextlib.contextmanager
def served_sandbox(*args: str) -> Iterator[dict[str, Any]]:
    """`sandbox serve ARGS` until the block ends, however it ends; yields where everything is.

    The sandbox says what it generated and where it serves on our stderr, as it does
    under `teamtide sandbox serve`, then writes one JSON line of URLs on its stdout once
    it serves. If it exits first, its own message has been said: we exit with its code.
    """
    child = sandbox_process("serve", *args, "--ready-file", "-", stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise typer.Exit(children.exit_code(child.wait()) or 1)
        yield json.loads(line)
    finally:
        children.stop(child, SANDBOX_STOP_SECONDS)


def sandbox_clock(url: str) -> dt.datetime:
    """The sandbox's clock, read through its admin API."""
    with urllib.request.urlopen(url, timeout=600) as answer:
        return dt.datetime.fromisoformat(json.load(answer)["clock"])


@app.command(
    "sandbox",
    help=SANDBOX_HELP,
    add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def sandbox(ctx: typer.Context) -> None:
    """`python -m sandbox` under our name: its commands, options, help and messages, as a child.

    Every argument goes through unread; the child's exit code comes back, and SIGINT,
    SIGTERM and SIGHUP are passed on to it (it stops its servers cleanly).
    """
    child = sandbox_process(*ctx.args)
    code = children.wait(child, FORWARDED_SIGNALS, SANDBOX_STOP_SECONDS)
    raise typer.Exit(children.exit_code(code))


def run() -> None:
    app(prog_name="teamtide")


if __name__ == "__main__":
    sys.exit(run())
