"""Bringing a database up to date with the org file: what every writing command does first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from teamtide.config import Config


def prepare_database(cfg: Config) -> tuple[Engine, str]:
    """Migrate the schema and load the org file: idempotent, so every writing command does it."""
    from collectors.org import load_org
    from db.migrate import upgrade
    from db.session import make_engine, session_scope

    engine = make_engine(cfg.database.url)
    before, after = upgrade(engine)
    today = dt.datetime.now(cfg.org.tz).date()
    with session_scope(engine) as session:
        result = load_org(session, cfg, today)
    schema = (
        f"schema upgraded {before or 'empty'} -> {after}"
        if before != after
        else f"schema up to date ({after})"
    )
    org = "org loaded" if result.changed else "org unchanged"
    closed = (
        f", {result.closed_memberships} memberships closed" if result.closed_memberships else ""
    )
    return (
        engine,
        f"{schema}; {org}: {result.teams} teams, {result.people} people, {result.memberships} memberships{closed}",
    )
