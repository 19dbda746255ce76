"""Constants and small helpers the report tests share."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from config.schema import Config
from db.session import make_engine
from report import weekly, weeks

WEEK = "2025-W26"  # the last complete week of the tiny world (its clock: Monday 2025-06-30)
NOW = dt.datetime(2025, 6, 30, 8, 0, tzinfo=dt.UTC)  # the scheduler's Monday 08:00 run
SMTP_USER, SMTP_PASSWORD = "teamtide-bot", "s3cret-smtp-pass"
WEBHOOK_PATH = "/hooks/T000/B000/very-secret-token"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def html_part(message: EmailMessage) -> EmailMessage:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the message has no HTML part"
    return part  # type: ignore[return-value]


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no plain-text part"
    return part.get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def week_figures(config: Config, week: str = WEEK) -> dict[str, Any]:
    """The report's figures (with headlines) for `week`, as of NOW, from the org file's database."""
    engine = make_engine(config.database.url, readonly=True)
    try:
        with engine.connect() as conn:
            return weekly.build(conn, config, weeks.parse_week(week), NOW)
    finally:
        engine.dispose()
