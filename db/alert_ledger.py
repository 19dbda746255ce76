"""The alerts' delivery ledger: one row per event and recipient, claimed before sending.

The same rules as the weekly report's ledger (`db.ledger`): a sender moves a row to
`sending` in one conditional UPDATE and commits before it talks to the server, then
records `sent` or `failed`; so a rerun, a restart or a second scheduler never sends an
event twice, and two senders never claim the same row. A `failed` row is claimed again
by a later run; a row left `sending` (a sender died mid-send) is in doubt and left alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, and_, select, update

from config.redaction import redact
from db import models
from db.upsert import upsert

ERROR_CHARS = 2000


def ensure_rows(engine: Engine, rows: list[tuple[str, str, str, str]], now: dt.datetime) -> None:
    """A `pending` row per (event, recipient, team, message) that has none yet."""
    if not rows:
        return
    values = [
        {
            "event": event,
            "recipient": recipient,
            "team": team,
            "message": message,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for event, recipient, team, message in rows
    ]
    with engine.begin() as conn:
        upsert(conn, models.AlertDelivery, values, ["event", "recipient"], update=())


def statuses(engine: Engine, events: list[str]) -> dict[tuple[str, str], str]:
    """(event, recipient) -> status, for the given events."""
    a = models.AlertDelivery
    with engine.connect() as conn:
        rows = conn.execute(select(a.event, a.recipient, a.status).where(a.event.in_(events))).all()
    return {(event, recipient): status for event, recipient, status in rows}


def claim(engine: Engine, event: str, recipient: str) -> bool:
    """Move a pending or failed row to `sending`; True if this sender got it."""
    a = models.AlertDelivery
    with engine.begin() as conn:
        done = conn.execute(
            update(a)
            .where(
                and_(
                    a.event == event,
                    a.recipient == recipient,
                    a.status.in_(("pending", "failed")),
                )
            )
            .values(status="sending", attempts=a.attempts + 1)
        )
        return done.rowcount == 1


def settle(engine: Engine, event: str, recipient: str, error: str | None) -> None:
    """`sent`, or `failed` with the error (redacted, cut to the column's length)."""
    a = models.AlertDelivery
    values = (
        {"status": "sent", "sent_at": dt.datetime.now(dt.UTC), "last_error": None}
        if error is None
        else {"status": "failed", "last_error": redact(error, ERROR_CHARS)}
    )
    with engine.begin() as conn:
        conn.execute(update(a).where(a.event == event, a.recipient == recipient).values(**values))
