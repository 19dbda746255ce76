"""Retries with exponential backoff and full jitter, honouring a server's Retry-After.

The client libraries retry some failures themselves; this wraps one whole page fetch
so that a 429, a 5xx burst or a time-out costs a wait, not the sync.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import requests

T = TypeVar("T")

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """A source's answer other than success, with what retries need and nothing secret."""

    def __init__(
        self, status: int | None, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 60.0
    max_retry_after: float = 900.0  # waits longer than this fail instead of blocking a sync

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind a client library's exception, whichever library raised it."""
    for name in ("status_code", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def retry_after_of(exc: BaseException) -> float | None:
    headers = (
        getattr(exc, "headers", None)
        or getattr(getattr(exc, "response", None), "headers", None)
        or {}
    )
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def is_transient(exc: BaseException) -> bool:
    if isinstance(
        exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError | TimeoutError
    ):
        return True
    status = status_of(exc)
    return status in RETRY_STATUSES


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy = RetryPolicy(),
    on_wait: Callable[[float, BaseException], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call `fn`, retrying transient failures; the last failure is raised as it was."""
    rng = rng or random.Random()
    for attempt in range(policy.attempts):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc) or attempt == policy.attempts - 1:
                raise
            wait = retry_after_of(exc)
            if wait is None:
                wait = policy.backoff(attempt, rng)
            elif wait > policy.max_retry_after:
                raise
            if on_wait:
                on_wait(wait, exc)
            sleep(wait)
    raise AssertionError("unreachable")


class Retrying:
    """Calls to one service under one retry policy, each wait said out loud before it starts.

    `say` is where the waits are said (the progress display's `note`); the log without it.
    """

    def __init__(
        self,
        service: str,
        policy: RetryPolicy = RetryPolicy(),
        say: Callable[[str], None] | None = None,
        *,
        what: str = "request",
    ) -> None:
        self.service, self.policy, self.what = service, policy, what
        self.say: Callable[[str], None] = say or log.info

    def __call__(self, fn: Callable[[], T]) -> T:
        return call_with_retries(fn, policy=self.policy, on_wait=self.waiting)

    def waiting(self, seconds: float, exc: BaseException) -> None:
        message = self.message(seconds, exc)
        if message is not None:
            self.say(message)

    def message(self, seconds: float, exc: BaseException) -> str | None:
        """What to say before waiting `seconds` after `exc`; None says nothing."""
        status = status_of(exc)
        cause = f"HTTP {status}" if status else type(exc).__name__
        if retry_after_of(exc) is not None:
            return f"{self.service} asked to wait ({cause}, Retry-After): waiting {seconds:.0f}s"
        return f"{self.service} {self.what} failed ({cause}); retrying in {seconds:.1f}s"
