"""Who sees what, page by page: every role on every page of the app, through AppTest with the
signed-in user set, reading everything a page shows (text, metrics, tables, chart data and
the content of every CSV download) for people outside the viewer's scope.

The world is a copy of the synced sandbox database (the shared one is never written) with
two work items whose summary is hostile HTML, and one stored weekly report with its
delivery ledger (sent to two people of the org file), under an org
file with sign-in on, person-level views on, and three role rules: a director, the lead
of Enablement, and everyone else at acme.example a member.

Downloads: `st.download_button` with bytes puts the file in the run's media file manager
and its URL in the element's proto; with a callable (the pages' `widgets.table` writes its
CSV only when clicked) the proto carries a `deferred_file_id` instead. AppTest builds a new
`MediaFileManager` for each run and drops it when the run ends, so `recording_media_files`
keeps it, and `everything_shown` runs the deferred callable through
`MediaFileManager.execute_deferred` (what the server does on a click) and reads the file back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db import models
from db.session import make_engine
from db.upsert import upsert
from tests.dashboard.conftest import DASHBOARD, END, QUERY, START
from tests.dashboard.helpers import Shown, everything_shown, recording_media_files
from tests.synced import END as WORLD_END

DIRECTOR = "director@acme.example"
# The lead's team must have work in progress at the clock for the lead to see it: in the
# tiny world Enablement has, Infra (two engineers, one lane each in a demand trough) has not.
LEAD = "enablement-lead@acme.example"  # lead of Enablement by its rule
MEMBER = "someone@acme.example"  # matches only the member glob
LEAD_TEAM = "Enablement"
ROLES = [
    {"email": DIRECTOR, "role": "director"},
    {"email": LEAD, "role": "lead", "teams": [LEAD_TEAM]},
    {"email": "*@acme.example", "role": "member"},
]
HOSTILE = "<script>alert('tt')</script><b>bold</b> <img src=x onerror=alert(1)> & co"
REPORT_WEEK = dt.date(2025, 6, 23)

# Every page the app serves, from app.py's own list (the Reports page included once it exists).
PAGES = re.findall(r'st\.Page\(VIEWS / "(\w+)\.py"', (DASHBOARD / "app.py").read_text())
# Pages that show person-level views to a viewer entitled to them.
PEOPLE_PAGES = ("allocation", "flood")

WIDE = {"from": "2020-01-06", "to": "2026-12-27"}
# Query strings a lead might edit to reach other teams' people.
EDITED = {
    "window": dict(QUERY),
    "other teams": {**QUERY, "team": ["Research", "Squad"]},
    "every team, wide range": {**WIDE, "team": ["Research", "Squad", "Infra", "Enablement"]},
    "wide range, by month": {**WIDE, "grain": "month"},
    "before the reorg": {"from": "2025-03-31", "to": "2025-05-11", "team": ["Squad", "Infra"]},
    "unknown team": {**QUERY, "team": ["Ghost", "Research"]},
}


@dataclass(frozen=True)
class Person:
    """Everything that identifies one person on a page: names, addresses, accounts."""

    name: str
    teams: frozenset[str]  # every team they were ever a member of
    texts: frozenset[str]  # names and display names, e-mail addresses, Jira account ids
    logins: frozenset[str]  # GitHub logins (matched as whole words)

    def found_in(self, shown: Shown) -> dict[str, list[str]]:
        found = {text: shown.where(text) for text in self.texts}
        found |= {login: shown.where(login, words=True) for login in self.logins}
        return {text: kinds for text, kinds in found.items() if kinds}


@dataclass(frozen=True)
class RolesWorld:
    config: Path
    db_url: str
    people: tuple[Person, ...]

    def outside(self, team: str) -> list[Person]:
        return [p for p in self.people if team not in p.teams]

    def inside(self, team: str) -> list[Person]:
        return [p for p in self.people if team in p.teams]


# --- the world -------------------------------------------------------------------------


def _clone(conn: Any, item: dict[str, Any], **changes: Any) -> None:
    """Insert a copy of a work item (with its history) under a new key, through db.upsert."""
    table = models.WorkItem.__table__
    row = {k: v for k, v in item.items() if k != "id"} | changes
    ((new_id,),) = upsert(conn, table, [row], ["source", "key"], returning=["id"])
    children = (
        (models.ItemTransition, ["item_id", "change_id", "to_status"]),
        (models.ItemAssignment, ["item_id", "change_id"]),
        (models.ItemComment, ["item_id", "comment_id"]),
        (models.Worklog, ["item_id", "worklog_id"]),
    )
    for model, key in children:
        child = model.__table__
        rows = conn.execute(select(child).where(child.c.item_id == item["id"])).mappings()
        copies = [{k: v for k, v in r.items() if k != "id"} | {"item_id": new_id} for r in rows]
        upsert(conn, child, copies, key)


def _hostile_items(url: str, lead_accounts: set[str]) -> None:
    """Two items whose summary is HTML and script: work in progress of a member of the
    lead's team (uncategorized, so the Data health page lists it too) and a support request
    that team served past its target (the Support page's breaches)."""
    engine = make_engine(url)
    items = models.WorkItem.__table__
    with engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(items)).mappings()]
        start = dt.datetime.combine(START, dt.time(), dt.UTC)
        end = dt.datetime.combine(END, dt.time(), dt.UTC)

        def utc(value: dt.datetime) -> dt.datetime:
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

        working = next(
            r
            for r in sorted(rows, key=lambda r: utc(r["created_at"]), reverse=True)
            if r["done_at"] is None
            and r["stage"] == "active"
            and r["assignee_account"] in lead_accounts
            and utc(r["created_at"]) < end
        )
        served = next(
            r
            for r in rows
            if r["type"] == "Support Request"
            and r["done_at"] is not None
            and r["assignee_account"] in lead_accounts
            and start <= utc(r["created_at"]) < end
            and utc(r["done_at"]) - utc(r["created_at"]) > dt.timedelta(days=2)
        )
        _clone(
            conn,
            working,
            key="OPS-9901",
            source_id="9999901",
            project="OPS",
            type="Task",
            labels=[],
            components=[],
            epic_key=None,
            parent_key=None,
            summary=HOSTILE,
        )
        # Highest: a 24-hour resolution target, which this request (over two days) broke
        _clone(
            conn, served, key="DS-9902", source_id="9999902", priority="Highest", summary=HOSTILE
        )
    engine.dispose()


