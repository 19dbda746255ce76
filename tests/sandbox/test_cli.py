"""`python -m sandbox`: the sandbox's own program, as `teamtide sandbox` and `teamtide demo` run it."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from github import Auth, Github

from sandbox.world.generate import generate
from sandbox.world.truth import truth_report

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SANDBOX = [sys.executable, "-m", "sandbox"]
END = "2025-06-30"


def running(pid: int) -> bool:
    """Whether process `pid` runs (a zombie nobody has reaped yet has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_truth_prints_the_planted_report() -> None:
    done = subprocess.run(
        [*SANDBOX, "truth", "--scale", "tiny", "--end", END],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = truth_report(generate(1, "tiny", dt.date.fromisoformat(END)))
    assert json.loads(done.stdout) == json.loads(json.dumps(expected, default=str))


def test_usage_lines_carry_the_name_a_supervisor_gives() -> None:
    done = subprocess.run(
        [*SANDBOX, "serve", "--no-such-option"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ, SANDBOX_PROG_NAME="teamtide sandbox"),
    )
    assert done.returncode == 2
    assert "Usage: teamtide sandbox serve [OPTIONS]" in done.stderr


def test_serve_tells_a_supervisor_where_it_is_and_stops_on_sigterm(tmp_path: Path) -> None:
    org, ready = tmp_path / "teamtide.yaml", tmp_path / "ready.json"
    command = [
        *SANDBOX,
        "serve",
        "--scale",
        "tiny",
        "--end",
        END,
        "--port",
        "0",
        "--no-prometheus",
        "--write-config",
        str(org),
        "--person-level",
        "--ready-file",
        str(ready),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.exists(), process.stderr.read() if process.poll() is not None else "no file"
        facts = json.loads(ready.read_text())
        assert facts["jira"] == f"{facts['url']}/jira" and facts["org_file"] == str(org)
        assert facts["clock"] == f"{END}T00:00:00+00:00" and facts["prometheus"] is None
        document = yaml.safe_load(org.read_text())
        assert document["access"] == {"person_level": True}
        assert document["sources"]["jira"]["url"] == facts["jira"]
        with urllib.request.urlopen(f"{facts['url']}/_sandbox/clock", timeout=10) as answer:
            assert json.load(answer)["clock"] == facts["clock"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    said = process.stderr.read()
    # the supervisor speaks for itself: neither the org-file line nor "Serving"
    assert "sandbox tiny world" in said and "Serving" not in said and "org file" not in said


def test_the_sandbox_stops_when_its_supervisor_dies(tmp_path: Path) -> None:
    """A supervisor killed outright (no clean-up runs) leaves no sandbox behind."""
    pid_file = tmp_path / "sandbox.pid"
    supervisor = (
        "import os, subprocess, sys, time\n"
        f"command = {[*SANDBOX, 'serve', '--scale', 'tiny', '--end', END, '--port', '0', '--no-prometheus']!r}\n"
        "env = dict(os.environ, SANDBOX_PARENT_PID=str(os.getpid()))\n"
        "child = subprocess.Popen(command, env=env, process_group=0)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", supervisor], cwd=ROOT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        child = int(pid_file.read_text())
        time.sleep(1)  # into generating or serving: either way it must stop
    finally:
        parent.kill()
        parent.wait()
    assert wait_gone(child, 60), f"the sandbox {child} outlived its supervisor"


def test_serve_writes_an_org_file_that_signs_in_as_the_github_app(tmp_path: Path) -> None:
    org, ready = tmp_path / "teamtide.yaml", tmp_path / "ready.json"
    command = [
        *SANDBOX,
        "serve",
        "--scale",
        "tiny",
        "--end",
        END,
        "--port",
        "0",
        "--no-prometheus",
        "--write-config",
        str(org),
        "--github-app",
        "--github-graphql-rate-limit",
        "7",
        "--github-app-rate-limit",
        "9000",
        "--ready-file",
        str(ready),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.exists(), process.stderr.read() if process.poll() is not None else "no file"
        facts = json.loads(ready.read_text())
        github = yaml.safe_load(org.read_text())["sources"]["github"]
        assert "token" not in github and facts["github_app"] == {
            "app_id": github["app_id"],
            "installation_id": github["installation_id"],
            "private_key": str(tmp_path / "teamtide.github-app.pem"),
        }
        key_file = Path(github["private_key"])
        assert key_file.stat().st_mode & 0o777 == 0o600
        auth = Auth.AppAuth(github["app_id"], key_file.read_text())
        installation = auth.get_installation_auth(github["installation_id"])
        gh = Github(base_url=facts["github"], auth=installation, retry=None)
        _, data = gh.requester.graphql_query("{ rateLimit { limit } }", {})
        assert data == {"data": {"rateLimit": {"limit": 9000}}}
        personal = Github(base_url=facts["github"], auth=Auth.Token("github-token"), retry=None)
        _, data = personal.requester.graphql_query("{ rateLimit { limit } }", {})
        assert data == {"data": {"rateLimit": {"limit": 7}}}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
