"""The sandbox server: every fake service under one root, the admin knobs, start-up and the foreground mode."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import json
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.http import SandboxState
from sandbox.server import Sandbox, build_app
from sandbox.world.generate import generate
from tests.sandbox.jira.worlds import BOT_EMAIL, small_world

JIRA_AUTH = (BOT_EMAIL, "jira-token")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(small_world()) as running:
        yield running


def admin(
    sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/_sandbox{path}", json=body, timeout=10)


def jira_get(sandbox: Sandbox, path: str) -> requests.Response:
    return requests.get(f"{sandbox.jira_url}{path}", auth=JIRA_AUTH, timeout=10)


def test_one_root_serves_jira_and_github(sandbox: Sandbox) -> None:
    assert (
        sandbox.jira_url == f"{sandbox.url}/jira" and sandbox.github_url == f"{sandbox.url}/github"
    )
    assert sandbox.url.startswith("http://127.0.0.1:")
    assert jira_get(sandbox, "/rest/api/2/serverInfo").json()["deploymentType"] == "Cloud"
    github = requests.get(
        f"{sandbox.github_url}/user", headers={"Authorization": "token github-token"}, timeout=10
    )
    assert github.status_code == 200 and github.json()["login"] == sandbox.state.world.bot_account


def test_server_mode_reports_a_jira_server(sandbox: Sandbox) -> None:
    with Sandbox(small_world(), jira_cloud=False) as server:
        info = jira_get(server, "/rest/api/2/serverInfo").json()
    assert info["deploymentType"] == "Server" and info["versionNumbers"][0] < 1000


def test_clock_moves_forward_only_and_within_the_generated_world(sandbox: Sandbox) -> None:
    world = sandbox.state.world
    start = world.clock
    assert admin(sandbox, "GET", "/clock").json()["clock"] == start.isoformat()

    moved = admin(sandbox, "POST", "/clock", {"hours": 2}).json()
    assert dt.datetime.fromisoformat(moved["clock"]) == start + dt.timedelta(hours=2) == world.clock

    target = start + dt.timedelta(days=3)
    assert (
        admin(
            sandbox, "POST", "/clock", {"to": target.isoformat().replace("+00:00", "Z")}
        ).status_code
        == 200
    )
    assert world.clock == target
    assert admin(sandbox, "POST", "/clock", {"to": start.isoformat()}).status_code == 400
    assert (
        admin(
            sandbox, "POST", "/clock", {"to": (world.end + dt.timedelta(days=1)).isoformat()}
        ).status_code
        == 400
    )
    assert admin(sandbox, "POST", "/clock", {}).status_code == 400
    assert world.clock == target

    sandbox.advance(dt.timedelta(hours=1))
    assert world.clock == target + dt.timedelta(hours=1)


def test_faults_set_over_http_reach_the_service_until_cleared(sandbox: Sandbox) -> None:
    answer = admin(
        sandbox, "POST", "/faults", {"service": "jira", "error_burst": 1, "error_status": 500}
    )
    assert answer.status_code == 200 and answer.json()["faults"]["jira"]["error_burst"] == 1
    failed = jira_get(sandbox, "/rest/api/2/serverInfo")
    assert failed.status_code == 500 and failed.json()["errorMessages"]
    assert jira_get(sandbox, "/rest/api/2/serverInfo").status_code == 200

    assert (
        admin(sandbox, "POST", "/faults", {"service": "jira", "rate_limit_every": 1}).status_code
        == 200
    )
    limited = jira_get(sandbox, "/rest/api/2/serverInfo")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert admin(sandbox, "DELETE", "/faults").json() == {"faults": {}}
    assert jira_get(sandbox, "/rest/api/2/serverInfo").status_code == 200

    assert (
        admin(sandbox, "POST", "/faults", {"service": "jira", "no_such_knob": 1}).status_code == 400
    )
    assert admin(sandbox, "POST", "/faults", {"error_burst": 1}).status_code == 400


def test_an_echo_fault_quotes_the_request_back_with_its_credentials(sandbox: Sandbox) -> None:
    """As a careless server or proxy does: what the redaction tests plant secrets with."""
    basic = "Basic " + base64.b64encode(f"{BOT_EMAIL}:jira-token".encode()).decode()
    sandbox.set_faults("jira", echo_status=401)
    refused = jira_get(sandbox, "/rest/api/2/serverInfo?expand=all")
    assert refused.status_code == 401
    [said] = refused.json()["errorMessages"]
    assert f"Authorization: {basic}" in said and "/rest/api/2/serverInfo?expand=all" in said

    # GitHub's own error shape carries it, on the paths asked for only
    sandbox.set_faults("github", echo_status=500, echo_path="/reviews")
    github = {"Authorization": "token github-token"}
    assert requests.get(f"{sandbox.github_url}/user", headers=github, timeout=10).ok
    failed = requests.get(
        f"{sandbox.github_url}/repos/acme/x/pulls/1/reviews?per_page=5", headers=github, timeout=10
    )
    assert failed.status_code == 500 and failed.json()["documentation_url"]
    assert "Authorization: token github-token" in failed.json()["message"]
    assert "/reviews?per_page=5" in failed.json()["message"]

    # a proxy's pages: the URL with the credentials as userinfo; a link with them encoded
    sandbox.set_faults("jira", echo_status=502, echo_format="proxy")
    page = jira_get(sandbox, "/rest/api/2/myself")
    assert page.status_code == 502 and page.headers["content-type"].startswith("text/html")
    assert len(page.text.splitlines()) == 1
    userinfo = f"{urllib.parse.quote(BOT_EMAIL, safe='')}:jira-token@127.0.0.1"
    assert f"GET http://{userinfo}:{sandbox.server.port}/jira/rest/api/2/myself" in page.text
    assert f"Authorization: {basic}" in page.text
    sandbox.set_faults("jira", echo_format="login")
    page = jira_get(sandbox, "/rest/api/2/myself?x=1")
    link = html.unescape(page.text)
    assert page.status_code == 502 and len(page.text.splitlines()) == 1
    assert f"authorization={urllib.parse.quote(basic, safe='')}&next=http%3A%2F%2F" in link
    assert urllib.parse.quote("/jira/rest/api/2/myself?x=1", safe="") in link

    assert (
        admin(sandbox, "POST", "/faults", {"service": "jira", "echo_format": "xml"}).status_code
        == 400
    )
    sandbox.clear_faults()
    assert jira_get(sandbox, "/rest/api/2/myself").status_code == 200


def test_stats_count_requests_per_service_and_path_until_reset(sandbox: Sandbox) -> None:
    admin(sandbox, "POST", "/stats/reset")
    for _ in range(2):
        jira_get(sandbox, "/rest/api/2/serverInfo")
    jira_get(sandbox, "/rest/api/3/myself")
    requests.get(
        f"{sandbox.github_url}/user", headers={"Authorization": "token github-token"}, timeout=10
    )

    stats = admin(sandbox, "GET", "/stats").json()
    assert stats["services"] == {"jira": 3, "github": 1}
    assert stats["paths"]["jira"] == {
        "/jira/rest/api/2/serverInfo": 2,
        "/jira/rest/api/3/myself": 1,
    }
    assert sandbox.stats() == stats
    assert admin(sandbox, "POST", "/stats/reset").json() == {"services": {}, "paths": {}}


def call_asgi(app: Any, method: str, path: str, client: tuple[str, int]) -> int:
    """One request straight into the ASGI app, as if it came from `client`; returns the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"sandbox")],
        "client": client,
        "server": ("10.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_admin_routes_answer_only_loopback_callers() -> None:
    app = build_app(SandboxState(world=small_world()))
    assert call_asgi(app, "GET", "/_sandbox/clock", ("127.0.0.1", 40000)) == 200
    assert call_asgi(app, "GET", "/_sandbox/clock", ("192.0.2.7", 40000)) == 403
    assert call_asgi(app, "DELETE", "/_sandbox/faults", ("192.0.2.7", 40000)) == 403


def test_a_generated_tiny_world_answers_once_started() -> None:
    """`Sandbox` returns only when it answers (its start-up time: benchmarks sandbox_start)."""
    world = generate(1, "tiny", end=dt.date(2025, 6, 30))
    with Sandbox(world) as running:
        info = requests.get(
            f"{running.jira_url}/rest/api/2/serverInfo",
            auth=(world.bot_email, "jira-token"),
            timeout=10,
        )
    assert info.status_code == 200
    assert info.json()["deploymentType"] == "Cloud"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_runs_in_the_foreground_and_prints_its_urls() -> None:
    port = free_port()
    script = f"from sandbox.server import serve\nfrom tests.sandbox.jira.worlds import small_world\nserve(small_world(), port={port}, jira_cloud=False)\n"
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        while not any("admin" in line for line in lines):
            line = process.stdout.readline()
            assert line, f"serve exited early: {''.join(lines)}"
            lines.append(line)
        printed = "".join(lines)
        assert (
            f"http://127.0.0.1:{port}/jira" in printed
            and f"http://127.0.0.1:{port}/github" in printed
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                clock = requests.get(f"http://127.0.0.1:{port}/_sandbox/clock", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "serve printed its URLs but does not answer"
                time.sleep(0.05)
        assert json.loads(clock.text)["clock"] == small_world().clock.isoformat()
        info = requests.get(
            f"http://127.0.0.1:{port}/jira/rest/api/2/serverInfo", auth=JIRA_AUTH, timeout=5
        ).json()
        assert info["deploymentType"] == "Server"
    finally:
        process.terminate()
        process.wait(timeout=10)
