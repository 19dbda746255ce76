"""`teamtide metrics --forecast-weeks N`: the forecast block in the JSON and the tables."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from teamtide.cli import app
from tests.synced import SyncedWorld

ARGS = ["metrics", "--from", "2025-04-07", "--to", "2025-06-29"]


def test_forecast_weeks_adds_a_forecast_block_per_team(synced_world: SyncedWorld) -> None:
    result = CliRunner().invoke(
        app, ["--config", str(synced_world.config_path), *ARGS, "--forecast-weeks", "4"]
    )
    assert result.exit_code == 0, result.output
    block = json.loads(result.stdout)["forecast"]
    assert block["weeks"] == 4
    assert [t["team"] for t in block["teams"]] == synced_world.config.team_names()
    for team in block["teams"]:
        assert len(team["weeks"]) == 4
        assert len(team["backtest"]["horizons"]) == 4
        assert team["model"] == "seasonal naive" or team["model"].startswith("state-space (")
        assert set(team["drivers"]) >= {"period_weeks", "serving", "headcount_changes"}


def test_without_forecast_weeks_there_is_no_block(synced_world: SyncedWorld) -> None:
    result = CliRunner().invoke(app, ["--config", str(synced_world.config_path), *ARGS])
    assert result.exit_code == 0, result.output
    assert "forecast" not in json.loads(result.stdout)


def test_the_forecast_tables_come_with_the_table_format(synced_world: SyncedWorld) -> None:
    result = CliRunner().invoke(
        app,
        ["--config", str(synced_world.config_path), *ARGS, "--forecast-weeks", "2", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "# forecast\nteam,model,week,expected," in result.stdout
    assert "# forecast_accuracy\nteam,horizon,mase,coverage_80," in result.stdout


def test_more_than_twelve_weeks_is_refused_as_bad_input(synced_world: SyncedWorld) -> None:
    result = CliRunner().invoke(
        app, ["--config", str(synced_world.config_path), *ARGS, "--forecast-weeks", "13"]
    )
    assert result.exit_code == 2
    assert "--forecast-weeks 13: choose 1 to 12" in result.output
