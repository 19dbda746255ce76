"""The delivery ledger on SQLite and PostgreSQL: one claim wins, sent rows stay sent."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from db import ledger


def test_only_one_of_many_racing_senders_claims_a_recipient(engine: Engine) -> None:
    ledger.ensure_rows(engine, "2025-W26", ["a@x.example"])
    wins: list[int | None] = []
    start = threading.Barrier(6)

    def race() -> None:
        start.wait()
        wins.append(ledger.claim(engine, "2025-W26", "a@x.example"))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(w for w in wins if w is not None) == [1]
    assert wins.count(None) == 5


def test_a_sent_row_is_never_claimed_again_unless_forced(engine: Engine) -> None:
    ledger.ensure_rows(engine, "2025-W26", ["a@x.example", "b@x.example"])
    assert ledger.claim(engine, "2025-W26", "a@x.example") == 1
    ledger.settle(engine, "2025-W26", "a@x.example", None)
    assert ledger.claim(engine, "2025-W26", "a@x.example") is None
    # ensure_rows again (a restart) leaves the sent row alone
    ledger.ensure_rows(engine, "2025-W26", ["a@x.example", "b@x.example"])
    assert ledger.statuses(engine, "2025-W26") == {
        "a@x.example": "sent",
        "b@x.example": "pending",
    }
    assert ledger.claim(engine, "2025-W26", "a@x.example", force=True) == 2


def test_a_failed_row_can_be_claimed_again_and_counts_its_attempts(engine: Engine) -> None:
    ledger.ensure_rows(engine, "2025-W26", ["a@x.example"])
    assert ledger.claim(engine, "2025-W26", "a@x.example") == 1
    ledger.settle(engine, "2025-W26", "a@x.example", "the SMTP server answered 451")
    assert ledger.statuses(engine, "2025-W26") == {"a@x.example": "failed"}
    assert ledger.claim(engine, "2025-W26", "a@x.example") == 2
    # a row left `sending` (its sender died) is not claimable without force
    assert ledger.claim(engine, "2025-W26", "a@x.example") is None
