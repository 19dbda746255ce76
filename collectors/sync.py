"""Which streams a sync runs, in what order, and their summary: the one list of sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from collectors import cluster, github_source, jira
from collectors.base import (
    NullProgress,
    Progress,
    Source,
    Stream,
    StreamResult,
    describe_error,
    run_stream,
)
from config import redaction
from config.schema import Config
from db.sync import record_source_start

# The sources in the order a sync runs them: Jira first, so that GitHub can link pull
# requests to the work-item keys it now knows.
SOURCES: tuple[Source, ...] = (jira.SOURCE, github_source.SOURCE, cluster.SOURCE)


@dataclass
class SourceOutcome:
    source: str
    results: list[StreamResult]
    error: str | None = None  # the source could not even start (bad URL, auth, missing env var)

    @property
    def failed(self) -> bool:
        return self.error is not None or any(r.error for r in self.results)


def configured_sources(config: Config) -> list[str]:
    return [source.name for source in SOURCES if source.configured(config)]


def sync(
    engine: Engine,
    config: Config,
    *,
    only: Sequence[str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    should_stop: Callable[[], bool] = lambda: False,
) -> list[SourceOutcome]:
    """Run every configured source (or `only` these); one failing source never stops the others.

    The org file's secrets join the process's redactor first: whatever a source answers is
    masked where it is stored (`db.sync`), logged or printed.
    """
    progress = progress or NullProgress()
    redaction.register_config(config)
    wanted = list(only) if only else configured_sources(config)
    outcomes: list[SourceOutcome] = []
    for source in SOURCES:
        name = source.name
        if name not in wanted:
            continue
        outcome = SourceOutcome(name, [])
        outcomes.append(outcome)
        if not source.configured(config):
            outcome.error = f"sources.{name} is not configured in the org file"
            continue
        try:
            clock = {"clock": now} if source.clocked else {}
            streams: list[Stream] = source.streams(config, engine, progress, **clock)
        except Exception as exc:
            outcome.error = describe_error(exc)
            record_source_start(engine, name, outcome.error, now())
            continue
        record_source_start(engine, name, None, now())
        for stream in streams:
            if should_stop():
                break
            outcome.results.extend(
                run_stream(
                    engine,
                    stream,
                    full=full,
                    progress=progress,
                    now=now,
                    should_stop=should_stop,
                )
            )
    return outcomes
