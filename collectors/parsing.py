"""What every source's parser shares: the error that sends a record to `sync_rejects`, and times."""

from __future__ import annotations

import datetime as dt
from typing import Any


class ParseError(ValueError):
    """A record that cannot become rows; the message is the reason kept in `sync_rejects`."""


def parse_time(value: Any, what: str = "timestamp") -> dt.datetime:
    """An ISO 8601 / RFC 3339 time with its offset (Jira's `+0100`, GitHub's and Kubernetes' `Z`) as UTC."""
    if not isinstance(value, str):
        raise ParseError(f"{what} is missing or not text: {value!r:.80}")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ParseError(f"{what} is not a timestamp: {value!r:.80}") from None
    if moment.tzinfo is None:
        raise ParseError(f"{what} has no UTC offset: {value!r}")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise ParseError(f"{what} is out of range in UTC: {value!r}") from None


def optional_time(value: Any, what: str = "timestamp") -> dt.datetime | None:
    """`parse_time`, with a missing or empty value meaning "not yet" (a pull request never merged)."""
    return None if value is None or value == "" else parse_time(value, what)
