"""The scheduler's report job: it runs on its trigger, and its reruns send nothing twice."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from db import models
from db.session import make_engine
from teamtide import scheduler

pytestmark = pytest.mark.slow


def test_the_weekly_job_delivers_on_schedule_and_its_reruns_send_nothing(
    report_world, smtp, webhook, monkeypatch
) -> None:
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)
    fast = {"every_minutes": 0.05}  # every 3 s instead of Monday 08:00
    path, config = report_world.write_config(
        smtp,
        webhook,
        schedule={
            "jira": {"enabled": False},
            "github": {"enabled": False},
            "cluster": {"enabled": False},
            "report": fast,
        },
    )
    assert list(scheduler.jobs(config)) == ["report", "report-retry"]  # and its hourly retry
    engine = make_engine(config.database.url)
    sched = scheduler.build(config, path, engine)
    sched.resume()
    try:
        deadline = time.monotonic() + 240
        runs: list[models.JobRun] = []
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                runs = list(
                    conn.execute(
                        select(models.JobRun.outcome, models.JobRun.detail)
                        .where(
                            models.JobRun.job == "report", models.JobRun.finished_at.is_not(None)
                        )
                        .order_by(models.JobRun.id)
                    )
                )
            if len(runs) >= 3:
                break
            time.sleep(0.5)
    finally:
        sched.shutdown(wait=True)
        engine.dispose()
    assert len(runs) >= 3, runs
    assert [r.outcome for r in runs] == ["ok"] * len(runs), runs
    assert runs[0].detail.endswith(": 3 sent"), runs[0]  # two e-mails and the webhook
    assert all("3 already sent" in r.detail for r in runs[1:]), runs
    # three runs, one message per recipient and one webhook post
    assert sorted(a for r in smtp.box.messages for a in r.envelope_to) == sorted(
        config.report.recipients
    )
    assert len(webhook.posts) == 1
