"""The alert ledger on SQLite and PostgreSQL: one row per event and recipient, claimed once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select

from db import alert_ledger, models
from db.session import make_engine

NOW = dt.datetime(2025, 6, 30, 8, tzinfo=dt.UTC)
ROW = ("Infra|forecast-flood|2025-07-07", "lead@acme.example", "Infra", "Infra: a flood ...")


def test_rows_are_recorded_once_and_claimed_by_one_sender(engine: Engine) -> None:
    alert_ledger.ensure_rows(engine, [ROW], NOW)
    alert_ledger.ensure_rows(engine, [ROW], NOW)  # the next run finds the same event
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.AlertDelivery)).scalar() == 1
    event, recipient = ROW[0], ROW[1]
    assert alert_ledger.statuses(engine, [event]) == {(event, recipient): "pending"}
    assert alert_ledger.claim(engine, event, recipient)
    assert not alert_ledger.claim(engine, event, recipient)  # a second sender: not its row
    alert_ledger.settle(engine, event, recipient, "451 try later")
    assert alert_ledger.statuses(engine, [event]) == {(event, recipient): "failed"}
    assert alert_ledger.claim(engine, event, recipient)  # a failed row is tried again
    alert_ledger.settle(engine, event, recipient, None)
    assert not alert_ledger.claim(engine, event, recipient)  # sent: never again


def test_a_sent_alert_stays_sent_after_a_restart(db_url: str, engine: Engine) -> None:
    alert_ledger.ensure_rows(engine, [ROW], NOW)
    assert alert_ledger.claim(engine, ROW[0], ROW[1])
    alert_ledger.settle(engine, ROW[0], ROW[1], None)
    engine.dispose()
    again = make_engine(db_url)  # a new process, as after a restart
    try:
        alert_ledger.ensure_rows(again, [ROW], NOW)
        assert alert_ledger.statuses(again, [ROW[0]]) == {(ROW[0], ROW[1]): "sent"}
        assert not alert_ledger.claim(again, ROW[0], ROW[1])
    finally:
        again.dispose()
