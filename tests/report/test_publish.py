"""A week's report is stored once, records who has it, and is frozen once sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from db import ledger, queries
from report import weekly


def test_a_report_is_stored_once_per_week_and_records_who_has_it(engine: Engine) -> None:
    from config.schema import Config

    config = Config(report={"recipients": ["a@x.example"]})
    now = dt.datetime(2025, 6, 30, 8, 0, tzinfo=dt.UTC)
    monday = dt.date(2025, 6, 23)
    rendered, fresh = weekly.publish(engine, config, monday, now, images=False)
    assert fresh and rendered.period == "2025-W26"
    assert 3 <= len(rendered.headlines) <= 5  # an empty database still makes a report
    again, fresh = weekly.publish(engine, config, monday, now, images=False)
    assert fresh  # not sent to anyone yet: computed anew, and stored over the first
    ledger.ensure_rows(engine, "2025-W26", ["a@x.example"])
    ledger.claim(engine, "2025-W26", "a@x.example")
    ledger.settle(engine, "2025-W26", "a@x.example", None)
    with engine.connect() as conn:
        stored = queries.stored_report(conn, "2025-W26")
        listed = queries.report_list(conn)
    assert stored is not None and stored.delivered_to == ["a@x.example"]
    assert stored.summary == again.figures and stored.body == again.markdown
    assert [r["period"] for r in listed] == ["2025-W26"]
    # once sent it is frozen: the stored figures come back, not new ones
    later, fresh = weekly.publish(engine, config, monday, now + dt.timedelta(days=1), images=False)
    assert not fresh and later.figures == again.figures
