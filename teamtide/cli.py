"""The `teamtide` command: the composition root, the one place that wires every layer together."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from collectors.org import prepare_database
from config.display import summary_text
from config.document import ConfigError, format_problems
from config.load import load_config, resolve_config_path
from config.schema import Config

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from collectors.sync import SourceOutcome
    from sandbox.stack import SandboxStack

app = typer.Typer(
    help="teamtide: where engineering time goes, how long people wait, and whether load comes in floods and droughts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(
    help="The synthetic organisation served as fake Jira, GitHub and Kubernetes APIs.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")

console = Console()
err = Console(stderr=True)

EXIT_CONFIG = 2


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


def load(require_env: bool = False) -> Config:
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
def init() -> None:
    """Create or upgrade the database schema and load the org file's teams and people. Safe to rerun."""
    from db.session import redact_url

    cfg = load()
    _, said = prepare_database(cfg)
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
) -> None:
    """Pull new and changed records from the configured sources; exits 1 if any source failed."""
    from collectors.sync import SOURCES, configured_sources

    known = [name for name, _ in SOURCES]
    for name in source or []:
        if name not in known:
            fail(f"unknown source {name!r}: choose from {', '.join(known)}", EXIT_CONFIG)
    cfg = load(require_env=True)
    if not (source or configured_sources(cfg)):
        fail(
            f"no sources configured in {state.config_path} (sources.jira, sources.github, sources.cluster)",
            EXIT_CONFIG,
        )
    engine, _ = prepare_database(cfg)
    outcomes = sync_and_summarise(engine, cfg, only=source, full=full)
    if any(o.failed for o in outcomes):
        raise typer.Exit(1)


def sync_and_summarise(
    engine: Engine,
    cfg: Config,
    *,
    only: list[str] | None = None,
    full: bool = False,
    now: Callable[[], dt.datetime] | None = None,
) -> list[SourceOutcome]:
    """Run the sync with a progress bar, then print a table of what each stream did."""
    from collectors.sync import sync as run_sync
    from teamtide.progress import RichProgress

    clock = {"now": now} if now else {}
    with RichProgress(err) as progress:
        outcomes = run_sync(engine, cfg, only=only, full=full, progress=progress, **clock)
    table = Table(title="sync")
    for column in (
        "source",
        "stream",
        "partition",
        "rows",
        "rejects",
        "pages",
        "requests",
        "outcome",
    ):
        table.add_column(
            column,
            justify="right" if column in ("rows", "rejects", "pages", "requests") else "left",
        )
    for outcome in outcomes:
        if outcome.error:
            table.add_row(
                outcome.source, "", "", "", "", "", "", f"[red]{escape(outcome.error)}[/]"
            )
        for r in outcome.results:
            status = f"[red]{escape(r.error)}[/]" if r.error else "[green]ok[/]"
            table.add_row(
                r.source,
                r.stream,
                r.partition,
                str(r.rows),
                str(r.rejects),
                str(r.pages),
                str(r.requests),
                status,
            )
    console.print(table)
    return outcomes


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
) -> None:
    """Compute the metrics of DESIGN.md for a window (durations in hours)."""
    import json

    from db.session import make_engine
    from metrics import reading

    if fmt not in ("json", "csv", "table"):
        fail(f"--format {fmt!r}: choose json, csv or table", EXIT_CONFIG)
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if last < first:
        fail(f"--to {last} is before --from {first}", EXIT_CONFIG)
    cfg = load()
    unknown = [t for t in team or [] if t not in cfg.team_names()]
    if unknown:
        fail(
            f"unknown team(s) {', '.join(unknown)}: the org file has {', '.join(cfg.team_names())}",
            EXIT_CONFIG,
        )
    engine = make_engine(cfg.database.url, readonly=True)
    with err.status("Computing metrics…"), engine.connect() as conn:
        result = reading.summary(conn, cfg, first, last, team or None, dt.datetime.now(dt.UTC))
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2, allow_nan=False) + "\n")
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
        view = Table(title=name)
        for column in frame.columns:
            view.add_column(str(column))
        for row in frame.itertuples(index=False):
            view.add_row(*(_cell(v) for v in row))
        console.print(view)


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
    import signal
    import subprocess

    env = dict(os.environ, TEAMTIDE_CONFIG=str(config_path.resolve()))
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_file()),
        "--server.address", host, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        # A wall screen in a planning meeting has no use for Streamlit's Deploy button.
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    shown = f"[{host}]" if ":" in host else host
    console.print(f"Dashboard on http://{shown}:{port}", highlight=False)
    child = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    try:
        previous = signal.signal(signal.SIGTERM, forward)
        installed = True
    except ValueError:  # not the main thread (an embedding caller): nothing to forward
        previous, installed = None, False
    try:
        code = child.wait()
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    raise typer.Exit(code)


