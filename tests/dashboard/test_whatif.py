"""The What-if page: the editor by role, a saved scenario beside the baseline with its
calibration, the delivery forecast with its backtest, and people named only where allowed."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from db import scenarios
from db.session import make_engine
from tests.dashboard.conftest import QUERY

SCENARIO = {
    "name": "infra helps enablement",
    "moves": [{"person": None, "team": "Enablement", "from": None}],
    "routes": [{"category": "DS support", "team": "Enablement", "from_team": "Infra"}],
}


def _org(synced_world: Any, directory: Path, access: dict[str, Any]) -> Path:
    """The synced world's org file over a copy of its database, with `access` set."""
    shutil.copy(synced_world.db_url.removeprefix("sqlite:///"), directory / "teamtide.db")
    data = yaml.safe_load(synced_world.config_path.read_text())
    data["database"]["url"] = f"sqlite:///{directory / 'teamtide.db'}"
    data["access"] = access
    path = directory / "teamtide.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def saved(synced_world: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two org files (a director's and a member's) over one database holding a scenario that
    moves an Infra engineer into Enablement."""
    directory = tmp_path_factory.mktemp("whatif-page")
    director = _org(synced_world, directory, {"person_level": True, "local_role": "director"})
    member = directory / "member.yaml"
    data = yaml.safe_load(director.read_text())
    data["access"] = {"person_level": True, "local_role": "member"}
    member.write_text(yaml.safe_dump(data, sort_keys=False))
    config = yaml.safe_load(director.read_text())
    infra = sorted(
        p["name"]
        for p in config["org"]["people"]
        if any(m["team"] == "Infra" for m in p.get("memberships", []))
    )
    body = {**SCENARIO, "moves": [{"person": infra[0], "team": "Enablement", "from": None}]}
    engine = make_engine(config["database"]["url"])
    scenarios.save(engine, body["name"], "ada", body, dt.datetime(2025, 6, 30, tzinfo=dt.UTC))
    engine.dispose()
    return {"director": director, "member": member, "person": infra[0]}


def _texts(at: Any) -> str:
    parts = [str(e.value) for kind in (at.markdown, at.caption, at.json) for e in kind]
    parts += [str(e.label) for e in at.selectbox] + [
        str(o) for e in at.selectbox for o in e.options
    ]
    return "\n".join(parts)


def test_a_director_simulates_a_saved_scenario_beside_the_baseline(run_page, saved):
    at = run_page(saved["director"], "whatif", **QUERY)
    assert not at.exception, [e.message for e in at.exception]
    assert saved["person"] in _texts(at)  # a director may see who moves
    at.selectbox(key="whatif-a").select("infra helps enablement").run()
    at.selectbox(key="whatif-b").select("no change (baseline)").run()
    at.number_input(key="whatif-weeks").set_value(6).run()
    at.button[[b.label for b in at.button].index("Simulate")].click().run()
    assert not at.exception, [e.message for e in at.exception]
    headers = [h.value for h in at.subheader]
    assert headers[:2] == ["no change (baseline)", "infra helps enablement"]
    metrics = {m.label for m in at.metric}
    assert "Support resolution (median)" in metrics
    downloads = [b for b in at.get("download_button")]
    assert len(downloads) >= 4  # every result table, and the calibration, as CSV
    assert any("Calibration" in e.label for e in at.expander)


def test_a_member_sees_no_names_in_the_editor_or_the_saved_scenario(run_page, saved):
    at = run_page(saved["member"], "whatif", **QUERY)
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="whatif-a").select("infra helps enablement").run()
    shown = _texts(at)
    assert saved["person"] not in shown
    assert "(someone)" in shown  # the move is there, its person is not
    assert "moving named people is for leads and directors" in shown
    assert "Save scenario" not in [b.label for b in at.button]


def test_the_forecast_form_shows_dates_and_the_backtest(run_page, saved, synced_world):
    from collections import Counter

    children = Counter(i.epic_key for i in synced_world.world.issues if i.epic_key)
    epic = children.most_common(1)[0][0]
    at = run_page(saved["director"], "whatif", **QUERY)
    at.text_input(key="whatif-epic").input(epic)
    at.button[[b.label for b in at.button].index("Forecast")].click().run()
    assert not at.exception, [e.message for e in at.exception]
    labels = {m.label for m in at.metric}
    assert {"P50 done by", "P85 done by", "P95 done by", "Backtest: done by P85"} <= labels
