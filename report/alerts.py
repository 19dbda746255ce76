"""Alerts between reports: each event, in one sentence, to the team's leads and the chat webhook, once.

The `alerts` job (`teamtide.scheduler`) reads the forecast and the support requests (from
the weekly rollups when they are current, else the facts), finds the events
(`metrics.alert_events`), and records a row per event and recipient in the alert ledger
(`db.alert_ledger`) before sending anything: a recipient is each lead of the team
(`org.teams[].leads`, by e-mail through `report.smtp`) and the report's webhook. Each row
is claimed before it is sent, so a rerun or a restart never sends it twice; one that
failed is tried again on the next run. The scheduler holds the job's lease while it runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import Engine

from config import redaction
from config.schema import Config
from db import alert_ledger
from metrics import reading, rollup
from metrics.alert_events import Event, events, events_of
from metrics.forecast_teams import forecast_block
from report import webhook
from report.delivery import SendError, post_webhook, send_email
from report.recipients import WEBHOOK, team_leads

log = logging.getLogger(__name__)

PLANNING_PATH = "/planning"


def _week(iso: str) -> str:
    return f"{dt.date.fromisoformat(iso):%d %b}"


def words(event: Event, config: Config) -> str:
    """The event in one sentence, with what it is measured against."""
    team, value = event.team, event.value or 0.0
    if event.kind in ("flood", "drought"):
        factor = config.load.flood_factor if event.kind == "flood" else config.load.drought_factor
        return (
            f"{team} entered a {event.kind} in the week of {_week(event.week)}: "
            f"{value:.2f} items in progress per person ({factor:g}x its baseline is the "
            f"{event.kind} threshold)."
        )
    if event.kind == "forecast-flood":
        naive = event.detail["model"] == "seasonal naive"
        basis = (
            "seasonal-naive forecast"
            if naive
            else f"forecast error {event.detail['mase_mean']:.2f} x seasonal naive's in the backtest"
        )
        return (
            f"{team}: a flood is likely in the week of {_week(event.week)}, p = {value:.2f} "
            f"({basis})."
        )
    return (
        f"{team}: {event.detail['breached']} of {event.detail['requests']} support requests "
        f"opened this week ({value:.0%}) breached their resolution SLA "
        f"(alert above {config.alerts.sla_breach_rate:.0%})."
    )


def subject(event: Event) -> str:
    kinds = {
        "flood": "entered a flood",
        "drought": "entered a drought",
        "forecast-flood": "flood likely",
        "sla": "support SLA breaches",
    }
    return f"teamtide alert: {event.team} {kinds[event.kind]} (week of {_week(event.week)})"


def planning_link(config: Config) -> str | None:
    url = config.report.dashboard_url
    return f"{url.rstrip('/')}{PLANNING_PATH}" if url else None


@dataclass(frozen=True)
class Outcome:
    event: str
    recipient: str
    status: str  # sent | failed | already sent | in doubt | taken
    error: str | None = None


Sender = Callable[[str, str, str, str], None]  # (recipient, subject, text, link or "")


def _sender(config: Config) -> Sender:
    settings = config.report

    def send(recipient: str, heading: str, text: str, link: str) -> None:
        if recipient == WEBHOOK:
            assert settings.webhook_url is not None
            try:
                url = settings.webhook_url.reveal()
            except KeyError as exc:
                raise SendError(f"report.webhook_url: {exc.args[0]}", transient=False) from None
            post_webhook(url, webhook.message_payload(heading, [text], url, link or None))
            return
        if settings.smtp is None:
            raise SendError("report.smtp is not configured in the org file", transient=False)
        message = EmailMessage()
        domain = settings.smtp.sender.rpartition("@")[2] or "teamtide.invalid"
        digest = hashlib.sha256(f"{heading}\0{recipient.lower()}".encode()).hexdigest()[:16]
        message["Subject"] = heading
        message["From"] = settings.smtp.sender
        message["To"] = recipient
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = f"<teamtide.alert.{digest}@{domain}>"
        message.set_content(text + (f"\n\nPlanning: {link}\n" if link else "\n"))
        send_email(settings.smtp, message)

    return send


def recipients_of(config: Config, team: str) -> list[str]:
    out = list(team_leads(config).get(team, []))
    if config.report.webhook_url:
        out.append(WEBHOOK)
    return out


def deliver(
    engine: Engine,
    config: Config,
    found: list[Event],
    now: dt.datetime,
    send: Sender | None = None,
) -> list[Outcome]:
    """Record every event's rows, then send those nobody has sent (`send` replaces SMTP and
    the webhook for a caller with its own transport)."""
    redaction.register_config(config)
    send = send or _sender(config)
    link = planning_link(config) or ""
    said = {e.key: (e, words(e, config)) for e in found}
    rows = [
        (key, recipient, event.team, text)
        for key, (event, text) in said.items()
        for recipient in recipients_of(config, event.team)
    ]
    alert_ledger.ensure_rows(engine, rows, now)
    status = alert_ledger.statuses(engine, list(said))
    outcomes = []
    for key, recipient, _team, text in rows:
        state = status.get((key, recipient))
        if state == "sent":
            outcomes.append(Outcome(key, recipient, "already sent"))
            continue
        if state == "sending":
            outcomes.append(Outcome(key, recipient, "in doubt", "a sender stopped mid-send"))
            continue
        if not alert_ledger.claim(engine, key, recipient):
            outcomes.append(Outcome(key, recipient, "taken"))
            continue
        try:
            send(recipient, subject(said[key][0]), text, link)
        except Exception as exc:
            error = str(exc) if isinstance(exc, SendError) else type(exc).__name__
            alert_ledger.settle(engine, key, recipient, error)
            log.warning("alert %s to %s failed: %s", key, recipient, error)
            outcomes.append(Outcome(key, recipient, "failed", error))
            continue
        alert_ledger.settle(engine, key, recipient, None)
        log.info("alert %s sent to %s", key, recipient)
        outcomes.append(Outcome(key, recipient, "sent"))
    return outcomes


def find(engine: Engine, config: Config, now: dt.datetime) -> list[Event]:
    """The events as the dashboard shows them: from the weekly rollups when they describe
    the org file (as of the last sync; the forecast kept after it), else from the facts as
    of `now`. Either way the forecast is the Planning page's (12 weeks, the same model
    choice), of which the alert looks at the first `within_weeks`."""
    with engine.connect() as conn:
        kept = rollup.alert_inputs(conn, config)
        if kept is not None:
            return events_of(config, *kept)
        facts = reading.forecast_facts(conn, config, now)
    return events(facts, forecast_block(facts, None))


def run_alerts(
    config: Config, engine: Engine, now: dt.datetime, send: Sender | None = None
) -> tuple[str, str | None]:
    """The scheduler's job: find this hour's events and send each one nobody has had."""
    found = find(engine, config, now)
    outcomes = deliver(engine, config, found, now, send)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    said = ", ".join(f"{n} {s}" for s, n in counts.items()) or "nothing to send"
    detail = f"{len(found)} events; {said}"
    failed = [o for o in outcomes if o.status in ("failed", "in doubt")]
    if failed:
        detail += "; " + "; ".join(f"{o.recipient}: {o.status} ({o.error})" for o in failed)
        return "failed", detail
    return "ok", detail
