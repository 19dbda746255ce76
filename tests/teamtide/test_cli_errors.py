"""A database that can't be reached or used: one line on stderr, exit 2 or 1, no traceback.

Every command that touches the database (`init`, `status`, `report`, `sync`, `metrics`)
meets each way a database goes wrong in practice: a host that does not resolve, a port
nobody listens on, a SQLite directory that does not exist, a read-only database file,
and a file that is not a database. Exit 2 is bad input (the org file must change), exit 1
an unavailable dependency (see `teamtide/failures.py`); nothing is written either way,
and the database password is never shown.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collectors.org import prepare_database
from config.load import load_config
from teamtide.cli import app

PASSWORD = "s3cret-pw-never-shown"
TOKEN_VAR = "TEAMTIDE_TEST_ERRORS_TOKEN"
COMMANDS = {
    "init": ["init"],
    "status": ["status"],
    "report": ["report", "--week", "2025-W10"],
    "sync": ["sync"],
    "metrics": ["metrics", "--from", "2025-01-06", "--to", "2025-02-02"],
}


def org_file(directory: Path, url: str) -> Path:
    path = directory / "teamtide.yaml"
    path.write_text(
        f"database:\n  url: '{url}'\n"
        "org:\n"
        "  teams: [{name: Research, kind: research}]\n"
        "  people:\n"
        "    - name: Ada\n"
        "      memberships: [{team: Research, from: 2024-01-01}]\n"
        "sources:\n"
        "  jira: {url: 'http://127.0.0.1:9', email: bot@acme.example, "
        "token: '${" + TOKEN_VAR + "}', jql: 'project = ENG'}\n"
    )
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on leaving: nobody listens there


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Case:
    url: str
    exit_code: int  # every command but `metrics`, which only reads
    says: str  # in the one line: where the database is
    metrics_exit: int | None = None  # when `metrics` differs
    untouched: Callable[[], None] = lambda: None  # asserts nothing was written


def unresolvable_host(tmp_path: Path) -> Case:
    url = f"postgresql+psycopg://teamtide:{PASSWORD}@no-such-host.invalid:5432/teamtide"
    return Case(url, 1, "no-such-host.invalid:5432")


def closed_port_case(tmp_path: Path) -> Case:
    port = closed_port()
    return Case(
        f"postgresql+psycopg://teamtide:{PASSWORD}@127.0.0.1:{port}/teamtide",
        1,
        f"127.0.0.1:{port}",
    )


def missing_directory(tmp_path: Path) -> Case:
    missing = tmp_path / "no" / "such" / "dir"

    def untouched() -> None:
        assert not (tmp_path / "no").exists()

    return Case(f"sqlite:///{missing / 'teamtide.db'}", 2, str(missing), untouched=untouched)


def not_a_database(tmp_path: Path) -> Case:
    path = tmp_path / "teamtide.db"
    path.write_text("these are the minutes of the planning meeting, not a database\n" * 20)
    before = digest(path)

    def untouched() -> None:
        assert digest(path) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["teamtide.db", "teamtide.yaml"]

    return Case(f"sqlite:///{path}", 2, str(path), untouched=untouched)


def read_only_file(tmp_path: Path, request: pytest.FixtureRequest) -> Case:
    """A migrated database whose file may not be written (root needs `chattr +i` for that)."""
    path = tmp_path / "ro" / "teamtide.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    engine, _ = prepare_database(load_config(org_file(path.parent, url)))
    engine.dispose()  # the last connection closed: no WAL or shared-memory file is left
    path.chmod(0o444)
    if os.geteuid() == 0:  # root writes whatever the mode says, but not an immutable file
        chattr = shutil.which("chattr")
        made = chattr and subprocess.run([chattr, "+i", str(path)], capture_output=True)
        if not made or made.returncode != 0:
            pytest.skip("running as root where `chattr +i` is unavailable: no read-only file")
        request.addfinalizer(lambda: subprocess.run([chattr, "-i", str(path)], check=True))
    before = digest(path)

    def untouched() -> None:
        assert digest(path) == before

    return Case(url, 1, str(path), metrics_exit=0, untouched=untouched)


CASES = {
    "unresolvable host": unresolvable_host,
    "closed port": closed_port_case,
    "missing SQLite directory": missing_directory,
    "read-only database file": read_only_file,
    "not a database": not_a_database,
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Case, Path]]:
    make = CASES[request.param]
    made = make(tmp_path, request) if make is read_only_file else make(tmp_path)
    config = org_file(tmp_path if make is not read_only_file else tmp_path / "ro", made.url)
    yield made, config


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_database_that_cannot_be_used_is_one_line_and_an_exit_code(
    case: tuple[Case, Path], command: str
) -> None:
    made, config = case
    result = CliRunner().invoke(
        app, ["--config", str(config), *COMMANDS[command]], env={TOKEN_VAR: "token"}
    )
    # no exception escaped the command: it ended through typer.Exit with its code
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    expected = (
        made.metrics_exit
        if command == "metrics" and made.metrics_exit is not None
        else made.exit_code
    )
    assert result.exit_code == expected, result.output
    assert PASSWORD not in result.output
    if expected == 0:  # reading a read-only file is what `metrics` does
        assert "Traceback" not in result.stderr and not result.stderr.strip()
    else:
        line = one_line_error(result.stderr)
        assert made.says in line and "database.url" in line and str(config) in line
        assert not result.stdout.strip()
    made.untouched()


def test_the_installed_command_prints_no_traceback(case: tuple[Case, Path]) -> None:
    """The same through the console script: what cron mails and CI logs show."""
    made, config = case
    done = subprocess.run(
        [str(Path(sys.executable).parent / "teamtide"), "--config", str(config), "sync"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **{TOKEN_VAR: "token"}),
        check=False,
    )
    assert done.returncode == made.exit_code, done.stderr
    assert made.says in one_line_error(done.stderr)
    assert PASSWORD not in done.stdout + done.stderr
    made.untouched()


def test_an_unknown_database_driver_is_bad_input(tmp_path: Path) -> None:
    config = org_file(
        tmp_path, f"postgresql+nosuchdriver://teamtide:{PASSWORD}@db.example/teamtide"
    )
    result = CliRunner().invoke(app, ["--config", str(config), "init"])
    assert result.exit_code == 2, result.output
    assert "database.url" in one_line_error(result.stderr)
    assert PASSWORD not in result.output


def test_a_directory_that_cannot_be_written_names_the_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'teamtide.db'}"
    config = org_file(tmp_path, url)
    assert CliRunner().invoke(app, ["--config", str(config), "init"]).exit_code == 0
    blocker = tmp_path / "out"
    blocker.write_text("a file where the report's folder should go")
    result = CliRunner().invoke(
        app,
        ["--config", str(config), "metrics", "--from", "2025-01-06", "--to", "2025-01-12",
         "--format", "csv", "--out", str(blocker / "csv")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert str(blocker) in one_line_error(result.stderr)


def test_a_server_that_accepts_and_never_answers_times_out_in_one_line(tmp_path: Path) -> None:
    """A dead proxy or a swallowing firewall: without a connect timeout libpq waits forever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the handshake; nobody ever speaks
        port = silent.getsockname()[1]
        url = f"postgresql+psycopg://teamtide:{PASSWORD}@127.0.0.1:{port}/teamtide"
        env = {k: v for k, v in os.environ.items() if k != "PGCONNECT_TIMEOUT"}
        done = subprocess.run(
            [str(Path(sys.executable).parent / "teamtide"), "--config",
             str(org_file(tmp_path, url)), "status"],
            capture_output=True, text=True, timeout=90, env=env, check=False,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    line = one_line_error(done.stderr)
    assert f"127.0.0.1:{port}" in line and "timed out" in line
    assert PASSWORD not in done.stdout + done.stderr
