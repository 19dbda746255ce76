"""Delivering the weekly report by SMTP and webhook: once per week and recipient, retried
with backoff, recorded.

Every recipient of a week has a row in the delivery ledger (`db.ledger`). A sender
claims a row by moving it to `sending` and commits before it talks to the server, then
records `sent` or `failed`; so a retry, a restart or a second scheduler never sends a
row that was sent, and two senders never claim the same row. Deliveries run under the
`report` lease (the scheduler's job lease, or `leased()` for the command line), so a
row still `sending` when a sender starts was left by a process that died mid-send: it
is *in doubt* (the server may have it) and is reported, not resent; `force` resends on
purpose.

Once a week's report has been sent to anyone it is frozen (`report.weekly.publish`):
later runs render the stored figures again, so every recipient gets the same numbers.

What a server answers is kept in the errors, as an operator needs it ("535 ... invalid
credentials", Slack's "no_service"), and redacted where it is stored (`db.ledger`,
`db.jobruns`), logged or printed: the org file's secrets are in the process's redactor
(`config.redaction`) before anything is sent, even when a server quotes them back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import smtplib
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from sqlalchemy import Engine

from config import redaction
from config.redaction import shorten
from config.schema import Config, Smtp
from db import ledger, locks
from report import webhook
from report.mail import email_message
from report.recipients import Recipient, recipients
from report.weekly import Rendered, publish
from report.weeks import last_complete_week, week_label

log = logging.getLogger(__name__)

LEASE_NAME = "report"  # the scheduler's job lease of the same name: one sender at a time
LEASE = dt.timedelta(minutes=2)
TIMEOUT_SECONDS = 30.0
RETRY_EVERY_MINUTES = 60


@dataclass(frozen=True)
class Retry:
    """Attempts per run and the waits between them: first_wait, then x factor, capped."""

    attempts: int = 5  # waits of 30 s, 1, 2 and 4 min: rides out a short mail-server outage
    first_wait: float = 30.0
    factor: float = 2.0
    max_wait: float = 600.0

    def wait(self, attempt: int, hint: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        planned = self.first_wait * self.factor ** (attempt - 1)
        return min(max(planned, hint or 0.0), self.max_wait)


@dataclass(frozen=True)
class Outcome:
    recipient: str
    status: Literal["sent", "already sent", "in doubt", "failed", "taken"]
    attempts: int = 0
    error: str | None = None


@dataclass
class Result:
    period: str
    rendered: Rendered
    regenerated: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status in ("sent", "already sent", "taken") for o in self.outcomes)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        said = ", ".join(f"{n} {status}" for status, n in counts.items()) or "not sent"
        problems = "; ".join(
            f"{o.recipient}: {o.status}{f' ({o.error})' if o.error else ''}"
            for o in self.outcomes
            if o.status in ("failed", "in doubt")
        )
        return f"{self.period}: {said}" + (f"; {problems}" if problems else "")


class SendError(Exception):
    """A delivery that did not go through; `transient` ones are worth another attempt."""

    def __init__(self, message: str, transient: bool, retry_after: float | None = None):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


@contextlib.contextmanager
def leased(engine: Engine, holder: str | None = None) -> Iterator[bool]:
    """Hold the `report` lease (renewed while inside); yields False if another sender has it."""
    holder = holder or locks.process_holder()
    # a sender killed on this machine is provably gone: its lease is taken over at once
    now = dt.datetime.now(dt.UTC)
    if not locks.acquire(engine, LEASE_NAME, holder, LEASE, now, dead=locks.holder_is_dead):
        yield False
        return
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LEASE.total_seconds() / 3):
            locks.renew(engine, LEASE_NAME, holder, LEASE, dt.datetime.now(dt.UTC))

    thread = threading.Thread(target=renew, daemon=True)
    thread.start()
    try:
        yield True
    finally:
        done.set()
        thread.join()
        locks.release(engine, LEASE_NAME, holder)


def send_email(smtp: Smtp, message: EmailMessage, timeout: float = TIMEOUT_SECONDS) -> None:
    """One message over SMTP (STARTTLS, SSL or plain), logging in when a user is configured."""
    where = f"{smtp.host}:{smtp.port}"
    try:
        user = smtp.user.reveal() if smtp.user else None
        password = smtp.password.reveal() if smtp.password else ""
    except KeyError as exc:
        raise SendError(f"report.smtp: {exc.args[0]}", transient=False) from None
    try:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if user:
                client.login(user, password)
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendError(
            f"the SMTP server {where} refused the recipient (codes {codes})",
            transient=all(400 <= c < 500 for c in codes),
        ) from None
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise SendError(
            f"the SMTP server {where} answered {exc.smtp_code} {shorten(reply, 200)}",
            transient=400 <= exc.smtp_code < 500,
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(
            f"the SMTP server {where} does not support {exc.args[0] if exc.args else 'it'}: "
            "check report.smtp.security (starttls, ssl or none) and port",
            transient=False,
        ) from None
    except ssl.SSLError as exc:
        raise SendError(
            f"TLS with the SMTP server {where} failed ({exc.reason or type(exc).__name__}): "
            "check report.smtp.security and the server's certificate",
            transient=False,
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(
            f"could not talk to the SMTP server {where} ({type(exc).__name__})", transient=True
        ) from None


def post_webhook(url: str, payload: dict[str, Any], timeout: float = TIMEOUT_SECONDS) -> None:
    """POST the JSON summary; errors never quote the URL (it is the webhook's secret).

    A refusal says what the service answered (Slack's `no_service`, `invalid_payload`,
    `channel_is_archived`: what an operator acts on), redacted like any error.
    """
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "teamtide"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        hint = exc.headers.get("Retry-After") if exc.headers else None
        said = _answer(exc)
        raise SendError(
            f"the webhook answered HTTP {exc.code}" + (f": {said}" if said else ""),
            transient=exc.code >= 500 or exc.code in (408, 429),
            retry_after=float(hint) if hint and hint.isdigit() else None,
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(
            f"could not reach the webhook ({type(reason).__name__})", transient=True
        ) from None


def _answer(exc: urllib.error.HTTPError) -> str:
    """The first line of a refusal's body, cut between words (a secret in it stays whole)."""
    try:
        body = exc.read(4096).decode("utf-8", errors="replace").strip()
    except (OSError, ValueError):
        return ""
    return shorten(body.splitlines()[0], 200) if body else ""


Sender = Callable[[Recipient], None]


def deliver(
    engine: Engine,
    config: Config,
    rendered: Rendered,
    *,
    force: bool = False,
    retry: Retry = Retry(),
    sleep: Callable[[float], None] = time.sleep,
    send: Sender | None = None,
) -> list[Outcome]:
    """Send the week's report to every recipient that does not have it yet (all, with `force`).

    The caller holds the `report` lease. `send` replaces the real SMTP/webhook sender
    (the default) for a caller with its own transport.
    """
    period = rendered.period
    redaction.register_config(config)
    targets = recipients(config)
    ledger.ensure_rows(engine, period, [t.key for t in targets])
    status = ledger.statuses(engine, period)
    send = send or _sender(config, rendered, force)
    outcomes = []
    for target in targets:
        state = status.get(target.key)
        if not force and state == "sent":
            outcomes.append(Outcome(target.key, "already sent"))
        elif not force and state == "sending":
            outcomes.append(
                Outcome(
                    target.key,
                    "in doubt",
                    error="a sender stopped while sending it: check whether it arrived, "
                    "and resend with --force if not",
                )
            )
        else:
            outcomes.append(_attempts(engine, config, period, target, send, force, retry, sleep))
    return outcomes


def _attempts(
    engine: Engine,
    config: Config,
    period: str,
    target: Recipient,
    send: Sender,
    force: bool,
    retry: Retry,
    sleep: Callable[[float], None],
) -> Outcome:
    for attempt in range(1, retry.attempts + 1):
        number = ledger.claim(engine, period, target.key, force=force and attempt == 1)
        if number is None:
            return Outcome(target.key, "taken", error="another sender has it")
        try:
            send(target)
        except Exception as exc:
            failure = exc if isinstance(exc, SendError) else SendError(type(exc).__name__, True)
            error = str(failure)  # redacted where it goes: the ledger, the log, the output
            ledger.settle(engine, period, target.key, error)
            log.warning(
                "report %s to %s: attempt %d failed: %s", period, target.key, attempt, error
            )
            if not failure.transient or attempt == retry.attempts:
                return Outcome(target.key, "failed", number, error)
            sleep(retry.wait(attempt, failure.retry_after))
            continue
        ledger.settle(engine, period, target.key, None)
        log.info("report %s sent to %s", period, target.key)
        return Outcome(target.key, "sent", number)
    raise AssertionError("unreachable: the loop returns on its last attempt")


def _sender(config: Config, rendered: Rendered, force: bool) -> Sender:
    settings = config.report

    def send(target: Recipient) -> None:
        if target.kind == "webhook":
            assert settings.webhook_url is not None
            try:
                url = settings.webhook_url.reveal()
            except KeyError as exc:
                raise SendError(f"report.webhook_url: {exc.args[0]}", transient=False) from None
            post_webhook(
                url,
                webhook.payload(rendered.figures, rendered.headlines, url, settings.dashboard_url),
            )
            return
        if settings.smtp is None:
            raise SendError("report.smtp is not configured in the org file", transient=False)
        message = email_message(
            rendered, target, settings.smtp.sender, settings.dashboard_url, force
        )
        send_email(settings.smtp, message)

    return send


def run(
    engine: Engine,
    config: Config,
    monday: dt.date,
    now: dt.datetime,
    *,
    send: bool,
    force: bool = False,
    retry: Retry = Retry(),
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """Generate and store the week's report, and deliver it with `send` (lease held by the caller)."""
    rendered, regenerated = publish(engine, config, monday, now, force=force)
    log.info(
        "report %s: %d charts rendered in %.2f s (one browser session)",
        rendered.period,
        len(rendered.images.png),
        rendered.images.seconds,
    )
    result = Result(rendered.period, rendered, regenerated)
    if send:
        result.outcomes = deliver(engine, config, rendered, force=force, retry=retry, sleep=sleep)
    return result


def run_weekly(config: Config, engine: Engine, now: dt.datetime) -> tuple[str, str | None]:
    """The scheduler's job: last week's report to everyone who does not have it yet."""
    monday = last_complete_week(now, config)
    return _job_outcome(run(engine, config, monday, now, send=True))


def retry_failed(config: Config, engine: Engine, now: dt.datetime) -> tuple[str, str | None]:
    """The scheduler's hourly job: last week's deliveries that failed every attempt, once more.

    Without it a mail server down for the whole backoff leaves its recipients without the
    week's report until someone runs `teamtide report --send`. Only `failed` rows are
    retried (a sender that died mid-message left `in doubt`, which needs a person), under
    the report lease, with the figures the others received.
    """
    monday = last_complete_week(now, config)
    failed = sorted(
        k for k, s in ledger.statuses(engine, week_label(monday)).items() if s == "failed"
    )
    if not failed:
        return "ok", "no failed delivery to retry"
    with leased(engine) as held:
        if not held:
            return "skipped", "another sender holds the report lease"
        result = run(engine, config, monday, now, send=True)
    return _job_outcome(result)


def _job_outcome(result: Result) -> tuple[str, str | None]:
    """A scheduled run's outcome and detail, as `job_runs` records them (`db.jobruns` redacts)."""
    return ("ok" if result.ok else "failed"), result.summary()
