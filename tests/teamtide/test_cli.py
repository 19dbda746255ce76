"""The `teamtide` command as a user meets it: init, check-config, and plain refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamtide.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def example(tmp_path: Path) -> Path:
    path = tmp_path / "teamtide.yaml"
    text = (
        (ROOT / "teamtide.example.yaml")
        .read_text()
        .replace("sqlite:///teamtide.db", f"sqlite:///{tmp_path}/t.db")
    )
    path.write_text(text)
    return path


def test_init_creates_the_database_and_a_second_init_is_a_no_op(example: Path) -> None:
    code, out = run("--config", str(example), "init")
    assert code == 0, out
    assert "schema upgraded empty ->" in out and "org loaded" in out
    code, out = run("--config", str(example), "init")
    assert code == 0 and "schema up to date" in out and "org unchanged" in out


def test_check_config_names_every_problem_with_its_line_and_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "org:\n"
        "  teams: [{name: Research}]\n"
        "  people:\n"
        "    - name: Ada\n"
        "      memberships: [{team: Reserch, from: 2024-01-01}]\n"
        "schedule:\n"
        "  report: {cron: '0 8 * * funday'}\n"
    )
    code, out = run("--config", str(broken), "check-config")
    assert code == 2
    assert f"{broken}:5: org.people[0].memberships[0].team: unknown team 'Reserch'" in out
    assert f"{broken}:7: schedule.report.cron: bad cron expression" in out
    assert "2 problem(s)" in out


def test_check_config_on_a_valid_file_prints_a_summary(example: Path) -> None:
    env = {
        v: "x"
        for v in ("JIRA_TOKEN", "GITHUB_TOKEN", "SMTP_USER", "SMTP_PASSWORD", "REPORT_WEBHOOK_URL")
    }
    code, out = run("--config", str(example), "check-config", env=env)
    assert code == 0, out
    assert "Research" in out and "Infra" in out


def test_a_missing_org_file_is_a_clear_error(tmp_path: Path) -> None:
    code, out = run("--config", str(tmp_path / "nope.yaml"), "init")
    assert code == 2 and "no org file at" in out


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "teamtide"
    assert script.exists(), "pip install -e . should install the `teamtide` console script"


def test_every_command_is_in_the_readme_command_table() -> None:
    import typer.main

    from teamtide.cli import app

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    group = typer.main.get_group(app)
    names = []
    for name, command in group.commands.items():
        subcommands = getattr(command, "commands", None)
        names += [f"{name} {sub}" for sub in subcommands] if subcommands else [name]
    # `teamtide sandbox ...` runs `python -m sandbox ...`: its commands are ours to document
    from sandbox.cli import app as sandbox_app

    names.remove("sandbox")
    names += [f"sandbox {sub}" for sub in typer.main.get_group(sandbox_app).commands]
    assert len(names) >= 11
    missing = [n for n in names if f"| `teamtide {n}" not in readme]
    assert not missing, f"commands missing from the README's command table: {missing}"
