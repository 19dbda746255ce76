"""Saved what-if scenarios in `scenarios`: save (replacing one of the same name), list, read, delete.

The body is the scenario's JSON (metrics/scenario.py reads it); this module only stores
it, so the database layer needs nothing from the metrics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from db import models


@dataclass(frozen=True)
class SavedScenario:
    name: str
    author: str
    created_at: dt.datetime
    body: dict[str, Any]


def save(engine: Engine, name: str, author: str, body: dict[str, Any], now: dt.datetime) -> None:
    """Store a scenario under `name`; an existing one of that name is replaced."""
    s = models.Scenario
    values = {"author": author, "created_at": now, "body": body}
    with engine.begin() as conn:
        changed = conn.execute(update(s).where(s.name == name).values(**values)).rowcount
        if not changed:
            conn.execute(insert(s).values(name=name, **values))


def _row(row: Any) -> SavedScenario:
    return SavedScenario(row.name, row.author, row.created_at, dict(row.body))


def listing(engine: Engine) -> list[SavedScenario]:
    """Every saved scenario, newest first."""
    s = models.Scenario
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.name, s.author, s.created_at, s.body).order_by(s.created_at.desc(), s.name)
        )
        return [_row(r) for r in rows]


def load(engine: Engine, name: str) -> SavedScenario | None:
    s = models.Scenario
    with engine.connect() as conn:
        row = conn.execute(
            select(s.name, s.author, s.created_at, s.body).where(s.name == name)
        ).first()
    return _row(row) if row else None


def remove(engine: Engine, name: str) -> bool:
    """Delete the scenario named `name`; whether there was one."""
    with engine.begin() as conn:
        return bool(
            conn.execute(delete(models.Scenario).where(models.Scenario.name == name)).rowcount
        )
