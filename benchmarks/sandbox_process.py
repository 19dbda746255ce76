"""A sandbox in a process of its own, for the sync benchmarks: its memory and CPU are not ours.

The child runs a `server` script (each benchmark's own: it generates the world, writes the
facts the benchmark needs as JSON to the path it is given, then serves) with the arguments
seed, scale, end date, port and facts path; the admin API tells when it is up.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A call to the sandbox's `/_sandbox/` admin API (clock, faults, stats)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url}/_sandbox/{path}", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.load(response)


def requests_served(url: str, service: str) -> int:
    return int(admin(url, "stats")["services"].get(service, 0))


def start_sandbox(
    server: str, scale: str, seed: int, end: dt.date
) -> tuple[subprocess.Popen[bytes], str, dict[str, Any]]:
    """Start `server` in a child process; returns it, its URL and the facts it wrote."""
    port = free_port()
    facts_path = Path(tempfile.mkdtemp()) / "facts.json"
    command = [sys.executable, "-c", server, str(seed), scale, end.isoformat(), str(port)]
    proc = subprocess.Popen([*command, str(facts_path)], cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 1800  # generating `large` takes a while
    while True:
        if proc.poll() is not None:
            raise RuntimeError("the sandbox process exited")
        try:
            admin(url, "clock")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    return proc, url, json.loads(facts_path.read_text())