@app.command()
def schedule() -> None:
    """Run every collector and the weekly report on the configured schedule, until SIGTERM/SIGINT."""
    import logging

    from teamtide import scheduler

    cfg = load(require_env=True)
    prepare_database(cfg)
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

    cfg = load(require_env=send)
    now = dt.datetime.now(dt.UTC)
    try:
        monday = weeks.parse_week(week) if week else weeks.last_complete_week(now, cfg)
    except ValueError as exc:
        fail(f"--week {exc}", EXIT_CONFIG)
    if send and not recipients.recipients(cfg):
        fail(
            f"nothing to send to: set weekly.recipients or weekly.webhook_url in {state.config_path}",
            EXIT_CONFIG,
        )
    engine, _ = prepare_database(cfg)
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
def status() -> None:
    """Sources, last success and error, rows and rejects; unmapped identities."""
    from db import queries
    from db.session import session_scope

    cfg = load()
    engine, _ = prepare_database(cfg)
    with session_scope(engine) as session:
        streams = queries.stream_overview(session)
        unmapped = queries.unmapped_identities(session)
        next_run = queries.next_runs(session.connection())
        last_runs = queries.last_job_runs(session)
    table = Table(title="sources")
    for column in (
        "source",
        "stream",
        "partition",
        "last success",
        "last error",
        "next run",
        "rows",
        "rejects",
        "kept rejects",
    ):
        table.add_column(column)
    if not streams:
        console.print("No sync has run yet: `teamtide sync` pulls the configured sources.")
    for row in streams:
        table.add_row(
            row["source"],
            row["stream"],
            row["partition"],
            _when(row["last_success"], cfg),
            escape(row["last_error"] or ""),
            _when(row["next_run"], cfg, "not scheduled"),
            str(row["rows"]),
            str(row["rejects"]),
            str(row["rejects_kept"]),
        )
    if streams:
        console.print(table)
    if last_runs or next_run:
        # the scheduler's view: the report job has no sync_state, and a skipped or missed
        # attempt leaves none either
        runs = Table(title="scheduled jobs (teamtide schedule)")
        for column in ("job", "last run", "outcome", "detail", "next run"):
            runs.add_column(column)
        for job in sorted(set(last_runs) | {j.removeprefix("teamtide-") for j in next_run}):
            run = last_runs.get(job)
            runs.add_row(
                job,
                _when(run.finished_at if run else None, cfg),
                escape(run.outcome or "") if run else "",
                escape(run.detail or "") if run else "",
                _when(next_run.get(f"teamtide-{job}"), cfg, "not scheduled"),
            )
        console.print(runs)
    if unmapped:
        ids = Table(
            title=f"{len(unmapped)} unmapped identities (add them to a person in the org file)"
        )
        for column in ("source", "account", "name", "e-mail"):
            ids.add_column(column)
        for i in unmapped:
            ids.add_row(i.source, i.value, escape(i.display_name or ""), i.email or "")
        console.print(ids)


def _when(moment: dt.datetime | None, cfg: Config, otherwise: str = "never") -> str:
    return moment.astimezone(cfg.org.tz).strftime("%Y-%m-%d %H:%M %Z") if moment else otherwise


DEMO_DIR = Path(".demo")
DEMO_GITHUB_RATE_LIMIT = 1_000_000


@app.command()
def demo(
    scale: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed of the generated world.")] = 1,
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.")] = 8501,
    directory: Annotated[
        Path, typer.Option(help="Where the demo's org file and SQLite database go.")
    ] = DEMO_DIR,
) -> None:
    """Start the sandbox, sync it into SQLite and open the dashboard (Ctrl-C stops both)."""
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "teamtide.db"
    for stale in directory.glob("teamtide.db*"):  # a new world each time: no stale cursors
        stale.unlink()
    # The demo wants the dashboard in minutes, not after GitHub's hourly reset.
    with started_sandbox(
        seed,
        scale,
        end=None,
        port=0,
        jira_server=False,
        prometheus=None,
        github_rate_limit=DEMO_GITHUB_RATE_LIMIT,
    ) as stack:
        # The world's clock is midnight today; move it to the wall clock's minute, so
        # the figures are as of now and the sync is not reported as hours stale.
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        if now > stack.world.clock:
            stack.advance(now)
        # On this machine the viewer is the org's director: show the person-level views.
        path = stack.write_config(
            directory / "teamtide.yaml",
            f"sqlite:///{database.resolve()}",
            access={"person_level": True},
        )
        state.config_path = path
        cfg = load(require_env=True)
        engine, said = prepare_database(cfg)
        console.print(said, highlight=False)
        outcomes = sync_and_summarise(engine, cfg, now=lambda: stack.world.clock)
        engine.dispose()
        if any(o.failed for o in outcomes):
            fail("the demo sync failed (see the table above)")
        console.print(
            f"Org file: {path} (try `teamtide --config {path} metrics --from ... --to ...`)",
            highlight=False,
        )
        run_dashboard(path, "127.0.0.1", port)


