"""Cached loading for the dashboard: every figure comes from `metrics/`, read through here.

The engine is a cached resource; frames for a window are cached for a few minutes (as
resources: they are large and read-only, so copying them per rerun would cost more than
the metrics); metric results are cached as data. Pages never compute a metric.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from db import queries
from db.session import make_engine, session_scope
from teamtide.config import Config
from teamtide.configload import load_config

TTL = dt.timedelta(minutes=5)


def config_path() -> Path:
    return Path(os.environ.get("TEAMTIDE_CONFIG", "teamtide.yaml")).resolve()


@st.cache_resource(show_spinner=False)
def settings(path: str) -> Config:
    return load_config(Path(path))


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    # Read-only: the dashboard can never change what the collectors stored.
    return make_engine(url, readonly=True)


@dataclass(frozen=True)
class Context:
    """What every page needs: the org file, the database and the shared filters."""

    config: Config
    config_file: str
    today: dt.date

    @property
    def url(self) -> str:
        return self.config.database.url

    @property
    def teams(self) -> list[str]:
        return self.config.team_names()


def context() -> Context:
    path = str(config_path())
    cfg = settings(path)
    return Context(cfg, path, dt.datetime.now(cfg.org.tz).date())


@st.cache_data(ttl=TTL, show_spinner=False)
def span(url: str) -> tuple[dt.date, dt.date] | None:
    with engine(url).connect() as conn:
        found = queries.data_span(conn)
    return (found[0].date(), found[1].date()) if found else None


@st.cache_resource(ttl=TTL, max_entries=6, show_spinner="Reading the database…")
def frames(url: str, start: dt.date, end: dt.date) -> dict[str, pd.DataFrame]:
    lo = dt.datetime.combine(start, dt.time.min, dt.UTC) - dt.timedelta(days=1)
    hi = dt.datetime.combine(end, dt.time.max, dt.UTC) + dt.timedelta(days=1)
    with engine(url).connect() as conn:
        return queries.metric_frames(conn, lo, hi)


@st.cache_data(ttl=TTL, show_spinner=False)
def health(url: str) -> dict[str, Any]:
    with session_scope(engine(url)) as session:
        states = queries.sync_states(session)
        rejects = queries.recent_rejects(session, limit=200)
        unmapped = queries.unmapped_identities(session)
        kept = queries.reject_counts(session)
        next_run = queries.next_runs(session.connection())
    return {
        "streams": pd.DataFrame(
            [
                {
                    "source": s.source,
                    "stream": s.stream,
                    "partition": s.partition,
                    "last success": s.last_success,
                    "last error": s.last_error,
                    "next run": next_run.get(f"teamtide-{s.source}"),
                    "rows (last run)": s.rows,
                    "rejects (last run)": s.rejects,
                    "rejects kept": kept.get((s.source, s.stream), 0),
                }
                for s in states
            ]
        ),
        "rejects": pd.DataFrame(
            [
                {
                    "at": r.at,
                    "source": r.source,
                    "stream": r.stream,
                    "key": r.key,
                    "reason": r.reason,
                    "excerpt": r.payload,
                }
                for r in rejects
            ]
        ),
        "unmapped": pd.DataFrame(
            [
                {"source": i.source, "account": i.value, "name": i.display_name, "e-mail": i.email}
                for i in unmapped
            ]
        ),
    }
