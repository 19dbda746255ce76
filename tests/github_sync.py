"""Syncing the sandbox's GitHub in tests: the org file for a running sandbox, and one sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine

from collectors.base import NullProgress, StreamResult, run_stream
from collectors.github_source import streams
from collectors.retry import RetryPolicy
from config.schema import Config
from sandbox.server import Sandbox

END = dt.date(2025, 6, 30)
TOKEN_VAR = "TEAMTIDE_TEST_GITHUB_TOKEN"
FAST = RetryPolicy(base_seconds=0.01, cap_seconds=0.05)


def config_for(
    sandbox: Sandbox,
    *,
    api: str = "graphql",
    repos: list[str] | None = None,
    orgs: list[str] | None = None,
    jql: str = "project in (DS, ENG, OPS)",
    **github: Any,
) -> Config:
    return Config.model_validate(
        {
            "sources": {
                "jira": {"url": sandbox.jira_url, "jql": jql},
                "github": {
                    "url": sandbox.github_url,
                    "api": api,
                    "token": "${" + TOKEN_VAR + "}",
                    "repos": repos or [],
                    "orgs": orgs if orgs is not None else ([] if repos else ["acme"]),
                    **github,
                },
            }
        }
    )


def sync(
    engine: Engine, config: Config, progress: Any = None, **options: Any
) -> list[StreamResult]:
    progress = progress or NullProgress()
    options.setdefault("retry", FAST)
    results = []
    for stream in streams(config, engine, progress, **options):
        results.extend(run_stream(engine, stream, progress=progress))
    return results
