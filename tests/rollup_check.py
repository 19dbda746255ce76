"""The rollup path against the full computation, over random windows and teams: shared by
`tests/metrics/test_rollup.py` (tiny, SQLite and PostgreSQL) and the end-to-end test (small)."""

from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy import Engine

from config.schema import Config
from db import queries
from metrics import reading, rollup

WINDOWS = 12  # random windows per check


def assert_same_reports(engine: Engine, config: Config, seed: int) -> int:
    """Compare the two paths over random windows and teams; returns how many compared."""
    rng = random.Random(seed)
    teams = config.team_names()
    with engine.connect() as conn:
        state = rollup.current(conn, config)
        assert state is not None, "the rollups do not describe this org file"
        now = rollup.as_of(state)
        first, last = queries.data_span(conn)
        for _ in range(WINDOWS):
            # from a little before the data to a little after it
            span_days = (last.date() - first.date()).days + 60
            start = first.date() - dt.timedelta(days=30 - rng.randrange(span_days))
            end = start + dt.timedelta(days=rng.randrange(1, 120))
            chosen = rng.choice([None, rng.sample(teams, rng.randrange(1, len(teams) + 1))])
            kept = rollup.summary(conn, config, start, end, chosen)
            fresh = reading.summary(conn, config, start, end, chosen, now)
            assert json.dumps(rounded(kept), sort_keys=True) == json.dumps(
                rounded(fresh), sort_keys=True
            ), f"window {start}..{end}, teams {chosen}: {first_difference(kept, fresh)}"
    return WINDOWS


def rounded(value: object) -> object:
    """Floats to 12 significant digits: a week's sum can differ in its last bit when the
    refresh that computed it started on another week (the order of the additions)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def first_difference(a: object, b: object, path: str = "") -> str | None:
    """Where two JSON values first differ, for the failure message."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: rollups {a!r:.200}, facts {b!r:.200}"