def _people(config: Any, url: str) -> tuple[Person, ...]:
    """Each person of the org file, and each account nobody owns, with what identifies them."""
    engine = make_engine(url, readonly=True)
    with engine.connect() as conn:
        identities = list(conn.execute(select(models.Identity.__table__)).mappings())
        people_ids = {r.name: r.id for r in conn.execute(select(models.Person.__table__))}
    engine.dispose()
    found = []
    for person in config.org.people:
        mine = [i for i in identities if i["person_id"] == people_ids[person.name]]
        texts = {person.name, *person.emails, *(i["display_name"] for i in mine)}
        texts |= {i["email"] for i in mine} | {i["value"] for i in mine if i["source"] != "github"}
        logins = {i["value"] for i in mine if i["source"] == "github"}
        teams = frozenset(m.team for m in person.memberships)
        found.append(
            Person(person.name, teams, frozenset(t for t in texts if t), frozenset(logins))
        )
    for i in identities:  # accounts of people the org file doesn't know (never in any team)
        if i["person_id"] is None and not i["value"].endswith("[bot]"):
            texts = {i["display_name"], i["email"]} | (
                {i["value"]} if i["source"] != "github" else set()
            )
            logins = {i["value"]} if i["source"] == "github" else set()
            name = i["display_name"] or i["value"]
            found.append(
                Person(name, frozenset(), frozenset(t for t in texts if t), frozenset(logins))
            )
    return tuple(found)


@pytest.fixture(scope="module")
def roles_world(synced_world: Any, tmp_path_factory: pytest.TempPathFactory) -> RolesWorld:
    from config.load import load_config
    from db import ledger
    from report import weekly

    directory = tmp_path_factory.mktemp("roles")
    target = directory / "teamtide.db"
    source = synced_world.db_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    url = f"sqlite:///{target}"
    lead_team = {
        p.jira
        for p in synced_world.config.org.people
        if p.jira and any(m.team == LEAD_TEAM for m in p.memberships)
    }
    _hostile_items(url, lead_team)

    data = yaml.safe_load(synced_world.config_path.read_text())
    data["database"] = {"url": url}
    data["access"] = {"sign_in": True, "person_level": True, "roles": ROLES}
    # the weekly report goes to two people of the org file (addresses only directors may see)
    recipients = [p.emails[0] for p in synced_world.config.org.people[:2]]
    data["report"] = {"recipients": recipients}
    path = directory / "teamtide.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    config = load_config(path)
    engine = make_engine(url)
    now = dt.datetime.combine(WORLD_END, dt.time(), dt.UTC)
    # for the Reports page: a stored report, sent to one recipient and failed for the other
    rendered, _ = weekly.publish(engine, config, REPORT_WEEK, now, images=False)
    ledger.ensure_rows(engine, rendered.period, recipients)
    for recipient, error in zip(
        recipients, (None, f"550 no mailbox <{recipients[1]}>"), strict=True
    ):
        ledger.claim(engine, rendered.period, recipient)
        ledger.settle(engine, rendered.period, recipient, error)
    engine.dispose()
    return RolesWorld(path, url, _people(config, url))


