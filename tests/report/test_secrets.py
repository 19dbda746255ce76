"""Servers that quote the credentials back leak no secret, in any form, anywhere.

The SMTP server answers AUTH with a 535 quoting the client's AUTH lines (PLAIN: base64
of `\\0user\\0password`; LOGIN: base64 of each), the webhook a 404 quoting its path and
its URL percent-encoded; and, the whole way through, Jira and GitHub quote the request's
`Authorization` header (the sandbox's echo faults). Whether a secret is still anywhere is
judged by `tests/leaks.py`, which decodes and unescapes on its own.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from leaks import dump, found, webhook_forms
from sqlalchemy import inspect, select, text
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from db import models, queries
from db.session import make_engine
from report import delivery, weeks
from teamtide import scheduler
from teamtide.cli import app
from tests.dashboard.helpers import everything_shown, recording_media_files
from tests.report.helpers import NOW, SMTP_PASSWORD, SMTP_USER, WEEK, text_part

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

FAST = delivery.Retry(attempts=2, first_wait=0.1, factor=1.0, max_wait=0.1)
SLACK_PATH = "/services/T0A1B2C3D/B0E4F5G6H/abcDEF123ghiJKL456mnoPQR"


def _run(config) -> delivery.Result:
    engine = make_engine(config.database.url)
    try:
        return delivery.run(engine, config, weeks.parse_week(WEEK), NOW, send=True, retry=FAST)
    finally:
        engine.dispose()


def _stored(config) -> tuple[dict[str, dict], list[str]]:
    """The week's ledger, and every job run's detail."""
    engine = make_engine(config.database.url)
    try:
        with engine.connect() as conn:
            ledger = {r["recipient"]: r for r in queries.report_deliveries(conn, WEEK)}
            details = list(conn.scalars(select(models.JobRun.detail)))
    finally:
        engine.dispose()
    return ledger, [d for d in details if d]


@pytest.mark.parametrize("smtp_auth", ["PLAIN", "LOGIN"], indirect=True)
def test_servers_that_quote_the_login_or_the_webhook_url_back_leak_neither(
    report_world, smtp_auth, webhook, monkeypatch, caplog
) -> None:
    webhook.path, webhook.echo, webhook.fail_next = SLACK_PATH, True, 2
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)
    path, config = report_world.write_config(
        smtp_auth, webhook, recipients=["director@acme.example"], login=True
    )
    secrets = {"SMTP user": SMTP_USER, "SMTP password": SMTP_PASSWORD, **webhook_forms(webhook.url)}
    smtp_auth.box.echo_auth = True
    caplog.set_level(logging.DEBUG)

    result = _run(config)
    by = {o.recipient: o for o in result.outcomes}
    assert by["director@acme.example"].status == "failed"
    assert by["webhook"].status == "failed"
    # the scheduler's hourly retry meets the same servers: its run is recorded too
    monkeypatch.setattr(scheduler, "_now", lambda: NOW)
    assert scheduler.run_job(str(path), "report-retry") == "failed"

    ledger, details = _stored(config)
    mail_error = ledger["director@acme.example"]["last_error"]
    hook_error = ledger["webhook"]["last_error"]
    # what the servers said reached the ledger, the log and the job's record, masked
    assert mail_error.startswith(
        f"the SMTP server 127.0.0.1:{smtp_auth.port} answered 535 5.7.8 "
        "Authentication credentials invalid: AUTH "
    )
    assert mail_error.endswith(("AUTH PLAIN ***", "AUTH LOGIN *** ***")), mail_error
    assert hook_error.startswith("the webhook answered HTTP 404: no_service: nothing at ***")
    assert details and all("***" in d for d in details), details
    said = "\n".join([caplog.text, mail_error, hook_error, *details])
    assert "535" in caplog.text and "no_service" in caplog.text
    assert found(said, secrets) == [], said

    # once the servers behave, what they deliver holds no secret either
    smtp_auth.box.echo_auth = False
    again = _run(config)
    assert {o.recipient: o.status for o in again.outcomes} == {
        "director@acme.example": "sent",
        "webhook": "sent",
    }
    [message] = smtp_auth.box.to("director@acme.example")
    delivered = [message.as_string(), text_part(message), *map(str, webhook.posts)]
    assert found("\n".join(delivered), secrets) == []


# ---------------------------------------------------------------- the whole way through

JIRA_TOKEN = "ATATT3xFfGF0Q-8k_zT2=pL9vYbN1dE6+w/R"  # as real ones: base64's own characters
GITHUB_TOKEN = "ghp_4Vb9XqLm2TzR8kYw1NcD6sHf0JpGa3EuIo7B"
MAIL_USER, MAIL_PASSWORD = "mailer-7f3k9q", "Zq!7+p/w=x:9 d&<'"  # escaped by every encoder
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def _teamtide(config_path: Path, *args: str) -> tuple[int, str, str]:
    """`teamtide --config PATH ARGS...` in this process: exit code, stdout, stderr."""
    result = CliRunner().invoke(app, ["--config", str(config_path), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _page(config_path: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Everything a dashboard page shows a director, its tables' CSV downloads included."""
    monkeypatch.setenv("TEAMTIDE_CONFIG", str(config_path))
    st.cache_data.clear()
    with recording_media_files() as made:
        at = AppTest.from_file(str(DASHBOARD / "views" / f"{page}.py"), default_timeout=120).run()
        shown = everything_shown(at, made[-1])
    assert not at.exception, [e.message for e in at.exception]
    return [text for _, text in shown.texts] + list(shown.downloads.values())


