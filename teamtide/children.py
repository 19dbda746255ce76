"""Child processes the command line starts (Streamlit, the sandbox): none outlives us.

A child is stopped on every way out of the command that started it (SIGTERM, then
SIGKILL after a grace period), and on Linux also when teamtide itself is killed
(PR_SET_PDEATHSIG). Signals a service manager or a terminal sends to teamtide are
passed on while it waits.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
from collections.abc import Iterable, Iterator
from typing import Any

PR_SET_PDEATHSIG = 1
# Looked up here, not in the forked child, where loading a library could deadlock on a
# lock another thread of ours held at the fork.
try:
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def _die_with_parent() -> None:
    """Run in the child before it starts: ask Linux to SIGTERM it when its parent dies."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(command: list[str], **popen: Any) -> subprocess.Popen[Any]:
    return subprocess.Popen(command, preexec_fn=_die_with_parent, **popen)


def stop(child: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM a child that is still running, then SIGKILL after `grace` seconds."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


@contextlib.contextmanager
def forwarding(child: subprocess.Popen[Any], signals: Iterable[int]) -> Iterator[None]:
    """Pass these signals on to `child` while the block runs (main thread only: elsewhere,
    as in an embedding caller, nothing is installed)."""

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    previous: dict[int, Any] = {}
    try:
        for signum in signals:
            previous[signum] = signal.signal(signum, forward)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait(child: subprocess.Popen[Any], signals: Iterable[int], grace: float) -> int:
    """Wait for `child`, passing `signals` on; stop it however the wait ends."""
    try:
        with forwarding(child, signals):
            return child.wait()
    finally:
        stop(child, grace)


def exit_code(returncode: int) -> int:
    """A child's exit code as a shell reports it: 128 + N when signal N ended it."""
    return returncode if returncode >= 0 else 128 - returncode
