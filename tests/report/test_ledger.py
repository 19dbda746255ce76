"""The delivery ledger on SQLite and PostgreSQL: one claim wins, sent rows stay sent."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Engine

from db import queries
from report import delivery


def test_only_one_of_many_racing_senders_claims_a_recipient(engine: Engine) -> None:
    delivery.ensure_rows(engine, "2025-W26", ["a@x.example"])
    wins: list[int | None] = []
    start = threading.Barrier(6)

    def race() -> None:
        start.wait()
        wins.append(delivery.claim(engine, "2025-W26", "a@x.example"))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(w for w in wins if w is not None) == [1]
    assert wins.count(None) == 5


def test_a_sent_row_is_never_claimed_again_unless_forced(engine: Engine) -> None:
    delivery.ensure_rows(engine, "2025-W26", ["a@x.example", "b@x.example"])
    assert delivery.claim(engine, "2025-W26", "a@x.example") == 1
    delivery.settle(engine, "2025-W26", "a@x.example", None)
    assert delivery.claim(engine, "2025-W26", "a@x.example") is None
    # ensure_rows again (a restart) leaves the sent row alone
    delivery.ensure_rows(engine, "2025-W26", ["a@x.example", "b@x.example"])
    assert delivery.statuses(engine, "2025-W26") == {
        "a@x.example": "sent",
        "b@x.example": "pending",
    }
    assert delivery.claim(engine, "2025-W26", "a@x.example", force=True) == 2


def test_a_failed_row_can_be_claimed_again_and_counts_its_attempts(engine: Engine) -> None:
    delivery.ensure_rows(engine, "2025-W26", ["a@x.example"])
    assert delivery.claim(engine, "2025-W26", "a@x.example") == 1
    delivery.settle(engine, "2025-W26", "a@x.example", "the SMTP server answered 451")
    assert delivery.statuses(engine, "2025-W26") == {"a@x.example": "failed"}
    assert delivery.claim(engine, "2025-W26", "a@x.example") == 2
    # a row left `sending` (its sender died) is not claimable without force
    assert delivery.claim(engine, "2025-W26", "a@x.example") is None


def test_a_report_is_stored_once_per_week_and_records_who_has_it(engine: Engine) -> None:
    from config.schema import Config

    config = Config(report={"recipients": ["a@x.example"]})
    now = dt.datetime(2025, 6, 30, 8, 0, tzinfo=dt.UTC)
    monday = dt.date(2025, 6, 23)
    rendered, fresh = delivery.publish(engine, config, monday, now, images=False)
    assert fresh and rendered.period == "2025-W26"
    assert 3 <= len(rendered.headlines) <= 5  # an empty database still makes a report
    again, fresh = delivery.publish(engine, config, monday, now, images=False)
    assert fresh  # not sent to anyone yet: computed anew, and stored over the first
    delivery.ensure_rows(engine, "2025-W26", ["a@x.example"])
    delivery.claim(engine, "2025-W26", "a@x.example")
    delivery.settle(engine, "2025-W26", "a@x.example", None)
    with engine.connect() as conn:
        stored = queries.stored_report(conn, "2025-W26")
        listed = queries.report_list(conn)
    assert stored is not None and stored.delivered_to == ["a@x.example"]
    assert stored.summary == again.figures and stored.body == again.markdown
    assert [r["period"] for r in listed] == ["2025-W26"]
    # once sent it is frozen: the stored figures come back, not new ones
    later, fresh = delivery.publish(
        engine, config, monday, now + dt.timedelta(days=1), images=False
    )
    assert not fresh and later.figures == again.figures