def _database(url: str) -> dict[str, str]:
    """Every text of every row of every table, by table."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return {
                table: "\n".join(
                    dump(value)
                    for row in conn.execute(text(f'select * from "{table}"'))
                    for value in row
                    if isinstance(value, str | bytes | dict | list)
                )
                for table in tables
            }
    finally:
        engine.dispose()


def _email(message: Any) -> str:
    parts = [message.as_string()]
    parts += [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts)


def test_every_secret_in_every_echoed_form_stays_out_of_every_store_log_output_page_and_message(
    synced_world, report_world, smtp_auth, webhook, monkeypatch, caplog
) -> None:
    """Jira, GitHub, the mail server and the webhook quote the credentials back in every form
    (through the real client libraries); no form of any secret reaches the database, the
    log, what `teamtide sync`, `status` and `report` print, the Data health and Reports
    pages and their CSV, the stored report, the e-mail or the chat post."""
    state = synced_world.stack.state
    monkeypatch.setitem(state.tokens, "jira", JIRA_TOKEN)
    monkeypatch.setitem(state.tokens, "github", GITHUB_TOKEN)
    for name, value in {
        "TT_JIRA_TOKEN": JIRA_TOKEN,
        "TT_GITHUB_TOKEN": GITHUB_TOKEN,
        "TT_SMTP_USER": MAIL_USER,
        "TT_SMTP_PASSWORD": MAIL_PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)
    smtp_auth.box.login = (MAIL_USER, MAIL_PASSWORD)
    webhook.path = SLACK_PATH
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)

    def secret_sources(data: dict[str, Any]) -> None:
        data["sources"]["jira"]["token"] = "${TT_JIRA_TOKEN}"
        data["sources"]["github"]["token"] = "${TT_GITHUB_TOKEN}"
        # REST: its per-pull-request timeline requests are what a 404 echo sets aside one by
        # one into sync_rejects (the GraphQL path's echoes: tests/collectors/test_github_sync.py)
        data["sources"]["github"]["api"] = "rest"
        data["access"] = {"person_level": True, "local_role": "director"}  # every table shown

    path, _ = report_world.write_config(
        smtp_auth,
        webhook,
        recipients=["director@acme.example"],
        login=True,
        change=secret_sources,
    )
    secrets = {
        "Jira token": JIRA_TOKEN,
        "GitHub token": GITHUB_TOKEN,
        "SMTP user": MAIL_USER,
        "SMTP password": MAIL_PASSWORD,
        **webhook_forms(webhook.url),
    }
    caplog.set_level(logging.DEBUG)
    printed: dict[str, str] = {}
    sync = ("sync", "--source", "jira", "--source", "github")
    try:
        # 1. Jira quotes `Authorization: Basic base64(e-mail:token)` in its 401; GitHub
        #    quotes `token ...` in the 404 of every timeline: each pull request is set aside
        state.set_faults("jira", echo_status=401)
        state.set_faults("github", echo_status=404, echo_path="/timeline")
        code, printed["sync 1"], printed["sync 1 stderr"] = _teamtide(path, *sync, "--full")
        assert code == 1
        # 2. a proxy's sign-in link carries the header and the URL percent-encoded; GitHub
        #    quotes the token in a 401; the scheduler meets the same, and records its run
        state.clear_faults()
        state.set_faults("jira", echo_status=401, echo_format="login")
        state.set_faults("github", echo_status=401)
        code, printed["sync 2"], printed["sync 2 stderr"] = _teamtide(path, *sync)
        assert code == 1
        assert scheduler.run_job(str(path), "jira") == "failed"
        # 3. a proxy writes the request with the credentials as the URL's userinfo
        state.set_faults("jira", echo_status=401, echo_format="proxy")
        code, printed["sync 3"], printed["sync 3 stderr"] = _teamtide(
            path, "sync", "--source", "jira"
        )
        assert code == 1
    finally:
        state.clear_faults()
    for fmt in ("table", "json"):
        _, printed[f"status {fmt}"], printed[f"status {fmt} stderr"] = _teamtide(
            path, "status", "--format", fmt
        )
    health = _page(path, "health", monkeypatch)

    # 4. the mail server echoes `AUTH PLAIN base64(\0user\0password)`, the webhook its URL
    smtp_auth.box.echo_auth = True
    webhook.echo, webhook.fail_next = True, 1
    report = ("report", "--week", WEEK, "--send")
    code, printed["report 1"], printed["report 1 stderr"] = _teamtide(path, *report)
    assert code == 1
    reports_failed = _page(path, "reports", monkeypatch)
    # 5. they behave: the report goes out, with the sources' errors as stale-source warnings
    smtp_auth.box.echo_auth = False
    code, printed["report 2"], printed["report 2 stderr"] = _teamtide(path, *report)
    assert code == 0, printed
    reports_sent = _page(path, "reports", monkeypatch)
    [message] = smtp_auth.box.to("director@acme.example")
    [post] = webhook.posts

    stored = _database(report_world.db_url)
    # every echo got where it was meant to, masked: the test planted what it looks for
    assert "Authorization: token ***" in stored["sync_rejects"]
    assert "Authorization: token ***" in stored["sync_state"]
    assert "%40acme.example:***@127.0.0.1" in stored["sync_state"]  # the proxy's userinfo
    assert "/login?authorization=***" in stored["job_runs"]  # the sign-in link
    assert "Authorization: Basic ***" in caplog.text  # Jira's own 401, at step 1
    assert (
        "AUTH PLAIN ***" in printed["report 1"]
        and "no_service: nothing at ***" in printed["report 1"]
    )
    assert "failed on its last sync" in stored["reports"] and "***" in text_part(message)
    assert "***" in json.dumps(post)

    places = {
        **{f"database table {table}": texts for table, texts in stored.items()},
        "log": caplog.text,
        **{f"teamtide {command}": out for command, out in printed.items()},
        "Data health page and CSV": "\n".join(health),
        "Reports page, failed deliveries": "\n".join(reports_failed),
        "Reports page, sent": "\n".join(reports_sent),
        "e-mail": _email(message),
        "chat post": json.dumps(post, ensure_ascii=False),
    }
    leaked = {where: hits for where, said in places.items() if (hits := found(said, secrets))}
    assert not leaked
