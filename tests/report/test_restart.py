"""A sender killed mid-delivery, then run again: nobody gets the report twice; `--force` resends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from db import queries
from db.session import make_engine
from tests.report.helpers import WEEK

pytestmark = pytest.mark.slow

TEAMTIDE = [sys.executable, "-m", "teamtide.cli"]
RECIPIENTS = ["a@acme.example", "b@acme.example", "c@acme.example"]


def _teamtide(path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*TEAMTIDE, "--config", str(path), "report", "--week", WEEK, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env=dict(os.environ),
    )


def test_a_sender_killed_after_some_recipients_does_not_duplicate_on_restart(
    report_world, smtp
) -> None:
    path, _ = report_world.write_config(smtp, recipients=RECIPIENTS)
    proc: list[subprocess.Popen] = []

    def kill_on_second(count: int) -> None:
        # the server has the second message; its sender dies before hearing "250 OK"
        if count == 2:
            os.kill(proc[0].pid, signal.SIGKILL)

    smtp.box.on_message = kill_on_second
    proc.append(_teamtide(path, "--send"))
    proc[0].communicate(timeout=300)
    assert proc[0].returncode == -signal.SIGKILL
    smtp.box.on_message = None
    assert [r.envelope_to for r in smtp.box.messages] == [[RECIPIENTS[0]], [RECIPIENTS[1]]]

    # no waiting for the dead sender's lease to run out: its process is gone, so it is taken over
    again = _teamtide(path, "--send")
    output, _ = again.communicate(timeout=300)
    # the one in doubt is reported (exit 1) and left for a person to judge, not resent
    assert again.returncode == 1, output
    assert "in doubt" in output
    received = [a for r in smtp.box.messages for a in r.envelope_to]
    assert sorted(received) == sorted(RECIPIENTS)  # each exactly once

    engine = make_engine(report_world.db_url)
    with engine.connect() as conn:
        ledger = {r["recipient"]: r["status"] for r in queries.report_deliveries(conn, WEEK)}
    engine.dispose()
    assert ledger == {RECIPIENTS[0]: "sent", RECIPIENTS[1]: "sending", RECIPIENTS[2]: "sent"}

    # a third run sends nothing new; --force sends everyone a fresh copy on purpose
    third = _teamtide(path, "--send")
    third.communicate(timeout=300)
    assert len(smtp.box.messages) == 3
    forced = _teamtide(path, "--send", "--force")
    output, _ = forced.communicate(timeout=300)
    assert forced.returncode == 0, output
    received = [a for r in smtp.box.messages for a in r.envelope_to]
    assert sorted(received) == sorted(RECIPIENTS * 2)
