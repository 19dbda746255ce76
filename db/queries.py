"""Every SELECT teamtide runs lives here: one place to see, index and tune what is read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import models


@dataclass(frozen=True)
class StreamStatus:
    source: str
    stream: str
    partition: str
    last_started: dt.datetime | None
    last_success: dt.datetime | None
    last_error: str | None
    rows: int
    rejects: int


def sync_states(session: Session) -> list[StreamStatus]:
    s = models.SyncState
    rows = session.execute(
        select(
            s.source,
            s.stream,
            s.partition,
            s.last_started,
            s.last_success,
            s.last_error,
            s.rows,
            s.rejects,
        ).order_by(s.source, s.stream, s.partition)
    )
    return [StreamStatus(*row) for row in rows]


def reject_counts(session: Session) -> dict[tuple[str, str], int]:
    """All rejects ever kept, by (source, stream)."""
    r = models.SyncReject
    rows = session.execute(select(r.source, r.stream, func.count()).group_by(r.source, r.stream))
    return {(source, stream): n for source, stream, n in rows}


def recent_rejects(session: Session, limit: int = 50) -> list[models.SyncReject]:
    return list(
        session.scalars(
            select(models.SyncReject).order_by(models.SyncReject.at.desc()).limit(limit)
        )
    )


def unmapped_identities(session: Session) -> list[models.Identity]:
    """Accounts met in Jira or GitHub that no person of the org file owns."""
    i = models.Identity
    return list(
        session.scalars(
            select(i)
            .where(i.person_id.is_(None), i.source.in_(("jira", "github")))
            .order_by(i.source, i.value)
        )
    )
