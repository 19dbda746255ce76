"""The org tables' SQL for loading the org file and mapping accounts to people.

`collectors.org` decides what the tables should hold and `collectors.identities` which
account is whose; the statements they need are here (besides the one upsert, `db.upsert`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db import models


def deactivate_people_except(session: Session, names: Collection[str]) -> None:
    """Mark everyone not named inactive (their history stays)."""
    session.execute(
        update(models.Person).where(models.Person.name.not_in(names)).values(active=False)
    )


def team_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(models.Team.name, models.Team.id)).all())


def person_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(models.Person.name, models.Person.id)).all())


def unclaim_identities(session: Session, claimed: Collection[tuple[str, str]]) -> None:
    """Unmap every mapped identity whose `(source, value)` is not among `claimed`."""
    i = models.Identity
    mapped = session.execute(select(i.id, i.source, i.value).where(i.person_id.is_not(None)))
    gone = [ident for ident, source, value in mapped if (source, value) not in claimed]
    if gone:
        session.execute(update(i).where(i.id.in_(gone)).values(person_id=None))


def close_memberships(
    session: Session, keep: Collection[tuple[int, int, dt.date]], today: dt.date
) -> int:
    """Close the open memberships not in `keep` (person, team, from) on `today`; returns how many.

    A membership that starts after `today` closes on its first day.
    """
    m = models.Membership
    open_ = session.execute(
        select(m.id, m.person_id, m.team_id, m.valid_from).where(m.valid_to.is_(None))
    ).all()
    closed = 0
    for ident, person, team, start in open_:
        if (person, team, start) not in keep:
            session.execute(update(m).where(m.id == ident).values(valid_to=max(start, today)))
            closed += 1
    return closed


def org_snapshot(session: Session) -> tuple[object, ...]:
    """Everything the org load may touch, to tell whether a load changed anything."""
    return (
        sorted(session.execute(select(models.Team.name, models.Team.kind)).all()),
        sorted(session.execute(select(models.Person.name, models.Person.active)).all()),
        sorted(
            session.execute(
                select(models.Identity.source, models.Identity.value, models.Identity.person_id)
            ).all(),
            key=repr,
        ),
        sorted(
            session.execute(
                select(
                    models.Membership.person_id,
                    models.Membership.team_id,
                    models.Membership.valid_from,
                    models.Membership.valid_to,
                )
            ).all(),
            key=repr,
        ),
    )


def people_by_identity(session: Session, source: str) -> dict[str, int]:
    """Mapped identities of one kind (`email`, `alias`): value -> person id."""
    i = models.Identity
    return dict(
        session.execute(
            select(i.value, i.person_id).where(i.source == source, i.person_id.is_not(None))
        ).all()
    )


def unmapped_accounts(
    session: Session, sources: Iterable[str]
) -> list[tuple[int, str, str | None, str | None]]:
    """`(id, value, display_name, email)` of the unmapped identities of these sources."""
    i = models.Identity
    rows = session.execute(
        select(i.id, i.value, i.display_name, i.email)
        .where(i.person_id.is_(None), i.source.in_(tuple(sources)))
        .order_by(i.id)
    )
    return [(ident, value, name, email) for ident, value, name, email in rows]


def map_identities(session: Session, people: Mapping[int, int]) -> None:
    """Map identities (by id) to people (by id)."""
    i = models.Identity
    for ident, person in people.items():
        session.execute(update(i).where(i.id == ident).values(person_id=person))
