"""The sandbox's own command line: `python -m sandbox serve|truth`.

The sandbox is a program beside teamtide, not a part of it: `teamtide sandbox serve|truth`
run this one as a child process and pass their arguments through, and `teamtide demo`
starts `serve` with `--ready-file -` and talks to it over HTTP only (the admin routes
under `/_sandbox`). A supervising process sets two environment variables:
`SANDBOX_PARENT_PID`, so that the sandbox stops by itself once that process is gone
(it is never left running as an orphan), and `SANDBOX_PROG_NAME`, the command name its
usage lines and help show (`teamtide sandbox`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sandbox.stack import SandboxStack

PARENT_PID_VARIABLE = "SANDBOX_PARENT_PID"
PROG_NAME_VARIABLE = "SANDBOX_PROG_NAME"
PARENT_POLL_SECONDS = 0.5
# Ways to be told to stop. A hang-up too: under a supervisor the sandbox has a process group of
# its own, so a closed terminal reaches it only through the supervisor, as a SIGHUP.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_USAGE = 2

app = typer.Typer(
    help="The synthetic organisation served as fake Jira, GitHub and Kubernetes APIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def parse_day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date: write YYYY-MM-DD", EXIT_USAGE)


def check_scale(scale: str) -> None:
    from sandbox.world.settings import SCALES

    if scale not in SCALES:
        fail(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}", EXIT_USAGE)


def parse_faults(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """`jira:rate_limit_every=5,retry_after_seconds=2` -> ("jira", {...}); exit 2 on a bad one."""
    found = []
    for value in values:
        service, _, settings = value.partition(":")
        pairs = [p.partition("=") for p in settings.split(",") if p]
        if not service or not pairs or any(not k or not sep for k, sep, _ in pairs):
            fail(
                f"--fault {value!r}: write SERVICE:KEY=VALUE[,KEY=VALUE], e.g. jira:error_burst=3",
                EXIT_USAGE,
            )
        found.append((service, {k: v for k, _, v in pairs}))
    return found


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
    github_graphql_rate_limit: int | None = None,
    github_app_rate_limit: int | None = None,
    follow_wall_clock: bool = False,
) -> Iterator[SandboxStack]:
    """Generate a world and start the whole sandbox stack, saying what is where."""
    from sandbox.stack import SandboxStack
    from sandbox.world.generate import generate

    check_scale(scale)
    with err.status(f"Generating the {scale} world (seed {seed})…"):
        world = generate(seed, scale, end)
    stack = SandboxStack(
        world,
        port=port,
        jira_cloud=not jira_server,
        prometheus=prometheus,
        github_rate_limit=github_rate_limit,
        github_graphql_rate_limit=github_graphql_rate_limit,
        github_app_rate_limit=github_app_rate_limit,
        follow_wall_clock=follow_wall_clock,
    )
    with err.status("Starting Jira, GitHub, Kubernetes and Prometheus on 127.0.0.1…"):
        try:
            stack.start()
        except (OSError, RuntimeError) as exc:
            fail(f"the sandbox could not start: {exc}")
    deployment = "Server" if jira_server else "Cloud"
    following = (
        f", following the wall clock until {world.end:%Y-%m-%d}" if follow_wall_clock else ""
    )
    err.print(
        f"sandbox {scale} world, clock {world.clock:%Y-%m-%d %H:%M} UTC{following}\n"
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


def ready_facts(stack: SandboxStack, org_file: Path | None) -> dict[str, Any]:
    """Where everything is, for the process that waits on `--ready-file`."""
    return {
        "url": stack.http.url,
        "jira": stack.http.jira_url,
        "github": stack.http.github_url,
        "kubernetes": stack.kube.api_url if stack.kube else None,
        "prometheus": stack.prometheus_url,
        "clock": stack.world.clock.isoformat(),
        "org_file": str(org_file) if org_file else None,
        # the sandbox's GitHub App; its key file is written beside the org file
        "github_app": stack.app_facts(stack.app_key_path(org_file)) if org_file else None,
    }


def write_ready(target: Path, facts: dict[str, Any]) -> None:
    """One JSON line on stdout (`-`), or a file that appears whole (written, then renamed)."""
    line = json.dumps(facts)
    if str(target) == "-":
        print(line, flush=True)
        return
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(line + "\n")
    partial.replace(target)


def _abort_start(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM or SIGHUP while generating or starting: unwind, so whatever started is stopped."""
    raise SystemExit(128 + signum)


