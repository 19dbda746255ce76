"""The weekly report's writes: the report stored per week, and its delivery ledger.

Every recipient of a week has a row in `report_deliveries` (unique on period and
recipient). A sender claims a row by moving it to `sending` in one conditional UPDATE
and commits before it talks to the server, then records `sent` or `failed`; so a
retry, a restart or a second scheduler never sends a row that was sent, and two
senders never claim the same row. What the rows mean to a sender (a row still `sending`
is in doubt) is `report.delivery`'s to say. A failure's text (what a mail server or a
webhook answered) is redacted as it enters the database (`config.redaction`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, and_, select, update

from config.redaction import redact
from db import models, queries
from db.upsert import upsert

ERROR_CHARS = 2000  # report_deliveries.last_error


def store_report(
    engine: Engine,
    period: str,
    *,
    body: str,
    html: str,
    summary: dict[str, Any],
    generated_at: dt.datetime,
) -> None:
    """Insert or replace the week's row in `reports` (its delivered_to is kept)."""
    row = {
        "period": period,
        "generated_at": generated_at,
        "body": body,
        "html": html,
        "summary": summary,
        "delivered_to": [],
    }
    with engine.begin() as conn:
        upsert(
            conn,
            models.Report,
            [row],
            ["period"],
            update=["generated_at", "body", "html", "summary"],
        )


def ensure_rows(engine: Engine, period: str, keys: list[str]) -> None:
    """A `pending` row per recipient that has none yet (existing rows are left alone)."""
    if not keys:
        return
    rows = [{"period": period, "recipient": k, "status": "pending", "attempts": 0} for k in keys]
    with engine.begin() as conn:
        upsert(conn, models.ReportDelivery, rows, ["period", "recipient"], update=())


def statuses(engine: Engine, period: str) -> dict[str, str]:
    """Each recipient's status for the week: pending, sending, sent or failed."""
    with engine.connect() as conn:
        return {row["recipient"]: row["status"] for row in queries.report_deliveries(conn, period)}


def claim(engine: Engine, period: str, key: str, force: bool = False) -> int | None:
    """Move a row to `sending` if nobody else has it; the attempt number, or None if not ours.

    One conditional UPDATE: of two senders racing for a row, exactly one sees rowcount 1.
    """
    d = models.ReportDelivery
    claimable = ("pending", "failed", "sent", "sending") if force else ("pending", "failed")
    with engine.begin() as conn:
        done = conn.execute(
            update(d)
            .where(and_(d.period == period, d.recipient == key, d.status.in_(claimable)))
            .values(status="sending", attempts=d.attempts + 1)
        )
        if done.rowcount != 1:
            return None
        return conn.execute(
            select(d.attempts).where(d.period == period, d.recipient == key)
        ).scalar_one()


def settle(engine: Engine, period: str, key: str, error: str | None) -> None:
    """Record the end of an attempt: `sent` (and add to the report's delivered_to) or `failed`.

    `error` is redacted, then cut to the column's length.
    """
    d, r = models.ReportDelivery, models.Report
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        if error is None:
            conn.execute(
                update(d)
                .where(d.period == period, d.recipient == key)
                .values(status="sent", sent_at=now, last_error=None)
            )
            delivered = conn.execute(select(r.delivered_to).where(r.period == period)).scalar()
            if delivered is not None and key not in delivered:
                conn.execute(
                    update(r).where(r.period == period).values(delivered_to=[*delivered, key])
                )
        else:
            conn.execute(
                update(d)
                .where(d.period == period, d.recipient == key)
                .values(status="failed", last_error=redact(error, ERROR_CHARS))
            )
