"""The redactor: every secret masked in every form a server may echo, and nothing else.

Whether a secret is still there is decided by `tests/leaks.py`, which undoes the escapes
and decodes base64 itself, not by asking the redactor.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import urllib.parse

import pytest
from leaks import found, webhook_forms

from config import redaction
from config.load import parse_config
from config.redaction import MASK, Redactor, redact, shorten
from config.schema import Secret

TOKEN = "ATATT3xFfGF0Q-8k_zT2=pL9vYbN1dE6+w/R"  # Atlassian-like, with base64's own characters
PASSWORD = 'p@ss w/rd:+é"x%20'  # every character an encoder escapes
USER = "teamtide-bot"
GITHUB = "ghp_4Vb9XqLm2TzR8kYw1NcD6sHf0JpGa3EuIo7B"
SLACK = "https://hooks.slack.com/services/T0A1B2C3D/B0E4F5G6H/abcDEF123ghiJKL456mnoPQR"
TEAMS = (
    "https://acme.webhook.office.com/webhookb2/1f0e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b@"
    "9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9/IncomingWebhook/0123456789abcdef0123456789abcdef/"
    "a1b2c3d4-e5f6-4789-9abc-def012345678"
)
WORKFLOW = (
    "https://prod-42.westeurope.logic.azure.com:443/workflows/0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    "/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun"
    "&sv=1.0&sig=Zk3pQ9xW2mL7vB4nR8tY1cF6hJ0sD5aG-uE_iO"
)
SECRETS = {"jira token": TOKEN, "smtp password": PASSWORD, "smtp user": USER, "github": GITHUB}
EMAILS = ("a@b.io", "bo@acme.io", "bot@acme.io", "bots@acme.io")  # every offset modulo 3


def b64(text: str, urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(text.encode()).decode()


def everything() -> Redactor:
    return Redactor([TOKEN, PASSWORD, USER, GITHUB, SLACK, TEAMS, WORKFLOW])


def echoes() -> dict[str, str]:
    """Each form a server, proxy or library has been seen to echo, as it would write it."""
    forms: dict[str, str] = {}
    for email in EMAILS:
        basic = "Basic " + b64(f"{email}:{TOKEN}")
        forms[f"Authorization header, {email}"] = f"refused; Authorization: {basic} (GET /x?y=1)"
        forms[f"header percent-encoded, {email}"] = (
            f"/login?authorization={urllib.parse.quote(basic, safe='')}&next=%2Fjira"
        )
        forms[f"URL-safe base64, {email}"] = f"creds={b64(f'{email}:{TOKEN}', urlsafe=True)}"
        forms[f"userinfo, {email}"] = (
            f"GET http://{urllib.parse.quote(email, safe='')}:"
            f"{urllib.parse.quote(TOKEN, safe='')}@jira.acme.io/rest/api/3/myself"
        )
    forms["base64 without padding"] = b64(f"x:{TOKEN}").rstrip("=")
    forms["AUTH PLAIN"] = f"535 5.7.8 invalid: AUTH PLAIN {b64(chr(0) + USER + chr(0) + PASSWORD)}"
    forms["AUTH PLAIN with authzid"] = "AUTH PLAIN " + b64(f"{USER}\0{USER}\0{PASSWORD}")
    forms["AUTH LOGIN user"] = f"535 AUTH LOGIN {b64(USER)}"
    forms["AUTH LOGIN password"] = f"535 rejected {b64(PASSWORD)}"
    forms["user:password"] = "Basic " + b64(f"{USER}:{PASSWORD}")
    forms["raw"] = f"token {GITHUB} and {PASSWORD} and {TOKEN} ({USER})"
    forms["percent-encoded"] = urllib.parse.quote(PASSWORD, safe="")
    forms["percent-encoded, lower-case hex"] = urllib.parse.quote(PASSWORD, safe="").lower()
    forms["percent-encoded, path-safe"] = urllib.parse.quote(PASSWORD)
    forms["form-encoded"] = urllib.parse.urlencode({"password": PASSWORD, "token": TOKEN})
    forms["JSON"] = json.dumps({"password": PASSWORD, "token": TOKEN})
    forms["JSON, not ASCII-escaped"] = json.dumps({"password": PASSWORD}, ensure_ascii=False)
    forms["JSON, every symbol escaped"] = "".join(  # as Go's encoder does with <, > and &
        ch if ch.isalnum() else f"\\u{ord(ch):04x}" for ch in PASSWORD
    )
    forms["HTML"] = f"<p>{html.escape(PASSWORD)}</p>"
    forms["repr"] = repr({"Authorization": f"token {GITHUB}", "password": PASSWORD})
    forms["Slack URL"] = f"POST {SLACK} failed"
    forms["Slack path alone"] = (
        "Max retries exceeded with url: /services/T0A1B2C3D/B0E4F5G6H/abcDEF123ghiJKL456mnoPQR"
    )
    forms["Slack token alone"] = "invalid_token abcDEF123ghiJKL456mnoPQR"
    forms["Slack URL percent-encoded"] = "?next=" + urllib.parse.quote(SLACK, safe="")
    forms["Slack URL JSON-escaped"] = json.dumps(SLACK).replace("/", "\\/")
    forms["Teams URL"] = f"{TEAMS}: 400"
    forms["Teams path alone"] = urllib.parse.urlsplit(TEAMS).path
    forms["Teams workflow URL"] = WORKFLOW
    forms["Teams workflow signature"] = (
        "sig=" + urllib.parse.parse_qs(urllib.parse.urlsplit(WORKFLOW).query)["sig"][0]
    )
    return forms


def all_secrets() -> dict[str, str]:
    found_in = dict(SECRETS)
    found_in |= {f"slack {k}": v for k, v in webhook_forms(SLACK).items()}
    found_in |= {f"teams {k}": v for k, v in webhook_forms(TEAMS).items()}
    found_in["workflow sig"] = urllib.parse.parse_qs(urllib.parse.urlsplit(WORKFLOW).query)["sig"][
        0
    ]
    found_in["workflow path"] = urllib.parse.urlsplit(WORKFLOW).path
    return found_in


@pytest.mark.parametrize("form", sorted(echoes()))
def test_each_echoed_form_is_planted_and_masked(form: str) -> None:
    echoed = echoes()[form]
    assert found(echoed, all_secrets()), "the form does not hold a secret: a useless case"
    redacted = everything()(echoed)
    assert found(redacted, all_secrets()) == [], redacted
    assert MASK in redacted


def test_a_secret_is_masked_in_base64_at_every_offset_of_any_text_around_it() -> None:
    redactor = Redactor([TOKEN])
    for before in range(0, 7):
        for after in range(0, 4):
            text = "é" * before + TOKEN + "x" * after  # é: two bytes, other alignments too
            echoed = f"[{b64(text)}] [{b64(text, urlsafe=True)}]"
            redacted = redactor(echoed)
            assert found(redacted, {"token": TOKEN}) == [], (before, after, redacted)


def test_the_combinations_teamtide_sends_are_masked_even_for_a_short_secret() -> None:
    short = "k3y9z!"  # too short for its base64 to be searched at every offset
    redactor = Redactor([short, "bo"], combinations=[f"bot@acme.io:{short}", f"\0me\0{short}"])
    for echoed in (
        "Basic " + b64(f"bot@acme.io:{short}"),
        "AUTH PLAIN " + b64(f"\0me\0{short}"),
        b64(short),
    ):
        assert found(redactor(echoed), {"short": short}) == [], echoed


def test_the_org_file_s_secrets_and_what_is_sent_with_them_join_the_process_redactor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TT_JIRA", "k3y9z!")
    monkeypatch.setenv("TT_PASSWORD", "pw#42")
    parse_config(
        """
