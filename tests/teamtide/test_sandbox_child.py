"""`teamtide sandbox serve` runs the sandbox as a child process that never outlives it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sandbox.test_cli import running, wait_gone

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "teamtide.cli", "sandbox", "serve", "--scale", "tiny"]
SERVE += ["--end", "2025-06-30", "--port", "0", "--no-prometheus"]


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(p) for p in found]


def started(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    """`teamtide sandbox serve` once it serves, and the pid of its sandbox child."""
    log = tmp_path / "serve.log"
    parent = subprocess.Popen(SERVE, cwd=ROOT, stderr=log.open("w"), text=True)
    deadline = time.monotonic() + 120
    while "Serving" not in log.read_text():
        assert parent.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    (child,) = children(parent.pid)
    return parent, child


def test_sigterm_stops_the_sandbox_and_its_exit_code_comes_back(tmp_path: Path) -> None:
    parent, child = started(tmp_path)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=60) == 0
    assert not running(child)


def test_a_killed_teamtide_leaves_no_sandbox_behind(tmp_path: Path) -> None:
    parent, child = started(tmp_path)
    parent.kill()  # no clean-up of ours runs: the sandbox notices its parent is gone
    parent.wait()
    assert wait_gone(child, 30), f"the sandbox {child} outlived teamtide"
