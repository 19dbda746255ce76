"""Alerts by real SMTP and a real webhook receiver: each event once per recipient, across restarts."""

from __future__ import annotations

import datetime as dt

from db.session import make_engine
from metrics import reading, rollup
from metrics.alert_events import Event, events
from metrics.forecast_teams import forecast_block
from metrics.support import support_requests
from report import alerts
from teamtide.scheduler import jobs
from tests.report.helpers import NOW

LEADS = {"Infra": ["Petra Moreau"], "Enablement": ["Kai Ivanova"]}
EVENTS = [
    Event(
        "Infra",
        "forecast-flood",
        "2025-07-07",
        0.82,
        {"model": "state-space (local level)", "mase_mean": 0.6},
    ),
    Event("Enablement", "sla", "2025-06-30", 0.5, {"requests": 4, "breached": 2}),
]


def _config(report_world, smtp, webhook, monkeypatch, **alerting):
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)

    def change(data):
        data["alerts"] = {"enabled": True, **alerting}

    return report_world.write_config(smtp, webhook, leads=LEADS, change=change)[1]


def _address(config, name: str) -> str:
    return next(p.emails[0] for p in config.org.people if p.name == name)


def test_each_event_reaches_each_lead_and_the_webhook_once_across_restarts(
    report_world, smtp, webhook, monkeypatch
) -> None:
    config = _config(report_world, smtp, webhook, monkeypatch)
    engine = make_engine(report_world.db_url)
    outcomes = alerts.deliver(engine, config, EVENTS, NOW)
    infra, enablement = _address(config, "Petra Moreau"), _address(config, "Kai Ivanova")
    assert sorted((o.recipient, o.status) for o in outcomes) == sorted(
        [(enablement, "sent"), (infra, "sent"), ("webhook", "sent"), ("webhook", "sent")]
    )
    (mail,) = smtp.box.to(infra)
    assert mail["Subject"] == "teamtide alert: Infra flood likely (week of 07 Jul)"
    body = mail.get_content()
    assert "Infra: a flood is likely in the week of 07 Jul, p = 0.82" in body
    assert "https://teamtide.acme.example/planning" in body
    assert len(webhook.posts) == 2
    assert "2 of 4 support requests opened this week (50%)" in webhook.posts[1]["text"]

    again = alerts.deliver(engine, config, EVENTS, NOW)  # the next hour: same events
    assert {o.status for o in again} == {"already sent"}
    engine.dispose()
    restarted = make_engine(report_world.db_url)  # a new scheduler process
    try:
        assert {o.status for o in alerts.deliver(restarted, config, EVENTS, NOW)} == {
            "already sent"
        }
    finally:
        restarted.dispose()
    assert len(smtp.box.messages) == 2 and len(webhook.posts) == 2


def test_a_failed_alert_is_sent_on_the_next_run_and_only_then(
    report_world, smtp, webhook, monkeypatch
) -> None:
    config = _config(report_world, smtp, webhook, monkeypatch)
    engine = make_engine(report_world.db_url)
    smtp.box.fail_next = 1  # 451 to the first message
    first = alerts.deliver(engine, config, EVENTS[:1], NOW)
    assert sorted(o.status for o in first) == ["failed", "sent"]
    second = alerts.deliver(engine, config, EVENTS[:1], NOW)
    assert sorted(o.status for o in second) == ["already sent", "sent"]
    engine.dispose()
    assert len(smtp.box.to(_address(config, "Petra Moreau"))) == 1 and len(webhook.posts) == 1


def test_the_alerts_job_finds_forecast_floods_and_records_them(
    report_world, smtp, webhook, monkeypatch
) -> None:
    # A threshold of 1% makes any team with a flood ahead at all an event.
    config = _config(report_world, smtp, webhook, monkeypatch, flood_probability=0.01)
    engine = make_engine(report_world.db_url)
    found = alerts.find(engine, config, NOW)
    outcome, detail = alerts.run_alerts(config, engine, NOW)
    engine.dispose()
    assert outcome == "ok", detail
    assert {e.kind for e in found} >= {"forecast-flood"}
    led = [e for e in found if e.team in LEADS]
    # every event of a team with a lead: one mail to the lead; every event: one post
    assert len(smtp.box.messages) == len(led)
    assert len(webhook.posts) == len(found)
    assert detail.startswith(f"{len(found)} events")


def test_the_scheduler_runs_alerts_only_when_enabled(report_world, smtp, webhook, monkeypatch):
    config = _config(report_world, smtp, webhook, monkeypatch)
    assert "alerts" in jobs(config)
    off = config.model_copy(update={"alerts": config.alerts.model_copy(update={"enabled": False})})
    assert "alerts" not in jobs(off)


def test_the_alerts_read_the_rollups_and_find_what_the_facts_give(
    report_world, smtp, webhook, monkeypatch
) -> None:
    # every team with a flood ahead and every week with a breached request is an event
    config = _config(
        report_world, smtp, webhook, monkeypatch, flood_probability=0.01, sla_breach_rate=0.0
    )
    engine = make_engine(report_world.db_url)
    try:
        done = rollup.refresh_leased(engine, config, NOW)
        assert done is not None and done.kept_seconds is not None  # the forecast kept
        with engine.connect() as conn:
            kept = rollup.alert_inputs(conn, config)
            assert kept is not None
            facts = reading.forecast_facts(conn, config, kept[0].to_pydatetime())
        found = alerts.find(engine, config, NOW + dt.timedelta(minutes=20))
    finally:
        engine.dispose()
    assert found == events(facts, forecast_block(facts, None))
    assert {e.kind for e in found} >= {"forecast-flood"}
    # the requests the SLA events judge: the same from both (none breached this Monday)
    now, requests, _ = kept
    week = now - dt.timedelta(days=7)
    from_facts = support_requests(facts)
    assert sorted(requests[requests["created_at"] >= week]["item_id"]) == sorted(
        from_facts[from_facts["created_at"] >= week]["item_id"]
    )
    assert len(requests[requests["created_at"] >= week]) >= 3
