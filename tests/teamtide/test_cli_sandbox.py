"""`teamtide sandbox serve --write-config`, then `sync` and `metrics` on that file, as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.world.generate import generate
from sandbox.world.truth import truth_report

pytestmark = pytest.mark.slow
TEAMTIDE = [sys.executable, "-m", "teamtide.cli"]
END = "2025-06-30"
WIDE = dict(os.environ, COLUMNS="200")  # rich tables keep whole words


def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TEAMTIDE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=WIDE,
    )


def test_sandbox_truth_prints_the_planted_report_as_json() -> None:
    done = run("sandbox", "truth", "--scale", "tiny", "--end", END)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    expected = json.loads(
        json.dumps(truth_report(generate(1, "tiny", dt.date.fromisoformat(END))), default=str)
    )
    assert printed == expected and printed["teams"]


def test_a_malformed_fault_flag_names_the_expected_form() -> None:
    done = run("sandbox", "serve", "--scale", "tiny", "--fault", "jira-errors")
    assert done.returncode == 2
    assert "SERVICE:KEY=VALUE" in done.stderr


def test_served_world_syncs_and_reports_through_the_written_org_file(tmp_path: Path) -> None:
    org = tmp_path / "teamtide.yaml"
    server = subprocess.Popen(
        [
            *TEAMTIDE,
            "sandbox",
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
            "--database-url",
            f"sqlite:///{tmp_path / 'teamtide.db'}",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=WIDE,
    )
    try:
        said = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = server.stderr.readline()
            said.append(line)
            if "Serving" in line or not line:
                break
        assert org.exists(), "".join(said)
        synced = run("--config", str(org), "sync")
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert "issues" in synced.stdout and "pull_requests" in synced.stdout
        report = run("--config", str(org), "metrics", "--from", "2025-04-07", "--to", "2025-06-29")
        assert report.returncode == 0, report.stderr
        figures = json.loads(report.stdout)
        assert (figures["from"], figures["to"]) == ("2025-04-07", "2025-06-29")
        infra = next(t for t in figures["teams"] if t["team"] == "Infra")
        assert infra["turnaround"]["cycle_time_hours"]["n"] > 0
        assert sum(infra["allocation"]["share"].values()) == pytest.approx(1.0)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