# --- running a page as someone -----------------------------------------------------------


@pytest.fixture
def view(
    roles_world: RolesWorld, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[AppTest, Shown]]:
    """Open one page of the app (app.py, its navigation and sign-in gate) as a signed-in user,
    optionally then pick options of the page's select boxes (key -> option), one rerun each."""
    monkeypatch.setenv("TEAMTIDE_CONFIG", str(roles_world.config))

    def run(
        page: str,
        user: dict[str, Any],
        query: dict[str, Any],
        picks: dict[str, str] | None = None,
    ) -> tuple[AppTest, Shown]:
        with recording_media_files() as made:
            at = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=120)
            at.user = user
            for key, value in query.items():
                at.query_params[key] = value
            at.switch_page(f"views/{page}.py").run()
            for key, value in (picks or {}).items():
                at.selectbox(key=key).select(value).run()
            assert not at.exception, [e.message for e in at.exception]
            return at, everything_shown(at, made[-1])

    return run


def signed_in(email: str) -> dict[str, Any]:
    return {"is_logged_in": True, "email": email, "email_verified": True, "name": "Someone"}


def leaks(people: list[Person], shown: Shown) -> dict[str, dict[str, list[str]]]:
    return {p.name: found for p in people if (found := p.found_in(shown))}


def person_tables(shown: Shown) -> list[pd.DataFrame]:
    return [t for t in shown.tables if {"person", "assignee"} & set(t.columns)]


def test_the_matrix_covers_every_page_of_the_app() -> None:
    assert {"overview", "allocation", "flood", "health"} <= set(PAGES)
    assert len(PAGES) == len(list((DASHBOARD / "views").glob("*.py")))


# --- member -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_a_member_never_sees_a_persons_name(view, roles_world, page) -> None:
    at, shown = view(page, signed_in(MEMBER), QUERY)
    assert at.title, "the page showed nothing"
    assert any("member" in t for t in (c.value for c in at.sidebar.caption))
    assert leaks(list(roles_world.people), shown) == {}
    assert person_tables(shown) == []
    if page in ("allocation", "turnaround"):  # where the detail would be, it says why not
        assert any("Person-level detail" in i.value for i in at.info)


# --- lead ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", list(EDITED.values()), ids=list(EDITED))
@pytest.mark.parametrize("page", PAGES)
def test_a_lead_sees_only_their_teams_people_whatever_the_query(
    view, roles_world, page, query
) -> None:
    at, shown = view(page, signed_in(LEAD), query)
    assert at.title, "the page showed nothing"
    assert leaks(roles_world.outside(LEAD_TEAM), shown) == {}
    members = {p.name for p in roles_world.inside(LEAD_TEAM)}
    for table in person_tables(shown):
        if "team" in table:
            assert set(table["team"].dropna()) <= {LEAD_TEAM}, table
        names = table.get("person", table.get("assignee"))
        assert set(names.dropna()) <= members, table
    for box in at.selectbox:
        if box.key == "drill-team":
            assert box.options == [LEAD_TEAM]


@dataclass(frozen=True)
class CarelessViewer:
    """A lead as a page that forgot to check would treat them: every team's people "shown"."""

    email: str | None
    role: str
    people_teams: frozenset[str]

    def sees_people(self, team: str) -> bool:
        return True


@pytest.fixture
def careless_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages see a viewer that lets every widget through; only the loaders' rule remains."""
    from dashboard import data

    real = data.viewer
    monkeypatch.setattr(
        data, "viewer", lambda config: CarelessViewer(**dataclasses.asdict(real(config)))
    )


CARELESS = [(page, None) for page in PAGES if page != "allocation"] + [
    ("allocation", team) for team in ("Research", "Squad", "Enablement", "Infra")
]


@pytest.mark.parametrize(("page", "team"), CARELESS)
def test_the_loaders_keep_other_teams_people_out_even_where_a_page_forgets_to(
    view, roles_world, careless_pages, page, team
) -> None:
    # the rule is enforced where data is loaded: a page offering every team (the drill-down's
    # team picker lists them all now) still gets no one outside Enablement from the loaders
    picks = {"drill-team": team} if team else None
    at, shown = view(page, signed_in(LEAD), EDITED["every team, wide range"], picks)
    if team:
        assert at.selectbox(key="drill-team").value == team
    assert leaks(roles_world.outside(LEAD_TEAM), shown) == {}
    for table in person_tables(shown):
        names = table.get("person", table.get("assignee"))
        assert set(names.dropna()) <= {p.name for p in roles_world.inside(LEAD_TEAM)}, table


