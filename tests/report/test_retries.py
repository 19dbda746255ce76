"""Failed deliveries: retried with backoff and sent once, or recorded as failed without a secret."""

from __future__ import annotations

import logging

import pytest

from db import queries
from db.session import make_engine
from report import delivery, weeks
from tests.report.helpers import NOW, SMTP_PASSWORD, WEBHOOK_PATH, WEEK

pytestmark = pytest.mark.slow

FAST = delivery.Retry(attempts=4, first_wait=0.5, factor=2.0, max_wait=5.0)


def _run(config, sleeps: list[float]) -> delivery.Result:
    engine = make_engine(config.database.url)
    try:
        return delivery.run(
            engine, config, weeks.parse_week(WEEK), NOW, send=True, retry=FAST, sleep=sleeps.append
        )
    finally:
        engine.dispose()


def _ledger(config) -> dict[str, dict]:
    engine = make_engine(config.database.url)
    try:
        with engine.connect() as conn:
            return {r["recipient"]: r for r in queries.report_deliveries(conn, WEEK)}
    finally:
        engine.dispose()


def test_a_delivery_that_fails_twice_then_succeeds_is_sent_exactly_once(
    report_world, smtp, webhook, monkeypatch
) -> None:
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)
    _, config = report_world.write_config(smtp, webhook, recipients=["director@acme.example"])
    smtp.box.fail_next = 2  # 451 twice
    webhook.fail_next = 2  # 503 twice
    sleeps: list[float] = []

    result = _run(config, sleeps)

    assert [(o.recipient, o.status, o.attempts) for o in result.outcomes] == [
        ("director@acme.example", "sent", 3),
        ("webhook", "sent", 3),
    ]
    assert len(smtp.box.messages) == 1 and len(webhook.posts) == 1
    # exponential backoff between attempts: first_wait, then doubled
    assert sleeps == [FAST.wait(1), FAST.wait(2)] * 2 == [0.5, 1.0, 0.5, 1.0]
    ledger = _ledger(config)
    assert {k: (r["status"], r["attempts"], r["last_error"]) for k, r in ledger.items()} == {
        "director@acme.example": ("sent", 3, None),
        "webhook": ("sent", 3, None),
    }


def test_a_refused_delivery_is_recorded_as_failed_not_retried_and_keeps_secrets_out(
    report_world, smtp, webhook, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)
    _, config = report_world.write_config(smtp, webhook, recipients=["director@acme.example"])
    smtp.box.refuse = True  # 550: permanent, another attempt would not help
    webhook.fail_next = 10  # 503 every time: transient, retried until attempts run out
    sleeps: list[float] = []
    caplog.set_level(logging.INFO)

    result = _run(config, sleeps)

    by = {o.recipient: o for o in result.outcomes}
    assert by["director@acme.example"].status == "failed"
    assert by["director@acme.example"].attempts == 1
    assert "550" in (by["director@acme.example"].error or "")
    assert by["webhook"].status == "failed" and by["webhook"].attempts == FAST.attempts
    assert len(sleeps) == FAST.attempts - 1
    assert not result.ok
    ledger = _ledger(config)
    assert ledger["director@acme.example"]["status"] == "failed"
    assert "HTTP 503" in ledger["webhook"]["last_error"]
    said = result.summary() + caplog.text + str(ledger)
    assert (
        WEBHOOK_PATH not in said
        and SMTP_PASSWORD not in said
        and "127.0.0.1:" + str(webhook.port) not in said
    )

    # the next run retries only what failed, and sends it once
    smtp.box.refuse, webhook.fail_next = False, 0
    again = _run(config, [])
    assert [(o.recipient, o.status) for o in again.outcomes] == [
        ("director@acme.example", "sent"),
        ("webhook", "sent"),
    ]
    assert len(smtp.box.messages) == 1 and len(webhook.posts) == 1


def test_the_hourly_retry_sends_what_failed_every_attempt_and_nothing_else(
    report_world, smtp, webhook, monkeypatch
) -> None:
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)
    _, config = report_world.write_config(smtp, webhook, recipients=["director@acme.example"])
    smtp.box.fail_next = FAST.attempts  # the mail server is down for the whole backoff
    first = _run(config, [])
    assert {o.recipient: o.status for o in first.outcomes} == {
        "director@acme.example": "failed",
        "webhook": "sent",
    }
    engine = make_engine(config.database.url)
    try:
        # an hour later the server is back: the retry job sends the failed one only
        assert delivery.retry_failed(config, engine, NOW)[0] == "ok"
        assert len(smtp.box.to("director@acme.example")) == 1 and len(webhook.posts) == 1
        # and once nothing has failed, it sends nothing
        assert delivery.retry_failed(config, engine, NOW) == ("ok", "no failed delivery to retry")
    finally:
        engine.dispose()
    assert {k: r["status"] for k, r in _ledger(config).items()} == {
        "director@acme.example": "sent",
        "webhook": "sent",
    }
