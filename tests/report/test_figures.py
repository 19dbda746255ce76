"""Reading the figures: the streak of a load state; GPU waits the cluster's history cannot know."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from db import models
from db.cluster_queries import cluster_history
from db.session import make_engine
from metrics.weeks import monday
from report import content, figures
from tests.report.helpers import week_figures


def test_streak_counts_the_weeks_in_a_row_ending_with_the_last() -> None:
    # ... normal, flood, flood, flood: the 3rd week of a flood
    assert figures.weeks_running(["normal", "flood", "flood", "flood"]) == 3
    assert figures.weeks_running(["flood", "normal"]) == 1
    assert figures.weeks_running([None, None]) == 0
    assert figures.weeks_running([]) == 0


def test_gpu_waits_before_the_clusters_history_are_not_known_not_zero(report_world) -> None:
    _, config = report_world.write_config()
    # the cluster's history starts after Wednesday 2025-06-11: earlier samples gone
    cut = dt.datetime(2025, 6, 11, 12, tzinfo=dt.UTC)
    engine = make_engine(config.database.url)
    with engine.begin() as conn:
        conn.execute(delete(models.ClusterSample).where(models.ClusterSample.at < cut))
        first = cluster_history(conn)["first_sample"]
    engine.dispose()
    assert first is not None and first >= cut
    day = first.astimezone(config.org.tz).date()
    began = monday(day)
    assert began < dt.date(2025, 6, 23), "no week of history before the report's week"

    week_before = (began - dt.timedelta(weeks=1)).isocalendar()
    before = week_figures(config, f"{week_before.year}-W{week_before.week:02d}")
    for team in [*before["teams"], before["org"]]:
        assert team["gpu_pending_hours"] is None, team["team"]
        assert team["gpu_unknown"] == "before history"
        assert team["gpu_known_from"] == day.isoformat()  # its first sample's day
        assert content.team_facts(team)[-1] == (
            "GPU pods pending: not known this week (the cluster's history starts on "
            f"{day.isoformat()})."
        )
    # week 26 (from 2025-06-23): of the four weeks before, those before `began` are not
    # known, not 0, and the usual figure averages the known ones only
    after = week_figures(config, "2025-W26")
    earlier = [dt.date(2025, 6, 23) - dt.timedelta(weeks=k) for k in range(4, 0, -1)]
    for team in [*after["teams"], after["org"]]:
        values = team["gpu_pending_hours_before"]
        assert [v for d, v in zip(earlier, values, strict=True) if d < began] == [
            None for d in earlier if d < began
        ], team["team"]
        assert team["gpu_unknown"] in (None, "rebuilt")
        known = [v for d, v in zip(earlier, values, strict=True) if d >= began and v is not None]
        assert figures.gpu_before(team) == (sum(known) / len(known) if known else None)


def test_gpu_waits_without_any_cluster_samples_are_not_known(report_world) -> None:
    _, config = report_world.write_config()
    engine = make_engine(config.database.url)
    with engine.begin() as conn:
        conn.execute(delete(models.ClusterSample))
    engine.dispose()
    figs = week_figures(config, "2025-W26")
    for team in [*figs["teams"], figs["org"]]:
        assert team["gpu_pending_hours"] is None
        assert team["gpu_unknown"] == "no samples"
        assert content.team_facts(team)[-1] == (
            "GPU pods pending: not known (no cluster samples are stored yet)."
        )