@contextlib.contextmanager
def started_sandbox(
    seed: int,
    scale: str,
    *,
    end: dt.date | None,
    port: int,
    jira_server: bool,
    prometheus: bool | None,
    github_rate_limit: int | None = None,
) -> Iterator[SandboxStack]:
    """Generate a world and start the whole sandbox stack, saying what is where."""
    from sandbox.generator import SCALES, generate
    from sandbox.stack import SandboxStack

    if scale not in SCALES:
        fail(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}", EXIT_CONFIG)
    with err.status(f"Generating the {scale} world (seed {seed})…"):
        world = generate(seed, scale, end)
    stack = SandboxStack(
        world,
        port=port,
        jira_cloud=not jira_server,
        prometheus=prometheus,
        github_rate_limit=github_rate_limit,
    )
    with err.status("Starting Jira, GitHub, Kubernetes and Prometheus on 127.0.0.1…"):
        try:
            stack.start()
        except (OSError, RuntimeError) as exc:
            fail(f"the sandbox could not start: {exc}")
    deployment = "Server" if jira_server else "Cloud"
    err.print(
        f"sandbox {scale} world, clock {world.clock:%Y-%m-%d %H:%M} UTC\n"
        f"  jira       {stack.http.jira_url} ({deployment})\n"
        f"  github     {stack.http.github_url}\n"
        f"  kubernetes {stack.kube.api_url if stack.kube else '-'}\n"
        f"  prometheus {stack.prometheus_url or 'not installed (apt-get install prometheus)'}\n"
        f"  admin      {stack.http.url}/_sandbox/clock | faults | stats",
        highlight=False,
    )
    try:
        yield stack
    finally:
        stack.stop()


def _faults(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """`jira:rate_limit_every=5,retry_after_seconds=2` -> ("jira", {...}); exit 2 on a bad one."""
    found = []
    for value in values:
        service, _, settings = value.partition(":")
        pairs = [p.partition("=") for p in settings.split(",") if p]
        if not service or not pairs or any(not k or not sep for k, sep, _ in pairs):
            fail(
                f"--fault {value!r}: write SERVICE:KEY=VALUE[,KEY=VALUE], e.g. jira:error_burst=3",
                EXIT_CONFIG,
            )
        found.append((service, {k: v for k, _, v in pairs}))
    return found


@sandbox_app.command("serve")
def sandbox_serve(
    seed: Annotated[int, typer.Option(help="Random seed of the generated world.")] = 1,
    scale: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8600,
    end: Annotated[
        str | None, typer.Option(help="The world's last day, YYYY-MM-DD. Default: today.")
    ] = None,
    jira_server: Annotated[
        bool,
        typer.Option("--jira-server", help="Report Jira Server/Data Center instead of Cloud."),
    ] = False,
    prometheus: Annotated[
        bool | None,
        typer.Option(
            "--prometheus/--no-prometheus",
            help="Serve the cluster's history from Prometheus. Default: when installed.",
        ),
    ] = None,
    write_config: Annotated[
        Path | None,
        typer.Option(help="Also write an org file for this world, every source pointing here."),
    ] = None,
    database_url: Annotated[
        str, typer.Option(help="The database URL written into that org file.")
    ] = "sqlite:///teamtide.db",
    github_rate_limit: Annotated[
        int, typer.Option(help="GitHub's primary rate limit, requests an hour (the real one).")
    ] = 5000,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Misbehave: SERVICE:KEY=VALUE[,...], e.g. jira:rate_limit_every=5 or "
            "github:malformed=true (repeatable; see sandbox/http.py Faults)."
        ),
    ] = None,
) -> None:
    """Serve a generated organisation as Jira, GitHub and Kubernetes APIs on 127.0.0.1."""
    import signal
    import threading

    faults = _faults(fault or [])
    last_day = parse_day(end, "--end") if end else None
    with started_sandbox(
        seed,
        scale,
        end=last_day,
        port=port,
        jira_server=jira_server,
        prometheus=prometheus,
        github_rate_limit=github_rate_limit,
    ) as stack:
        for service, settings in faults:
            try:
                stack.state.set_faults(service, **settings)
            except (ValueError, TypeError) as exc:
                fail(f"--fault {service}: {exc}", EXIT_CONFIG)
        if write_config:
            written = stack.write_config(write_config, database_url)
            err.print(f"org file for this world: {written}", highlight=False)
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        err.print("Serving; stop with Ctrl-C.")
        stopped.wait()


@sandbox_app.command("truth")
def sandbox_truth(
    seed: Annotated[int, typer.Option(help="Random seed of the generated world.")] = 1,
    scale: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    end: Annotated[
        str | None, typer.Option(help="The world's last day, YYYY-MM-DD. Default: today.")
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="First day, YYYY-MM-DD. Default: the world's first."),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD. Default: the world's last.")
    ] = None,
) -> None:
    """Print the ground truth the generator planted, in the shape of `teamtide metrics` JSON."""
    import json

    from sandbox.generator import SCALES, generate
    from sandbox.truth import truth_report

    if scale not in SCALES:
        fail(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}", EXIT_CONFIG)
    world = generate(seed, scale, parse_day(end, "--end") if end else None)
    start = parse_day(from_, "--from") if from_ else None
    stop = parse_day(to, "--to") if to else None
    print(json.dumps(truth_report(world, start, stop), indent=2, default=str))


def run() -> None:
    app(prog_name="teamtide")


if __name__ == "__main__":
    sys.exit(run())