sources:
  jira: {url: "https://acme.atlassian.net", email: bot@acme.io, token: "${TT_JIRA}"}
report:
  smtp: {host: mail.acme.io, user: mailer, password: "${TT_PASSWORD}"}
"""
    )
    for echoed in (
        "Basic " + b64("bot@acme.io:k3y9z!"),
        "AUTH PLAIN " + b64("\0mailer\0pw#42"),
        "k3y9z! pw#42 mailer",
    ):
        assert found(redact(echoed), {"token": "k3y9z!", "password": "pw#42"}) == [], echoed
    assert "mailer" not in redact("mailer"), "the SMTP user is a secret too"


def test_a_secret_is_masked_from_the_moment_it_is_revealed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TT_TOKEN", TOKEN)
    secret = Secret("Bearer ${TT_TOKEN}")
    assert TOKEN in redact(f"said {TOKEN}")
    assert secret.reveal() == f"Bearer {TOKEN}"
    assert redact(f"said {TOKEN}; {b64('x:' + TOKEN)}") == f"said {MASK}; {MASK}"


def test_credentials_are_masked_whatever_the_org_file_says() -> None:
    nobody = Redactor()
    cases = {
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl": "Bearer",
        "{'Authorization': 'token ghp_abcdefgh12345678'}": "token",
        "Authorization: Basic " + b64("someone:hunter2"): "Basic",
        "postgresql+psycopg://teamtide:pg-s3cret@db.acme.io/teamtide": "teamtide:",
        "see https://hooks.slack.com/services/T1/B2/XyZ123abc.": "hooks.slack.com/services/",
        TEAMS: "webhook.office.com/webhookb2/",
        WORKFLOW: "logic.azure.com:443/workflows/",
    }
    secrets = {
        "bearer": "eyJhbGciOiJSUzI1NiJ9",
        "token": "ghp_abcdefgh12345678",
        "password": "hunter2",
        "db password": "pg-s3cret",
        "slack": "XyZ123abc",
        "teams": "0123456789abcdef0123456789abcdef",
        "sig": "Zk3pQ9xW2mL7vB4nR8tY1cF6hJ0sD5aG",
    }
    for text, kept in cases.items():
        redacted = nobody(text)
        assert found(redacted, secrets) == [], redacted
        assert kept in redacted and MASK in redacted  # what it was stays readable


@pytest.mark.parametrize(
    "text",
    [
        "HTTP 401 from GET /rest/api/2/serverInfo (check sources.jira email or user, and the "
        "token's environment variable)",
        "Basic authentication is not enabled on this site",
        "Authorization: required",
        "the SMTP server mail.acme.io:587 answered 451 4.3.0 try again later",
        "https://teamtide.acme.example/Reports?week=2025-W26",
        "ConnectionError: HTTPSConnectionPool(host='jira.acme.io', port=443): Max retries",
        "2025-W26: 3 sent, 1 failed; ops@acme.example: failed (timed out)",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert everything()(text) == text


def test_values_too_short_to_be_secrets_are_not_masked() -> None:
    assert Redactor(["abc", ""])("abc abc") == "abc abc"


def test_text_is_cut_between_words_and_only_after_it_is_redacted() -> None:
    assert shorten("the quick brown fox", 12) == "the quick…"
    assert shorten("the quick brown fox", 100) == "the quick brown fox"
    assert shorten("abcdefghijklmnop", 8) == "…"
    header = "Basic " + b64(f"bot@acme.io:{TOKEN}")
    text = f"refused: {header} and more"
    redaction.register(TOKEN)
    for limit in range(1, len(text) + 2):
        # a cut through the credentials would leave a prefix no redactor could recognise
        assert found(redact(text, limit), {"token": TOKEN}) == []
        cut = shorten(text, limit)
        assert len(cut) <= limit
        assert set(cut.removesuffix("…").split()) <= set(text.split())  # whole words only


def test_log_records_are_redacted_with_their_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redaction.register(TOKEN)
    log = logging.getLogger("teamtide.test.redaction")
    caplog.set_level(logging.DEBUG)
    basic = "Basic " + b64(f"bot@acme.io:{TOKEN}")
    log.warning("refused: %s", f"Authorization: {basic}")
    try:
        raise RuntimeError(f"the server said {TOKEN}")
    except RuntimeError:
        log.exception("sync failed with %s", urllib.parse.quote(TOKEN, safe=""))
    log.info("stack", stack_info=True, extra={"note": "no secret"})
    assert caplog.records and found(caplog.text, {"token": TOKEN}) == []
    assert "refused: Authorization: Basic ***" in caplog.text
    assert "the server said ***" in caplog.text
