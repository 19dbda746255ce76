"""The weekly rollups give the report the full computation gives, on SQLite and PostgreSQL.

A sandbox world is synced through the real collectors, its rollups refreshed, and then,
for many random windows and team selections, `rollup.summary` must equal
`reading.summary` (computed from the facts as of the same moment) as JSON, to 12
significant digits (a week computed by a refresh that began on another week may differ
in the last bit of a float). The same after a sync changes items, after an org-file
edit moves a person or changes a rule, and after a refresh that crashed halfway.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pg
import pytest
import synced
from conftest import _pg_engines
from rollup_check import WINDOWS, assert_same_reports, rounded
from sqlalchemy import Engine, func, select, update

from collectors.org import prepare_database
from config.schema import Config, Membership
from db import models, rollups
from db.session import make_engine
from db.upsert import upsert
from metrics import reading, rollup


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[synced.SyncedWorld]:
    directory = tmp_path_factory.mktemp(f"rollup-{request.param}")
    url = None
    if request.param == "postgresql":
        url = pg.fresh_schema_url(request.getfixturevalue("pg_database"), _pg_engines)
    found = synced.synced_world(directory, db_url=url)
    found.stack.stop()
    yield found


@pytest.fixture
def engine(world: synced.SyncedWorld) -> Iterator[Engine]:
    eng = make_engine(world.db_url)
    yield eng
    eng.dispose()


def refresh(engine: Engine, config: Config, now: dt.datetime) -> rollup.Refresh:
    with engine.begin() as conn:
        return rollup.refresh(conn, config, now)


@pytest.mark.slow
def test_a_full_refresh_gives_the_full_computation_for_random_windows(
    world: synced.SyncedWorld, engine: Engine
) -> None:
    done = refresh(engine, world.config, world.world.clock)
    assert done.rows > 0 and done.weeks > 10
    assert assert_same_reports(engine, world.config, seed=1) == WINDOWS


@pytest.mark.slow
def test_the_forecast_from_the_rollups_is_the_forecast_from_the_facts(
    world: synced.SyncedWorld, engine: Engine
) -> None:
    refresh(engine, world.config, world.world.clock)
    with engine.connect() as conn:
        kept = rollup.forecast(conn, world.config, None, 6)
        fresh = reading.forecast(conn, world.config, None, world.world.clock, 6)
    assert kept is not None and kept["teams"]
    assert json.dumps(rounded(kept), sort_keys=True) == json.dumps(rounded(fresh), sort_keys=True)


def stored_a_day_ago(engine: Engine) -> None:
    """Every row as if the last sync had been a day ago, not a minute."""
    with engine.begin() as conn:
        a_day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        for model in (models.WorkItem, models.PullRequest):
            conn.execute(update(model).values(stored_at=a_day_ago))


@pytest.mark.slow
def test_what_the_default_view_shows_is_kept_after_a_refresh_and_only_for_its_version(
    world: synced.SyncedWorld, engine: Engine
) -> None:
    config, clock = world.config, world.world.clock
    done = rollup.refresh_leased(engine, config, clock + dt.timedelta(days=1))
    assert done is not None and done.kept_seconds is not None, done
    assert "the default view's figures kept" in done.line()
    with engine.begin() as conn:
        found = rollup.current(conn, config)
        assert found is not None and found.version == done.version
        windows = rollup._default_windows(conn, config, found)
        summaries = [rollup._summary_name(*w) for w in windows]
        names = [*summaries, rollup.REORGS, rollup.FORECAST]
        kept = {name: rollups.result(conn, name, done.version) for name in names}
        assert all(kept.values()), [n for n, body in kept.items() if body is None]

        def read() -> dict[str, object]:
            return {
                summaries[0]: rollup.summary(conn, config, *windows[0], None, reorgs=False),
                summaries[1]: rollup.summary(conn, config, *windows[1], None, reorgs=False),
                rollup.REORGS: rollup.reorg_comparisons(conn, config, None),
                rollup.FORECAST: rollup.forecast(conn, config, None),
            }

        found_kept = read()
        # What is read is what is kept; without it, the same is computed.
        conn.execute(models.RollupResult.__table__.delete())
        computed = read()
        for name in names:
            assert found_kept[name] == json.loads(kept[name] or ""), name
            assert json.dumps(found_kept[name], sort_keys=True) == json.dumps(
                computed[name], sort_keys=True
            ), name
        conn.rollback()
    # A window's report with the kept reorg comparisons is the full computation's.
    assert_same_reports(engine, config, seed=4)
    # A later refresh makes them another version's: not read until kept again.
    later = refresh(engine, config, clock + dt.timedelta(days=2))
    with engine.begin() as conn:
        assert rollups.result(conn, rollup.FORECAST, later.version) is None
        rollups.save_result(conn, rollup.FORECAST, later.version, '{"teams": []}')
        assert rollup.forecast(conn, config, None) == {"teams": []}
        assert rollup.forecast(conn, config, None, 6) != {"teams": []}  # not the page's
        conn.rollback()


@pytest.mark.slow
def test_nothing_changed_refreshes_nothing(world: synced.SyncedWorld, engine: Engine) -> None:
    stored_a_day_ago(engine)
    refresh(engine, world.config, world.world.clock)
    again = refresh(engine, world.config, world.world.clock)
    assert again.from_week is None and again.reason == "no change"


@pytest.mark.slow
def test_an_incremental_refresh_after_changed_items_recomputes_only_their_weeks(
    world: synced.SyncedWorld, engine: Engine
) -> None:
    config, clock = world.config, world.world.clock
    refresh(engine, config, clock)
    later = clock + dt.timedelta(days=3)
    with engine.begin() as conn:
        # The newest open item: a sync reads its move to done, as the collectors store it.
        w = models.WorkItem
        item = conn.execute(
            select(w.id, w.source, w.key, w.created_at, w.status)
            .where(w.done_at.is_(None))
            .order_by(w.created_at.desc())
            .limit(1)
        ).one()
        done_status = conn.execute(
            select(models.Status.name).where(models.Status.category == "done").limit(1)
        ).scalar_one()
        moved = clock + dt.timedelta(days=1)
        upsert(
            conn,
            models.ItemTransition,
            [
                {
                    "item_id": item.id,
                    "change_id": "rollup-test",
                    "at": moved,
                    "author_account": None,
                    "from_status": item.status,
                    "to_status": done_status,
                    "from_stage": None,
                    "to_stage": None,
                }
            ],
            key=["item_id", "change_id", "to_status"],
        )
        upsert(
            conn,
            models.WorkItem,
            [
                {
                    "source": item.source,
                    "key": item.key,
                    "created_at": item.created_at,
                    "status": done_status,
                    "done_at": moved,
                    "updated_at": moved,
                }
            ],
            key=["source", "key"],
        )
    done = refresh(engine, config, later)
    assert not done.full
    assert done.from_week is not None and done.weeks < 20, done.line()  # not the whole history
    assert_same_reports(engine, config, seed=2)


@pytest.mark.slow
def test_an_old_item_relabelled_recomputes_the_weeks_it_was_worked_not_the_history(
    world: synced.SyncedWorld, engine: Engine
) -> None:
    """A sync that brings a new label to an item finished long ago changes every day it was
    worked on, and its pull requests': those weeks are recomputed, and only they (and the
    current week) are."""
    config, clock = world.config, world.world.clock
    refresh(engine, config, clock)
    t, w = models.RollupThing, models.WorkItem
    with engine.begin() as conn:
        # The item worked on in the most weeks among those done more than 8 weeks ago.
        counted = (
            select(t.thing_id, func.count(func.distinct(t.week)).label("weeks"))
            .where(t.thing == "item")
            .group_by(t.thing_id)
            .subquery()
        )
        item = conn.execute(
            select(w.id, w.source, w.key, w.created_at, w.labels, counted.c.weeks)
            .join(counted, counted.c.thing_id == w.id)
            .where(w.done_at < clock - dt.timedelta(weeks=8))
            .order_by(counted.c.weeks.desc(), w.id)
            .limit(1)
        ).one()
        worked = {
            rollups._date(week)
            for week in conn.execute(
                select(t.week).where((t.thing == "item") & (t.thing_id == item.id))
            ).scalars()
        }
        # The unplanned label, given or taken: every one of its days changes its flags.
        label = (config.unplanned.match.jira_labels or ["interrupt"])[0]
        labels = list(item.labels or [])
        labels = [x for x in labels if x != label] if label in labels else [*labels, label]
        upsert(
            conn,
            w,
            [
                {
                    "source": item.source,
                    "key": item.key,
                    "created_at": item.created_at,
                    "labels": labels,
                }
            ],
            key=["source", "key"],
        )
    done = refresh(engine, config, clock + dt.timedelta(days=1))
    assert not done.full
    assert done.from_week is not None and done.from_week <= min(worked), done.line()
    history = (clock.date() - item.created_at.date()).days // 7
    assert len(worked) <= done.weeks < history, done.line()
    assert_same_reports(engine, config, seed=3)


@pytest.mark.slow
def test_an_org_file_edit_refreshes_from_the_first_day_it_changes(
    world: synced.SyncedWorld, engine: Engine, tmp_path: Path
) -> None:
    config, clock = world.config, world.world.clock
    stored_a_day_ago(engine)  # the other tests' changes are not this one's
    refresh(engine, config, clock)
    # Move the first person with one open membership to another team, six weeks ago.
    teams = config.team_names()
    day = (clock - dt.timedelta(weeks=6)).date()
    people = []
    moved_one = False
    for person in config.org.people:
        open_rows = [m for m in person.memberships if m.to is None]
        if not moved_one and len(person.memberships) == 1 and open_rows:
            current = open_rows[0]
            other = next(t for t in teams if t != current.team)
            person = person.model_copy(
                update={
                    "memberships": [
                        current.model_copy(update={"to": day - dt.timedelta(days=1)}),
                        Membership.model_validate({"team": other, "from": day}),
                    ]
                }
            )
            moved_one = True
        people.append(person)
    assert moved_one
    edited = config.model_copy(update={"org": config.org.model_copy(update={"people": people})})
    prepare_database(edited)
    with engine.connect() as conn:
        assert rollup.current(conn, edited) is None  # stale until refreshed
    done = refresh(engine, edited, clock)
    assert not done.full and done.from_week is not None
    assert done.from_week <= day and (day - done.from_week).days < 7
    assert_same_reports(engine, edited, seed=3)

    # A rule (not people) changes every figure: a full refresh.
    ruled = edited.model_copy(update={"load": edited.load.model_copy(update={"flood_factor": 1.7})})
    assert refresh(engine, ruled, clock).full
    assert_same_reports(engine, ruled, seed=4)
    prepare_database(config)  # as the other tests found it
    refresh(engine, config, clock)


@pytest.mark.slow
def test_a_refresh_that_crashes_halfway_leaves_the_previous_one_whole(
    world: synced.SyncedWorld, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, clock = world.config, world.world.clock
    refresh(engine, config, clock)
    with engine.connect() as conn:
        before = rollups.state(conn)
        weeks_before = len(rollups.read_weeks(conn, dt.date(2000, 1, 3), clock.date())["loads"])

    def crash(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the machine went away mid-refresh")

    monkeypatch.setattr(rollups, "replace_samples", crash)
    with pytest.raises(RuntimeError):
        refresh(engine, config, clock + dt.timedelta(days=2))
    monkeypatch.undo()
    with engine.connect() as conn:
        assert rollups.state(conn) == before
        after = rollups.read_weeks(conn, dt.date(2000, 1, 3), clock.date())["loads"]
        assert len(after) == weeks_before
    done = refresh(engine, config, clock + dt.timedelta(days=2))
    assert done.version == before.version + 1
    assert_same_reports(engine, config, seed=5)
