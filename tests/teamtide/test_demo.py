"""`teamtide demo` (what `make demo` runs): a generated world, synced, served, as of now."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.teamtide.test_serve import free_port


@pytest.mark.slow
def test_demo_serves_a_synced_world_that_is_fresh_now(tmp_path: Path) -> None:
    port, directory = free_port(), tmp_path / "demo"
    started = dt.datetime.now(dt.UTC)
    command = [sys.executable, "-m", "teamtide.cli", "demo", "--scale", "tiny"]
    log = tmp_path / "demo.log"  # a file, not a pipe: the progress display outgrows one
    process = subprocess.Popen(
        [*command, "--port", str(port), "--directory", str(directory)],
        cwd=tmp_path,
        env=dict(os.environ, HOME=str(tmp_path)),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, health = time.monotonic() + 240, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    health = answer.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert health == "ok", f"no dashboard on {port}, exit {process.poll()}: {log.read_text()}"
        with sqlite3.connect(directory / "teamtide.db") as db:
            successes = [row[0] for row in db.execute("SELECT last_success FROM sync_state")]
            items = db.execute("SELECT count(*) FROM work_items").fetchone()[0]
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C stops the dashboard and the sandbox
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = log.read_text()
    # Nothing outlives the demo: its dashboard no longer answers on the port.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and answers(port):
        time.sleep(0.5)
    assert not answers(port), "the demo's dashboard outlived it"
    assert items > 0 and successes and all(successes), output
    # The sandbox's clock was moved to the wall clock's minute before the sync, so the
    # data is as of now: the Data health page and the report do not call it stale.
    last = [dt.datetime.fromisoformat(s).replace(tzinfo=dt.UTC) for s in successes]
    floor = started.replace(second=0, microsecond=0)
    assert all(floor <= moment <= dt.datetime.now(dt.UTC) for moment in last), (last, started)
    assert f"Dashboard on http://127.0.0.1:{port}" in output


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
            return True
    except OSError:
        return False