def test_a_lead_does_see_their_own_teams_people(view, roles_world) -> None:
    # so that the test above can fail: person-level views are on for this lead
    _, shown = view("allocation", signed_in(LEAD), QUERY)
    assert leaks(roles_world.inside(LEAD_TEAM), shown)
    items = next(t for t in shown.tables if {"key", "person"} <= set(t.columns))
    assert len(items) and set(items["person"]) <= {p.name for p in roles_world.inside(LEAD_TEAM)}


# --- director -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", PEOPLE_PAGES)
def test_a_director_sees_person_level_views(view, roles_world, page) -> None:
    _, shown = view(page, signed_in(DIRECTOR), QUERY)
    assert leaks(list(roles_world.people), shown), "no person's name on the page"
    assert person_tables(shown)
    in_csv = [
        kinds
        for found in leaks(list(roles_world.people), shown).values()
        for kinds in found.values()
        if any(k.startswith("download") for k in kinds)
    ]
    assert in_csv, "no person's name in any CSV download"


@pytest.mark.parametrize("page", PAGES)
def test_a_director_sees_every_page(view, roles_world, page) -> None:
    at, _ = view(page, signed_in(DIRECTOR), QUERY)
    assert at.title and not any("access.roles" in e.value for e in at.error)
    assert any("director" in c.value for c in at.sidebar.caption)


def test_the_reports_delivery_ledger_names_recipients_to_a_director_only(view, roles_world) -> None:
    _, shown = view("reports", signed_in(DIRECTOR), QUERY)
    ledger = next(t for t in shown.tables if "recipient" in t)
    recipients = yaml.safe_load(roles_world.config.read_text())["report"]["recipients"]
    assert list(ledger["recipient"]) == recipients
    for email in (LEAD, MEMBER):
        _, shown = view("reports", signed_in(email), QUERY)
        ledger = next(t for t in shown.tables if "recipient" in t)
        assert list(ledger["recipient"]) == ["recipient 1", "recipient 2"]
        assert list(ledger["status"]) == ["sent", "failed"]
        assert not any(r in text for r in recipients for _, text in shown.texts)


# --- someone the org file does not know -----------------------------------------------------

REFUSED = {
    "unknown address": signed_in("mallory@elsewhere.example"),
    "unverified address": {"is_logged_in": True, "email": DIRECTOR, "email_verified": False},
}


@pytest.mark.parametrize("page", PAGES)
def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in_button(view, page) -> None:
    at, shown = view(page, {"is_logged_in": False}, QUERY)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not shown.tables and not shown.charts and not shown.downloads
    assert not at.sidebar.multiselect


@pytest.mark.parametrize("user", list(REFUSED.values()), ids=list(REFUSED))
@pytest.mark.parametrize("page", PAGES)
def test_an_unknown_user_sees_only_the_refusal(view, roles_world, page, user) -> None:
    at, shown = view(page, user, QUERY)
    (error,) = at.error
    assert "access.roles" in error.value
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.title and not at.metric and not shown.tables and not shown.charts
    assert not shown.downloads and not at.sidebar.multiselect
    assert leaks(list(roles_world.people), shown) == {}


# --- source text is text ------------------------------------------------------------------


@pytest.mark.parametrize("email", [DIRECTOR, LEAD, MEMBER])
@pytest.mark.parametrize("page", PAGES)
def test_html_from_the_sources_is_shown_as_text(view, page, email) -> None:
    _, shown = view(page, signed_in(email), QUERY)
    for kind, body, allow_html in shown.markdown:  # markdown, captions, headings, alerts
        # no HTML markdown carries the text in any form, and no markdown carries its tags
        assert not (allow_html and "alert('tt')" in body), (kind, body)
        assert "<script>" not in body and "<img src=x" not in body, (kind, body)
    assert not any("alert('tt')" in body for body in shown.html)  # st.html: none at all
    for spec in shown.charts:  # plotly reads tags in hover text: only escaped text there
        assert "<script" not in str(spec) and "<img" not in str(spec)
    if (
        page in ("support", "health")
        or (page == "turnaround" and email != MEMBER)  # the ageing work in progress
        or (page == "allocation" and email == LEAD)  # the items behind the team's FTE
    ):
        # the summary is in a table cell as it is, and in the CSV the same
        cells = [t for t in shown.tables if t.isin([HOSTILE]).any().any()]
        assert cells, f"{HOSTILE!r} is not in any table of {page}"
        assert any(HOSTILE in content for content in shown.downloads.values())
