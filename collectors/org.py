"""The org file's people, teams, identities and memberships, loaded into the database.

Loading is idempotent (a second load changes nothing) and never erases history: a
person dropped from the file is marked inactive, an identity no longer claimed becomes
unmapped, and a membership removed from the file is closed rather than deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from collectors.identities import resolve_identities
from config.schema import Config
from db import models
from db.migrate import upgrade
from db.org import (
    close_memberships,
    deactivate_people_except,
    org_snapshot,
    person_ids,
    team_ids,
    unclaim_identities,
)
from db.session import make_engine, session_scope
from db.upsert import upsert


@dataclass
class OrgLoadResult:
    teams: int = 0
    people: int = 0
    identities: int = 0
    memberships: int = 0
    closed_memberships: int = 0
    changed: bool = False


def _identities(config: Config) -> dict[tuple[str, str], str]:
    """(source, account) -> person name, for every identity the file claims."""
    claimed: dict[tuple[str, str], str] = {}
    for person in config.org.people:
        if person.jira:
            claimed["jira", person.jira] = person.name
        if person.github:
            claimed["github", person.github.lower()] = person.name
        for email in person.emails:
            claimed["email", email.lower()] = person.name
        for alias in person.aliases:
            claimed["alias", alias] = person.name
    return claimed


def load_org(session: Session, config: Config, today: dt.date) -> OrgLoadResult:
    """Bring the database's org tables in line with the file; `today` closes removed memberships."""
    result = OrgLoadResult()
    before = org_snapshot(session)

    if config.org.teams:
        upsert(
            session,
            models.Team,
            [{"name": t.name, "kind": t.kind} for t in config.org.teams],
            ["name"],
        )
    names = [p.name for p in config.org.people]
    if names:
        upsert(session, models.Person, [{"name": n, "active": True} for n in names], ["name"])
    deactivate_people_except(session, names)

    team_id, person_id = team_ids(session), person_ids(session)

    claimed = _identities(config)
    rows = [{"source": s, "value": v, "person_id": person_id[n]} for (s, v), n in claimed.items()]
    if rows:
        upsert(session, models.Identity, rows, ["source", "value"], update=["person_id"])
    unclaim_identities(session, claimed.keys())
    resolve_identities(session)  # accounts met in the sources, matched by e-mail or alias

    in_file = {
        (person_id[p.name], team_id[m.team], m.from_): m.to
        for p in config.org.people
        for m in p.memberships
        if m.team in team_id
    }
    rows = [
        {"person_id": p, "team_id": t, "valid_from": f, "valid_to": to}
        for (p, t, f), to in in_file.items()
    ]
    if rows:
        upsert(
            session,
            models.Membership,
            rows,
            ["person_id", "team_id", "valid_from"],
            update=["valid_to"],
        )
    result.closed_memberships = close_memberships(session, in_file.keys(), today)

    result.teams, result.people = len(config.org.teams), len(names)
    result.identities, result.memberships = len(claimed), len(in_file)
    result.changed = org_snapshot(session) != before
    return result


def prepare_database(cfg: Config) -> tuple[Engine, str]:
    """Migrate the schema and load the org file: idempotent, so every writing command does it."""
    engine = make_engine(cfg.database.url)
    before, after = upgrade(engine)
    today = dt.datetime.now(cfg.org.tz).date()
    with session_scope(engine) as session:
        result = load_org(session, cfg, today)
    schema = (
        f"schema upgraded {before or 'empty'} -> {after}"
        if before != after
        else f"schema up to date ({after})"
    )
    org = "org loaded" if result.changed else "org unchanged"
    closed = (
        f", {result.closed_memberships} memberships closed" if result.closed_memberships else ""
    )
    return (
        engine,
        f"{schema}; {org}: {result.teams} teams, {result.people} people, {result.memberships} memberships{closed}",
    )