@app.command("serve")
def serve(
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
    github_graphql_rate_limit: Annotated[
        int, typer.Option(help="GitHub's GraphQL limit, points an hour (the real one).")
    ] = 5000,
    github_app_rate_limit: Annotated[
        int | None,
        typer.Option(
            help="The GitHub App installation's limit, requests (REST) and points (GraphQL) "
            "an hour. Default: GitHub's formula, 5,000 + 50 per repository and per member "
            "over 20, at most 12,500."
        ),
    ] = None,
    github_app: Annotated[
        bool,
        typer.Option(
            "--github-app",
            help="In the org file, sign in to GitHub as the sandbox's GitHub App (app_id, "
            "installation_id, private_key) instead of the token. The App's key is written "
            "beside the org file either way.",
        ),
    ] = False,
    follow_wall_clock: Annotated[
        bool,
        typer.Option(
            "--follow-wall-clock",
            help="Move the clock to the wall clock's minute, and on with it every minute, up "
            "to the world's last generated day (three weeks on): new work keeps arriving.",
        ),
    ] = False,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Misbehave: SERVICE:KEY=VALUE[,...], e.g. jira:rate_limit_every=5 or "
            "github:malformed=true (repeatable; see sandbox/http.py Faults)."
        ),
    ] = None,
    person_level: Annotated[
        bool,
        typer.Option(
            "--person-level",
            hidden=True,
            help="Write `access: {person_level: true}` into the org file (the demo's viewer).",
        ),
    ] = False,
    ready_file: Annotated[
        Path | None,
        typer.Option(
            hidden=True,
            help="For a supervising process: once serving, write where everything is as one "
            "JSON line to this file (`-`: stdout). That process speaks to the user itself, "
            "so the org-file and 'Serving' lines are left out.",
        ),
    ] = None,
) -> None:
    """Serve a generated organisation as Jira, GitHub and Kubernetes APIs on 127.0.0.1."""
    faults = parse_faults(fault or [])
    last_day = parse_day(end, "--end") if end else None
    for signum in (signal.SIGTERM, signal.SIGHUP):  # a Ctrl-C says "Aborted!" as ever
        signal.signal(signum, _abort_start)
    with started_sandbox(
        seed,
        scale,
        end=last_day,
        port=port,
        jira_server=jira_server,
        prometheus=prometheus,
        github_rate_limit=github_rate_limit,
        github_graphql_rate_limit=github_graphql_rate_limit,
        github_app_rate_limit=github_app_rate_limit,
        follow_wall_clock=follow_wall_clock,
    ) as stack:
        for service, settings in faults:
            try:
                stack.state.set_faults(service, **settings)
            except (ValueError, TypeError) as exc:
                fail(f"--fault {service}: {exc}", EXIT_USAGE)
        written = None
        if write_config:
            access = {"access": {"person_level": True}} if person_level else {}
            written = stack.write_config(
                write_config, database_url, github_app=github_app, **access
            )
            if ready_file is None:
                err.print(f"org file for this world: {written}", highlight=False)
        stopped = threading.Event()
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda *_: stopped.set())
        if ready_file is None:
            err.print("Serving; stop with Ctrl-C.")
        else:
            write_ready(ready_file, ready_facts(stack, written))
        stopped.wait()


@app.command("truth")
def truth(
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
    from sandbox.world.generate import generate
    from sandbox.world.truth import truth_report

    check_scale(scale)
    world = generate(seed, scale, parse_day(end, "--end") if end else None)
    start = parse_day(from_, "--from") if from_ else None
    stop = parse_day(to, "--to") if to else None
    print(json.dumps(truth_report(world, start, stop), indent=2, default=str))


def watch_parent(pid: int, every: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """Stop this process (a SIGTERM: the clean way out) once process `pid` is no longer its parent.

    A parent that dies, however it dies, leaves its children to another process: their
    parent id changes, which is what this watches.
    """

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="sandbox-parent-watch", daemon=True)
    thread.start()
    return thread


def run() -> None:
    parent = os.environ.get(PARENT_PID_VARIABLE, "")
    if parent.isdigit():
        watch_parent(int(parent))
    app(prog_name=os.environ.get(PROG_NAME_VARIABLE) or None)


if __name__ == "__main__":
    sys.exit(run())
