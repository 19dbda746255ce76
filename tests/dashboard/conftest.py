"""Fixtures for the dashboard tests: org files over the synced world, an empty database, AppTest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Connection
from streamlit.testing.v1 import AppTest

from config.load import load_config
from config.schema import Config
from db import queries
from db.migrate import upgrade
from db.session import make_engine, session_scope
from metrics import reading

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
# A fixed window inside the tiny world (it spans ~April to June 2025, reorg 2025-05-12).
START, END = dt.date(2025, 4, 7), dt.date(2025, 6, 29)
QUERY = {"from": START.isoformat(), "to": END.isoformat()}


def _variant(source: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load(source.read_text())
    change(data)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@pytest.fixture(scope="session")
def people_config(synced_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced world's org file with person-level views on (the local viewer is a director)."""

    def change(data: dict[str, Any]) -> None:
        data["access"] = {"person_level": True, "local_role": "director"}

    return _variant(
        synced_world.config_path, tmp_path_factory.mktemp("people") / "teamtide.yaml", change
    )


@pytest.fixture(scope="session")
def lead_config(synced_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Person-level views on, and the local viewer the lead of Enablement only (the tiny
    world's Infra has no work in progress at the clock to show a lead)."""

    def change(data: dict[str, Any]) -> None:
        data["access"] = {
            "person_level": True,
            "local_role": "lead",
            "local_teams": ["Enablement"],
        }

    return _variant(
        synced_world.config_path, tmp_path_factory.mktemp("lead") / "teamtide.yaml", change
    )


@pytest.fixture(scope="session")
def ghost_config(synced_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced world's org file plus a team nobody belongs to."""

    def change(data: dict[str, Any]) -> None:
        data["org"]["teams"].append({"name": "Ghost", "kind": "other"})

    return _variant(
        synced_world.config_path, tmp_path_factory.mktemp("ghost") / "teamtide.yaml", change
    )


@pytest.fixture(scope="session")
def empty_config(synced_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced world's org file over a migrated database that no sync has filled."""
    directory = tmp_path_factory.mktemp("empty")
    url = f"sqlite:///{directory / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    def change(data: dict[str, Any]) -> None:
        data["database"] = {"url": url}

    return _variant(synced_world.config_path, directory / "teamtide.yaml", change)


@dataclass
class Expected:
    """Figures for the test window computed the CLI's way (metrics.reading), not by the pages."""

    config: Config
    now: dt.datetime
    report: dict[str, Any]

    def team(self, name: str) -> dict[str, Any]:
        return next(t for t in self.report["teams"] if t["team"] == name)


def data_moment(conn: Connection, engine: Any) -> dt.datetime:
    """What the dashboard shows its figures as of: the last successful sync, to the minute."""
    with session_scope(engine) as session:
        latest = max(s.last_success for s in queries.sync_states(session) if s.last_success)
    latest = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)
    return min(latest, dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)


@pytest.fixture(scope="session")
def expected(synced_world: Any) -> Expected:
    config = load_config(synced_world.config_path)
    engine = make_engine(synced_world.db_url, readonly=True)
    with engine.connect() as conn:
        now = data_moment(conn, engine)
        report = reading.summary(conn, config, START, END, None, now)
    engine.dispose()
    return Expected(config, now, report)


@pytest.fixture
def run_page(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Run one page (or the app) on an org file, with query parameters, and return the AppTest."""

    def run(config: Path, page: str, **query: str) -> AppTest:
        monkeypatch.setenv("TEAMTIDE_CONFIG", str(config))
        script = DASHBOARD / ("app.py" if page == "app" else f"views/{page}.py")
        at = AppTest.from_file(str(script), default_timeout=120)
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return run
