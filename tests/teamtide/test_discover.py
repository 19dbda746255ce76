"""`teamtide discover` on the served `small` world, measured against the planted identities.

The sandbox plants which Jira and GitHub accounts belong together (`sandbox truth
--identities`): hidden Jira e-mails, personal commit e-mails, a renamed login, a
contractor, look-alike names, bots. Discovery's proposed pairs are scored against it,
and the draft it writes is synced and measured against the planted allocation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from synced import END
from typer.testing import CliRunner

from collectors.org import prepare_database
from collectors.sync import sync
from config.load import load_config
from metrics import reading
from sandbox.stack import SandboxStack
from sandbox.world.generate import generate
from sandbox.world.identities import identity_truth
from sandbox.world.model import World
from sandbox.world.truth import truth_report
from teamtide.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


@dataclass
class Discovered:
    world: World
    stack: SandboxStack
    config: Path
    draft: Path
    text: str
    doc: dict[str, Any]
    truth: dict[str, Any]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Discovered]:
    directory = tmp_path_factory.mktemp("discover")
    world = generate(1, "small", end=END)
    stack = SandboxStack(world, github_rate_limit=1_000_000).start()
    try:
        config = stack.write_config(directory / "teamtide.yaml", f"sqlite:///{directory / 'd.db'}")
        draft = directory / "draft.yaml"
        result = runner.invoke(app, ["-c", str(config), "discover", "--out", str(draft)])
        assert result.exit_code == 0, result.output
        text = draft.read_text()
        yield Discovered(
            world, stack, config, draft, text, yaml.safe_load(text), identity_truth(world)
        )
    finally:
        stack.stop()


def people(found: Discovered) -> list[dict[str, Any]]:
    return found.doc["org"]["people"]


def test_identity_matches_reach_the_precision_and_recall_the_issue_sets(small: Discovered) -> None:
    proposed = {
        (p["jira"], p["github"]) for p in people(small) if p.get("jira") and p.get("github")
    }
    true = {tuple(pair) for pair in small.truth["pairs"]}
    precision = len(proposed & true) / len(proposed)
    recall = len(proposed & true) / len(true)
    print(f"small: precision {precision:.3f} recall {recall:.3f} ({len(proposed)} proposed)")
    assert precision >= 0.98 and recall >= 0.9, (proposed - true, true - proposed)


def test_every_planted_case_is_handled(small: Discovered) -> None:
    cases = small.truth["cases"]
    by_github = {p.get("github"): p for p in people(small)}
    truth_by_github = {p["github"]: p for p in small.truth["people"]}
    # two e-mails: the commit's personal address is kept beside the Jira one
    for login in cases["two_emails"]:
        assert by_github[login]["jira"] == truth_by_github[login]["jira"], login
    assert cases["two_emails"] and cases["hidden_email"]
    # hidden Jira e-mails: still matched (by the name or the login)
    hidden = {p["jira"] for p in people(small) if p.get("jira") in set(cases["hidden_email"])}
    assert len(hidden) >= 0.9 * len(cases["hidden_email"])
    # a renamed login: found through Jira's user search by its public e-mail
    [renamed] = cases["renamed_login"]
    assert by_github[renamed]["jira"] == truth_by_github[renamed]["jira"]
    # the contractor: one person, flagged for review, in no team
    [contractor] = cases["contractor"]
    assert by_github[contractor]["jira"] == truth_by_github[contractor]["jira"]
    assert "memberships" not in by_github[contractor]
    assert "# contractor? no e-mail at acme.example" in small.text
    # look-alikes: not merged with the person whose name they share, listed as unmatched
    for login in cases["lookalike"]:
        assert login not in by_github
        assert f"#   github {login}:" in small.text
    # bots and service accounts: apart, never people
    for account in cases["bot"]:
        assert account not in by_github and all(p.get("jira") != account for p in people(small))
    bots = small.text.split("# Bots and service accounts")[1].split("# Accounts nobody")[0]
    assert "renovate[bot]" in bots and "acme-deploy" in bots


def test_teams_and_memberships_come_from_github_teams(small: Discovered) -> None:
    teams = {t["name"]: t["kind"] for t in small.doc["org"]["teams"]}
    assert teams == {"Research": "research", "Infra": "infra", "Enablement": "enablement"}
    for slug, team in small.truth["teams"].items():
        members = {
            p["github"]
            for p in people(small)
            for m in p.get("memberships", [])
            if m["team"] == team["name"]
        }
        assert members == set(team["members"]), slug


def test_the_draft_passes_check_config_and_is_never_overwritten(small: Discovered) -> None:
    checked = runner.invoke(app, ["-c", str(small.draft), "check-config"])
    assert checked.exit_code == 0, checked.output
    again = runner.invoke(app, ["-c", str(small.config), "discover", "--out", str(small.draft)])
    assert again.exit_code == 2 and "--force" in again.output
    assert small.draft.read_text() == small.text
    assert small.doc["workflow"]["stages"] == {"Blocked": "waiting"}


def test_people_csv_moves_become_memberships(small: Discovered, tmp_path: Path) -> None:
    person = next(p for p in people(small) if p.get("memberships"))
    email = person["emails"][0]
    csv = tmp_path / "hr.csv"
    csv.write_text(
        "name,email,team,start,end\n"
        f"{person['name']},{email},Squad,2024-01-01,2024-06-30\n"
        f"{person['name']},{email},Infra,2024-07-01,\n"
        "Newt Hire,newt.hire@acme.example,Infra,2025-06-01,\n"
    )
    out = tmp_path / "draft.yaml"
    args = ["-c", str(small.config), "discover", "--out", str(out), "--people-csv", str(csv)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(out.read_text())
    mine = next(p for p in doc["org"]["people"] if p.get("github") == person["github"])
    assert mine["memberships"] == [
        {"team": "Squad", "from": dt.date(2024, 1, 1), "to": dt.date(2024, 6, 30)},
        {"team": "Infra", "from": dt.date(2024, 7, 1)},
    ]
    assert "Squad" in {t["name"] for t in doc["org"]["teams"]}
    newt = next(p for p in doc["org"]["people"] if p["name"] == "Newt Hire")
    assert newt["emails"] == ["newt.hire@acme.example"] and "jira" not in newt
    assert runner.invoke(app, ["-c", str(out), "check-config"]).exit_code == 0


def test_the_discovered_org_file_recovers_the_planted_allocation(
    small: Discovered, tmp_path: Path
) -> None:
    """Synced with the draft, every team GitHub describes is within 3 points of the truth.

    GitHub teams say who is in a team today, so the window is the one after the reorg,
    when today's teams exist.
    """
    draft = tmp_path / "draft.yaml"
    text = small.text.replace(str(small.config.parent / "d.db"), str(tmp_path / "t.db"))
    draft.write_text(text)
    config = load_config(draft)
    engine, _ = prepare_database(config)
    outcomes = sync(engine, config, now=lambda: small.world.clock)
    engine.dispose()
    assert not [o for o in outcomes if o.failed]
    start = small.world.reorg_date + dt.timedelta(days=7 - small.world.reorg_date.weekday())
    end = small.world.clock.date() - dt.timedelta(days=1)
    truth = truth_report(small.world, start, end)
    from sqlalchemy import create_engine

    reader = create_engine(config.database.url)
    with reader.connect() as conn:
        mine = reading.summary(conn, config, start, end, None, small.world.clock)
    reader.dispose()
    got = {t["team"]: t["allocation"]["share"] for t in mine["teams"]}
    checked = 0
    for planted in truth["teams"]:
        if planted["team"] not in got:
            continue
        for category, share in planted["allocation"]["share"].items():
            if share is None:
                continue
            assert abs(got[planted["team"]][category] - share) <= 0.03, (
                planted["team"],
                category,
                got[planted["team"]],
                share,
            )
            checked += 1
    assert set(got) >= {"Research", "Infra", "Enablement"} and checked >= 3 * 5


def test_a_malformed_hr_export_is_named_with_its_line(small: Discovered, tmp_path: Path) -> None:
    csv = tmp_path / "hr.csv"
    csv.write_text("name,email,team,start\nAda Byrne,ada@acme.example,Infra,01/02/2024\n")
    out = tmp_path / "draft.yaml"
    args = ["-c", str(small.config), "discover", "--out", str(out), "--people-csv", str(csv)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "line 2: write dates as YYYY-MM-DD" in result.output and not out.exists()
