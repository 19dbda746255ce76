"""`teamtide serve`: loopback without sign-in, a flag and a warning beyond it, sign-in secrets checked first."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from config.load import parse_config
from config.schema import Config
from teamtide.cli import app, app_file
from teamtide.serving import (
    ServeRefused,
    authlib_problem,
    is_loopback,
    plan_serve,
    secrets_files,
    sign_in_problems,
)

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

ORG = """\
org:
  teams: [{name: Infra, leads: [Dee Okafor]}]
  people: [{name: Dee Okafor, emails: [dee@acme.example]}]
"""
SIGNED_IN = ORG + "access: {sign_in: true}\n"
NAMED = ORG + "access: {sign_in: true, provider: okta}\n"

SHARED = """\
[auth]
redirect_uri = "https://teamtide.acme.example/oauth2callback"
cookie_secret = "a-long-random-cookie-secret-value"
"""
PROVIDER = """\
client_id = "teamtide"
client_secret = "client-secret-value"
server_metadata_url = "https://idp.acme.example/.well-known/openid-configuration"
"""
COMPLETE = SHARED + PROVIDER


def write_org(tmp_path: Path, text: str = ORG) -> Path:
    path = tmp_path / "teamtide.yaml"
    path.write_text(text + f"database: {{url: 'sqlite:///{tmp_path}/t.db'}}\n")
    return path


def secrets(tmp_path: Path, text: str, name: str = "secrets.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the bind decision ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("dashboard.acme.example", False),
        ("localhost.acme.example", False),
    ],
)
def test_only_loopback_addresses_count_as_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_without_sign_in_loopback_is_served_and_said_so() -> None:
    plan = plan_serve(parse_config(ORG), "127.0.0.1", insecure_no_auth=False, files=[])
    assert not plan.sign_in and not plan.warnings
    assert plan.notes == [
        "Sign-in is off (access.sign_in): serving on 127.0.0.1 only, reachable from this "
        "machine alone."
    ]


def test_without_sign_in_another_address_is_refused() -> None:
    with pytest.raises(ServeRefused, match=r"refusing to serve on 0\.0\.0\.0 without sign-in"):
        plan_serve(parse_config(ORG), "0.0.0.0", insecure_no_auth=False, files=[])


def test_without_sign_in_another_address_with_the_flag_is_served_with_a_warning() -> None:
    plan = plan_serve(parse_config(ORG), "0.0.0.0", insecure_no_auth=True, files=[])
    assert plan.host == "0.0.0.0" and not plan.sign_in and not plan.notes
    (warning,) = plan.warnings
    assert "WITHOUT sign-in" in warning and "--insecure-no-auth" in warning


def test_the_command_refuses_a_non_loopback_bind_without_the_flag(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--config", str(write_org(tmp_path)), "serve", "--host", "0.0.0.0"]
    )
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0 without sign-in" in result.output
    assert "--insecure-no-auth" in result.output and "Dashboard on" not in result.output


# --- sign-in secrets --------------------------------------------------------------------


def test_complete_secrets_have_no_problem(tmp_path: Path) -> None:
    assert sign_in_problems(parse_config(SIGNED_IN), [secrets(tmp_path, COMPLETE)]) == []


def test_no_auth_section_anywhere_names_every_place_streamlit_reads(tmp_path: Path) -> None:
    places = secrets_files(app_file(), cwd=tmp_path / "cwd", home=tmp_path / "home")
    assert places == [
        tmp_path / "home" / ".streamlit" / "secrets.toml",
        tmp_path / "cwd" / ".streamlit" / "secrets.toml",
        ROOT / "dashboard" / ".streamlit" / "secrets.toml",
    ]
    other = secrets(tmp_path, '[connections]\nurl = "x"\n')
    (problem,) = sign_in_problems(parse_config(SIGNED_IN), [*places, other])
    assert "no secrets.toml has an [auth] section" in problem
    assert str(places[0]) in problem and str(places[1]) in problem


@pytest.mark.parametrize(
    ("remove", "expected"),
    [
        ("redirect_uri", "[auth] is missing redirect_uri"),
        ("cookie_secret", "[auth] is missing cookie_secret"),
        ("client_id", "[auth] is missing client_id"),
        ("server_metadata_url", "[auth] is missing server_metadata_url"),
    ],
)
def test_each_missing_key_is_named_with_its_file(
    tmp_path: Path, remove: str, expected: str
) -> None:
    text = "\n".join(line for line in COMPLETE.splitlines() if not line.startswith(remove))
    path = secrets(tmp_path, text)
    (problem,) = sign_in_problems(parse_config(SIGNED_IN), [path])
    assert problem == f"{path}: {expected}"


def test_a_named_provider_needs_its_own_section(tmp_path: Path) -> None:
    path = secrets(tmp_path, SHARED + '[auth.google]\nclient_id = "x"\n')
    (problem,) = sign_in_problems(parse_config(NAMED), [path])
    assert "no [auth.okta] section for access.provider 'okta'" in problem
    assert "[auth.google]" in problem

    path = secrets(tmp_path, SHARED + '[auth.okta]\nclient_id = "x"\n')
    (problem,) = sign_in_problems(parse_config(NAMED), [path])
    assert problem == f"{path}: [auth.okta] is missing client_secret, server_metadata_url"


def test_a_bad_redirect_uri_and_a_short_cookie_secret_are_problems(tmp_path: Path) -> None:
    text = COMPLETE.replace("/oauth2callback", "/").replace(
        "a-long-random-cookie-secret-value", "short"
    )
    problems = sign_in_problems(parse_config(SIGNED_IN), [secrets(tmp_path, text)])
    assert any("must be the dashboard's address ending in /oauth2callback" in p for p in problems)
    assert any("cookie_secret is too short" in p for p in problems)
    assert not any('short"' in p or "'short'" in p for p in problems)  # never the value


def test_the_last_file_with_an_auth_section_is_the_one_used(tmp_path: Path) -> None:
    # Streamlit merges secrets files shallowly: a later [auth] replaces an earlier one whole
    first = secrets(tmp_path, COMPLETE, "first.toml")
    later = secrets(
        tmp_path, '[auth]\nredirect_uri = "https://x.example/oauth2callback"\n', "b.toml"
    )
    problems = sign_in_problems(parse_config(SIGNED_IN), [first, later])
    assert problems == [
        f"{later}: [auth] is missing cookie_secret",
        f"{later}: [auth] is missing client_id, client_secret, server_metadata_url",
    ]
    assert sign_in_problems(parse_config(SIGNED_IN), [later, first]) == []


def test_a_secrets_file_that_is_not_toml_is_named_without_its_contents(tmp_path: Path) -> None:
    path = secrets(tmp_path, COMPLETE + 'client_secret = "leaked-value\n')
    problems = sign_in_problems(parse_config(SIGNED_IN), [path])
    assert problems[0].startswith(f"{path} can't be read as TOML")
    assert not any("leaked-value" in p for p in problems)


def test_sign_in_that_is_not_ready_refuses_to_serve_and_lists_why(tmp_path: Path) -> None:
    path = secrets(tmp_path, "[auth]\n")
    with pytest.raises(ServeRefused) as refused:
        plan_serve(parse_config(SIGNED_IN), "0.0.0.0", insecure_no_auth=False, files=[path])
    message = str(refused.value)
    assert message.startswith("sign-in is not ready")
    assert f"{path}: [auth] is missing redirect_uri, cookie_secret" in message
    # Authlib is a requirement of st.login: named when it is missing, silent when installed
    assert (authlib_problem() is None) == ("Authlib" not in message)


def test_sign_in_that_is_ready_may_bind_any_address(tmp_path: Path) -> None:
    if authlib_problem():
        pytest.skip(authlib_problem())
    cfg: Config = parse_config(SIGNED_IN)
    plan = plan_serve(cfg, "0.0.0.0", insecure_no_auth=True, files=[secrets(tmp_path, COMPLETE)])
    assert plan.sign_in and not plan.warnings
    assert plan.notes[1] == "--insecure-no-auth changes nothing: sign-in is on."


STREAMLIT_CHECK = """\
import json, sys
from streamlit import config
from streamlit.auth_util import validate_auth_credentials
from streamlit.errors import StreamlitAuthError
from streamlit.runtime.secrets import secrets_singleton

