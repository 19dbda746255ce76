"""Identifiers and formats GitHub uses: timestamps to the second, stable ids, node ids, SHAs, error bodies."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from typing import Any

SERVICE = "github"
DOCS = "https://docs.github.com/rest"
PRIMARY_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
ANONYMOUS_LIMIT = 60
JSON_TYPE = "application/json; charset=utf-8"
LONG_RUNNING = dt.timedelta(days=30)
Json = dict[str, Any]


def iso_time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_second(moment: dt.datetime) -> dt.datetime:
    """Timestamps are served to the second; `since` compares against what was served."""
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def stable_id(*parts: object) -> int:
    """A positive id below 2**47 derived from names, the same in every run."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big") // 2 + 1


def fake_sha(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


def node_id(kind: str, ident: int) -> str:
    """GitHub's legacy global node id: base64 of `0<len>:<Type><id>`."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def user_id(login: str) -> int:
    return 100_000 + stable_id("user", login.lower()) % 99_900_000


def error_json(status: int, message: str, docs: str = DOCS, **extra: Any) -> Json:
    return {"message": message, **extra, "documentation_url": docs, "status": str(status)}


def request_id() -> str:
    return ":".join(secrets.token_hex(n).upper() for n in (2, 3, 3, 3, 4))
