"""Fixtures for the weekly report: a real SMTP server, a webhook receiver, and a writable world copy.

Both can misbehave as careless servers do and quote the credentials back in their error
(`MailBox.echo_auth`, `Webhook.echo`): what the redaction tests plant secrets with.
"""

from __future__ import annotations

import base64
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword

from config.load import load_config
from config.schema import Config
from tests.report.helpers import SMTP_PASSWORD, SMTP_USER, WEBHOOK_PATH


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class MailBox:
    """What the SMTP server received, and how it should misbehave next."""

    messages: list[Received] = field(default_factory=list)
    fail_next: int = 0  # answer 451 (try again later) to this many messages
    refuse: bool = False  # answer 550 to every message
    on_message: Callable[[int], None] | None = None  # called with the count, after storing
    echo_auth: bool = False  # refuse AUTH with a reply quoting the client's AUTH lines back
    login: tuple[str, str] = (SMTP_USER, SMTP_PASSWORD)  # what `smtp_auth` accepts
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.messages if address in r.envelope_to]


class _Handler:
    def __init__(self, box: MailBox):
        self.box = box

    async def handle_AUTH(self, server: Any, session: Any, envelope: Any, args: list[str]) -> Any:
        """With `echo_auth`: 535, quoting `AUTH PLAIN <base64>` (or LOGIN's lines) back."""
        if not self.box.echo_auth:
            return MISSING  # aiosmtpd's own AUTH
        said = " ".join(args)
        if args[0].upper() == "LOGIN":
            password = await server.challenge_auth("Password:")
            if password is not MISSING:
                said += " " + base64.b64encode(password).decode()
        return f"535 5.7.8 Authentication credentials invalid: AUTH {said}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.box.lock:
            if self.box.refuse:
                return "550 5.7.1 relaying denied"
            if self.box.fail_next > 0:
                self.box.fail_next -= 1
                return "451 4.3.0 try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.box.messages.append(Received(list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            count = len(self.box.messages)
        if self.box.on_message:
            self.box.on_message(count)
        return "250 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok)


def _free_port() -> int:
    # aiosmtpd's Controller connects to its port to know it is up: port 0 would not do
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpServer:
    box: MailBox
    port: int
    host: str = "127.0.0.1"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1 (security: none)."""
    box = MailBox()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield SmtpServer(box, controller.port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_auth(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    """A plain SMTP server that requires AUTH (offered without TLS, as on a private relay).

    Its one mechanism is `request.param` (PLAIN by default; LOGIN sends the user and the
    password in base64 each on its own line). aiosmtpd warns of AUTH without TLS on every
    connection: a test using it filters "Requiring AUTH while not requiring TLS".
    """
    mechanism = getattr(request, "param", "PLAIN")
    box = MailBox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
        user, password = box.login
        ok = isinstance(auth_data, LoginPassword) and auth_data == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok)

    controller = Controller(
        _Handler(box),
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m != mechanism],
    )
    controller.start()
    try:
        yield SmtpServer(box, controller.port)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for `localhost`, made with openssl."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def smtp_starttls(
    tls_cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SmtpServer]:
    """An SMTP server that requires STARTTLS and then AUTH; its certificate is trusted via SSL_CERT_FILE."""
    cert, key = tls_cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what the default client context trusts
    box = MailBox()
    controller = Controller(
        _Handler(box),
        hostname="127.0.0.1",
        port=_free_port(),
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        yield SmtpServer(box, controller.port, host="localhost")
    finally:
        controller.stop()


@pytest.fixture
def smtp_ssl(tls_cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """An SMTP server speaking TLS from the first byte (`security: ssl`, port 465 style), with AUTH."""
    cert, key = tls_cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    box = MailBox()
    controller = Controller(
        _Handler(box),
        hostname="127.0.0.1",
        port=_free_port(),
        server_hostname="localhost",
        ssl_context=context,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=False,  # aiosmtpd counts only STARTTLS as TLS; this is TLS throughout
    )
    controller.start()
    try:
        yield SmtpServer(box, controller.port, host="localhost")
    finally:
        controller.stop()


@dataclass
class Webhook:
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    fail_next: int = 0
    port: int = 0
    path: str = WEBHOOK_PATH
    echo: bool = False  # fail with 404 and a body quoting the URL back, its path and encoded

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """An incoming-webhook receiver on 127.0.0.1 that can answer 503 a few times first."""
    import json

    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if hook.fail_next > 0 and hook.echo:
                hook.fail_next -= 1
                url = f"http://127.0.0.1:{hook.port}{self.path}"
                said = (
                    f"no_service: nothing at {self.path} "
                    f"(https://status.example/?hook={urllib.parse.quote(url, safe='')})"
                )
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(said.encode())
                return
            if hook.fail_next > 0:
                hook.fail_next -= 1
                self.send_response(503)
                self.end_headers()
                return
            hook.posts.append(json.loads(body))
            hook.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class ReportWorld:
    """A private copy of the synced world's database, with an org file that delivers the report."""

    directory: Path
    db_url: str
    base: dict[str, Any]  # the synced world's org file, as YAML data

    def write_config(
        self,
        smtp: SmtpServer | None = None,
        webhook: Webhook | None = None,
        *,
        recipients: list[str] | None = None,
        security: str = "none",
        per_team_lead: bool = False,
        leads: dict[str, list[str]] | None = None,
        schedule: dict[str, Any] | None = None,
        name: str = "teamtide.yaml",
        login: bool | None = None,
        change: Callable[[dict[str, Any]], None] | None = None,
    ) -> tuple[Path, Config]:
        """The org file, delivering by `smtp` (logging in with `login`: default, over TLS
        only) and `webhook`; `change` edits its data last."""
        data = yaml.safe_load(yaml.safe_dump(self.base))
        data["database"] = {"url": self.db_url}
        for team in data["org"]["teams"]:
            if leads and team["name"] in leads:
                team["leads"] = leads[team["name"]]
        section: dict[str, Any] = {
            "recipients": recipients
            if recipients is not None
            else ["director@acme.example", "ops@acme.example"],
            "per_team_lead": per_team_lead,
            "dashboard_url": "https://teamtide.acme.example",
        }
        if smtp:
            section["smtp"] = {
                "host": smtp.host,
                "port": smtp.port,
                "security": security,
                "sender": "teamtide@acme.example",
            }
            if login or (login is None and security != "none"):
                section["smtp"] |= {"user": "${TT_SMTP_USER}", "password": "${TT_SMTP_PASSWORD}"}
        if webhook:
            section["webhook_url"] = "${TT_WEBHOOK_URL}"
        data["report"] = section
        if schedule:
            data["schedule"] = schedule
        if change:
            change(data)
        path = self.directory / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path, load_config(path)


@pytest.fixture
def report_world(synced_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReportWorld:
    """The synced world's database copied (reports are written to it), and its secrets in the env."""
    source = Path(synced_world.db_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", tmp_path / f"teamtide.db{suffix}")
    monkeypatch.setenv("TT_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("TT_SMTP_PASSWORD", SMTP_PASSWORD)
    base = yaml.safe_load(Path(synced_world.config_path).read_text())
    return ReportWorld(tmp_path, f"sqlite:///{tmp_path / 'teamtide.db'}", base)
