"""Loading the org file's people and teams into the database keeps history and is idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select

from collectors.org import load_org
from config.schema import Config
from db import models
from db.session import session_scope

TODAY = dt.date(2025, 6, 30)


def org(people: list[dict[str, Any]]) -> Config:
    return Config.model_validate(
        {
            "org": {
                "teams": [
                    {"name": "Research", "kind": "research"},
                    {"name": "Infra", "kind": "infra"},
                ],
                "people": people,
            }
        }
    )


ADA = {
    "name": "Ada Byrne",
    "emails": ["Ada@acme.example"],
    "jira": "5b10ac8d82e05b22cc7d4ef5",
    "github": "AdaB",
    "memberships": [
        {"team": "Research", "from": "2024-01-01", "to": "2025-03-02"},
        {"team": "Infra", "from": "2025-03-03"},
    ],
}
BO = {"name": "Bo Li", "github": "boli", "memberships": [{"team": "Infra", "from": "2024-06-01"}]}


def memberships(engine: Engine) -> list[tuple[str, str, dt.date, dt.date | None]]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                models.Person.name,
                models.Team.name,
                models.Membership.valid_from,
                models.Membership.valid_to,
            )
            .join(models.Person, models.Person.id == models.Membership.person_id)
            .join(models.Team, models.Team.id == models.Membership.team_id)
            .order_by(models.Person.name, models.Membership.valid_from)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_org_load_creates_teams_people_identities_and_membership_history(engine: Engine) -> None:
    with session_scope(engine) as s:
        result = load_org(s, org([ADA, BO]), TODAY)
    assert result.changed
    assert memberships(engine) == [
        ("Ada Byrne", "Research", dt.date(2024, 1, 1), dt.date(2025, 3, 2)),
        ("Ada Byrne", "Infra", dt.date(2025, 3, 3), None),
        ("Bo Li", "Infra", dt.date(2024, 6, 1), None),
    ]
    with session_scope(engine) as s:
        ids = set(s.execute(select(models.Identity.source, models.Identity.value)).all())
    # logins and e-mails are matched case-insensitively, so they are stored lower-cased
    assert ids == {
        ("jira", "5b10ac8d82e05b22cc7d4ef5"),
        ("github", "adab"),
        ("email", "ada@acme.example"),
        ("github", "boli"),
    }


def test_a_second_org_load_changes_nothing(engine: Engine) -> None:
    with session_scope(engine) as s:
        load_org(s, org([ADA, BO]), TODAY)
    before = memberships(engine)
    with session_scope(engine) as s:
        again = load_org(s, org([ADA, BO]), TODAY)
    assert not again.changed
    assert memberships(engine) == before


def test_a_membership_removed_from_the_file_is_closed_not_deleted(engine: Engine) -> None:
    with session_scope(engine) as s:
        load_org(s, org([ADA, BO]), TODAY)
    bo_moved = dict(BO, memberships=[{"team": "Research", "from": "2025-07-01"}])
    with session_scope(engine) as s:
        result = load_org(s, org([ADA, bo_moved]), TODAY)
    assert result.closed_memberships == 1
    assert ("Bo Li", "Infra", dt.date(2024, 6, 1), TODAY) in memberships(engine)
    assert ("Bo Li", "Research", dt.date(2025, 7, 1), None) in memberships(engine)
    with session_scope(engine) as s:
        assert not load_org(s, org([ADA, bo_moved]), TODAY).changed


def test_a_person_removed_from_the_file_is_kept_inactive_and_their_accounts_unmapped(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        load_org(s, org([ADA, BO]), TODAY)
    with session_scope(engine) as s:
        load_org(s, org([ADA]), TODAY)
        active = dict(s.execute(select(models.Person.name, models.Person.active)).all())
        boli = s.execute(
            select(models.Identity.person_id).where(models.Identity.value == "boli")
        ).scalar_one()
    assert active == {"Ada Byrne": True, "Bo Li": False}
    assert boli is None


def test_accounts_met_in_a_source_map_to_people_by_email_and_the_rest_stay_unmapped(
    engine: Engine,
) -> None:
    from collectors.identities import Account, record_accounts, resolve_identities

    with session_scope(engine) as s:
        load_org(s, org([ADA, BO]), TODAY)
        record_accounts(
            s,
            [
                Account(
                    "jira", "acc-ada-2", "Ada B.", "ADA@acme.example"
                ),  # second Jira account, same e-mail
                Account("github", "contractor-x", None, None),
            ],
            dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
        )
        assert resolve_identities(s) == 1
        mapping = dict(
            s.execute(
                select(models.Identity.value, models.Person.name).outerjoin(
                    models.Person, models.Person.id == models.Identity.person_id
                )
            ).all()
        )
    assert mapping["acc-ada-2"] == "Ada Byrne"
    assert mapping["contractor-x"] is None
    with session_scope(engine) as s:  # reloading the org file keeps the e-mail match
        assert not load_org(s, org([ADA, BO]), TODAY).changed