verdicts = []
for path, provider in json.loads(sys.argv[1]):
    config.set_option("secrets.files", [path])
    secrets_singleton._reset()
    try:
        validate_auth_credentials(provider or "default")
        verdicts.append(True)
    except StreamlitAuthError:
        verdicts.append(False)
print(json.dumps(verdicts))
"""


def test_the_secrets_check_agrees_with_streamlits_own(tmp_path: Path) -> None:
    # Streamlit validates these keys only when a viewer presses "Sign in"; serve checks
    # them first, and must neither pass what Streamlit rejects nor reject what it accepts
    variants = {
        "complete": (COMPLETE, None),
        "no-auth": ("[connections]\nx = 1\n", None),
        "no-cookie-secret": (COMPLETE.replace("cookie_secret", "cookie_sekret"), None),
        "no-redirect": (COMPLETE.replace("redirect_uri", "redirect_url"), None),
        "no-client-secret": (COMPLETE.replace("client_secret", "client_sekret"), None),
        "named-complete": (SHARED + "[auth.okta]\n" + PROVIDER, "okta"),
        "named-missing": (SHARED + "[auth.google]\nclient_id = 'x'\n", "okta"),
        "named-partial": (SHARED + "[auth.okta]\nclient_id = 'x'\n", "okta"),
    }
    cases = []
    ours = []
    for name, (text, provider) in variants.items():
        path = secrets(tmp_path, text, f"{name}.toml")
        cases.append((str(path), provider))
        org = NAMED if provider else SIGNED_IN
        ours.append(sign_in_problems(parse_config(org), [path]) == [])
    result = subprocess.run(
        [sys.executable, "-c", STREAMLIT_CHECK, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, HOME=str(tmp_path)),
    )
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    assert dict(zip(variants, ours, strict=True)) == dict(zip(variants, theirs, strict=True))
    assert ours == [True, False, False, False, False, True, False, False]


def test_authlib_is_reported_exactly_when_streamlit_cannot_use_it() -> None:
    from streamlit.auth_util import is_authlib_installed

    problem = authlib_problem()
    assert (problem is None) == is_authlib_installed()
    if problem:
        assert 'pip install "streamlit[auth]"' in problem


# --- a real launch ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, from /proc (Linux)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port and len(address) == width:
                found.add(address)
    return found


def start_serve(config: Path, port: int, home: Path) -> subprocess.Popen[str]:
    """`teamtide serve` on `port` as a user starts it, its output on one pipe."""
    env = dict(os.environ, HOME=str(home))  # no stray ~/.streamlit of the machine
    command = [sys.executable, "-m", "teamtide.cli", "--config", str(config)]
    return subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_serve_answers_http_on_loopback_only_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    process = start_serve(write_org(tmp_path), port, tmp_path)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    health = r.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert health == "ok", f"no answer on port {port}; exit code {process.poll()}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert page.status == 200 and "<html" in page.read().decode().lower()
        if Path("/proc/net/tcp").exists():
            assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
    finally:
        process.send_signal(signal.SIGTERM)  # teamtide passes it on to Streamlit
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Sign-in is off (access.sign_in): serving on 127.0.0.1 only" in output
    assert f"Dashboard on http://127.0.0.1:{port}" in output
    # Streamlit stopped with teamtide: nothing listens on the port any more
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


@pytest.mark.slow
def test_a_new_server_warms_the_default_view_before_anyone_visits(
    synced_world: Any, tmp_path: Path
) -> None:
    process = start_serve(synced_world.config_path, free_port(), tmp_path)
    lines: list[str] = []
    warmed = threading.Event()

    def read() -> None:
        for line in process.stdout or []:
            lines.append(line)
            if "warmed the default view in" in line:
                warmed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # nobody opens a page: the server computes the landing page's figures by itself
        assert warmed.wait(timeout=120), "".join(lines)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        reader.join(timeout=5)
    output = "".join(lines)
    assert "not warmed" not in output and "Traceback" not in output, output
    assert "missing ScriptRunContext" not in output
