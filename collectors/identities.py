"""Accounts seen in the sources, and their mapping to the org file's people.

Every account a collector meets is recorded, mapped or not, so nobody's work is
dropped; an account the org file does not claim directly is matched through its
e-mail or an alias, and the rest stay listed as unmapped (`teamtide status`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db import models
from db.org import map_identities, people_by_identity, unmapped_accounts
from db.upsert import upsert


@dataclass(frozen=True)
class Account:
    source: str  # jira | github
    value: str  # Jira account id (or user name on Server), GitHub login
    display_name: str | None = None
    email: str | None = None


def normalise(source: str, value: str) -> str:
    """GitHub logins and e-mails are case-insensitive; Jira account ids are not."""
    return value.lower() if source in ("github", "email") else value


def record_accounts(session: Session, accounts: Iterable[Account], seen_at: dt.datetime) -> None:
    """Remember accounts (first sighting kept); mapping to people is `resolve_identities`' job."""
    unique = {(a.source, normalise(a.source, a.value)): a for a in accounts if a.value}
    rows = [
        {
            "source": s,
            "value": v,
            "display_name": a.display_name,
            "email": a.email.lower() if a.email else None,
            "first_seen": seen_at,
        }
        for (s, v), a in sorted(unique.items(), key=lambda kv: kv[0])
    ]  # in key order: two syncs upserting the same accounts lock them in one order
    if rows:
        upsert(
            session, models.Identity, rows, ["source", "value"], update=["display_name", "email"]
        )


def resolve_identities(session: Session) -> int:
    """Map unmapped accounts to people by e-mail or alias; returns how many were mapped."""
    by_email = people_by_identity(session, "email")
    by_alias = people_by_identity(session, "alias")
    found: dict[int, int] = {}
    for ident, value, display_name, email in unmapped_accounts(session, ("jira", "github")):
        person = (
            by_email.get(email or "") or by_alias.get(value) or by_alias.get(display_name or "")
        )
        if person is not None:
            found[ident] = person
    map_identities(session, found)
    return len(found)
