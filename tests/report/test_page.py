"""The dashboard's Reports page: past weeks listed, one shown from what was stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from db.session import make_engine
from report import weekly, weeks
from tests.report.helpers import NOW, WEEK

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "views" / "reports.py"


def _page(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TEAMTIDE_CONFIG", str(config_path))
    return AppTest.from_file(str(PAGE), default_timeout=120).run()


def test_the_page_says_how_to_make_a_report_when_there_is_none(report_world, monkeypatch) -> None:
    path, _ = report_world.write_config()
    at = _page(path, monkeypatch)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Weekly reports"
    assert any("teamtide report" in i.value for i in at.info)


@pytest.mark.slow
def test_the_page_lists_stored_weeks_and_shows_the_stored_report(report_world, monkeypatch) -> None:
    path, config = report_world.write_config()
    engine = make_engine(config.database.url)
    for week in ("2025-W25", WEEK):
        rendered, _ = weekly.publish(engine, config, weeks.parse_week(week), NOW, images=False)
    engine.dispose()
    at = _page(path, monkeypatch)
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox[0].options == [f"{WEEK} · not sent", "2025-W25 · not sent"]
    assert at.selectbox[0].value == WEEK  # the newest week first
    shown = "\n".join(m.value for m in at.markdown)
    assert rendered.headlines[0].split(" ")[0] in shown
    assert len(at.get("plotly_chart")) >= 3  # the report's charts, redrawn from its figures
