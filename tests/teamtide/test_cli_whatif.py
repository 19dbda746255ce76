"""`teamtide whatif` on the synced tiny world: save, list, run a scenario, forecast, and refusals."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from teamtide.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def org(synced_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced world's org file over a copy of its database (saving writes to it)."""
    directory = tmp_path_factory.mktemp("whatif")
    source = synced_world.db_url.removeprefix("sqlite:///")
    shutil.copy(source, directory / "teamtide.db")
    data = yaml.safe_load(synced_world.config_path.read_text())
    data["database"]["url"] = f"sqlite:///{directory / 'teamtide.db'}"
    path = directory / "teamtide.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(org: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--config", str(org), "whatif", *args])
    return result.exit_code, result.output


SCENARIO = """
name: fewer in infra
routes:
  - {category: DS support, team: Enablement, from_team: Infra}
"""


def test_a_saved_scenario_is_listed_and_runs_against_the_baseline(org: Path, tmp_path: Path):
    file = tmp_path / "scenario.yaml"
    file.write_text(SCENARIO)
    code, out = run(org, "--save", str(file), "--author", "ada")
    assert code == 0 and "saved scenario 'fewer in infra'" in out, out
    code, out = run(org, "--list", "--format", "json")
    listed = json.loads(out)["scenarios"]
    assert [(s["name"], s["author"], s["routes"]) for s in listed] == [("fewer in infra", "ada", 1)]
    code, out = run(
        org,
        "fewer in infra",
        "--to",
        "2025-06-29",
        "--weeks",
        "6",
        "--runs",
        "200",
        "--format",
        "json",
    )
    assert code == 0, out
    result = json.loads(out)
    assert set(result) >= {"load_by_team", "support", "calibration_load", "calibration_support"}
    teams = {row["team"] for row in result["load_by_team"]}
    assert {"Infra", "Enablement"} <= teams
    # The calibration is shown: the no-change runs' mean load next to what happened, per
    # team (the default 200 runs of a tiny world: each week alone is noisier, the mean is
    # close; a team of two engineers, whose weeks hold a few items each, needs more than a
    # handful of runs for its resampled mean to settle).
    for row in result["calibration_load"]:
        assert abs(row["simulated"] - row["actual"]) <= 0.05 * row["actual"], row


def test_a_forecast_shows_its_dates_and_the_backtest(org: Path, synced_world: Any):
    children = Counter(i.epic_key for i in synced_world.world.issues if i.epic_key)
    epic = children.most_common(1)[0][0]  # the long epic, begun with the world
    # a day its last weeks' items were still open (three created 29-30 May, done in June)
    code, out = run(org, "--epic", epic, "--to", "2025-05-30", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    figures = {row["figure"]: row["value"] for row in result["forecast"]}
    assert figures["remaining"] > 0
    assert "2025-05-31" <= figures["p50"] <= figures["p85"] <= figures["p95"]
    assert "backtest_share_by_p85" in figures and "backtest" in result


def test_refusals_are_one_line_with_exit_2(org: Path, tmp_path: Path):
    code, out = run(org, "no such scenario")
    assert code == 2 and "no scenario named 'no such scenario'" in out
    code, out = run(org, "--filter", "project = ENG OR project = DS")
    assert code == 2 and "unsupported filter clause" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmoves: [{person: A, team: B, from: soon}]\n")
    code, out = run(org, "--save", str(bad))
    assert code == 2 and "moves[0]: `from` must be a date" in out
    code, out = run(org)
    assert code == 2 and "give one of" in out
    assert "Traceback" not in out
