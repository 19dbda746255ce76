"""Loading the metric frames: window filtering, accounts turned into people, links resolved."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import synced
from sqlalchemy import Connection, Engine, create_engine, insert, select, text

from collectors.identities import Account, record_accounts
from collectors.org import load_org
from config.schema import Config
from db import models, queries
from db.session import session_scope
from db.upsert import upsert


def item(key: str, created: dt.datetime, **fields: object) -> dict[str, object]:
    base = {
        "source": "jira",
        "key": key,
        "created_at": created,
        "done_at": None,
        "labels": [],
        "assignee_account": None,
        "reporter_account": None,
        "project": key.split("-")[0],
    }
    return base | fields


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2025, 6, day, hour, tzinfo=dt.UTC)


def seed(engine: Engine) -> None:
    cfg = Config.model_validate(
        {
            "org": {
                "teams": [{"name": "Infra"}],
                "people": [
                    {
                        "name": "Ada",
                        "jira": "acc-ada",
                        "github": "AdaB",
                        "memberships": [{"team": "Infra", "from": "2025-01-01"}],
                    }
                ],
            }
        }
    )
    with session_scope(engine) as s:
        load_org(s, cfg, dt.date(2025, 6, 1))
        record_accounts(s, [Account("jira", "acc-stranger")], at(1))
        ids = dict(
            (key, i)
            for i, key in upsert(
                s,
                models.WorkItem,
                [
                    # done before the window: not read
                    item("ENG-1", at(1), done_at=at(2), assignee_account="acc-ada"),
                    # active in the window
                    item("ENG-2", at(3), assignee_account="acc-ada", labels=["infra"]),
                    # created after the window: not read
                    item("ENG-3", at(28)),
                    # reported by an account nobody owns
                    item("DS-1", at(4), done_at=at(12), reporter_account="acc-stranger"),
                ],
                ["source", "key"],
                returning=["id", "key"],
            )
        )
        upsert(
            s,
            models.ItemTransition,
            [
                {
                    "item_id": ids["ENG-2"],
                    "change_id": "1",
                    "at": at(5),
                    "author_account": "acc-ada",
                    "from_status": "To Do",
                    "to_status": "In Progress",
                },
                {
                    "item_id": ids["ENG-1"],
                    "change_id": "2",
                    "at": at(2),
                    "author_account": "acc-ada",
                    "from_status": "To Do",
                    "to_status": "Done",
                },
            ],
            ["item_id", "change_id", "to_status"],
        )
        [(pr_id,)] = upsert(
            s,
            models.PullRequest,
            [
                {
                    "repo": "acme/x",
                    "number": 1,
                    "author_account": "AdaB",
                    "created_at": at(6),
                    "linked_keys": ["ENG-2", "ENG-1"],
                }
            ],
            ["repo", "number"],
            returning=["id"],
        )
        upsert(
            s,
            models.Review,
            [
                {
                    "pr_id": pr_id,
                    "review_id": "r1",
                    "reviewer_account": "someone",
                    "state": "APPROVED",
                    "submitted_at": at(7),
                }
            ],
            ["pr_id", "review_id"],
        )


def test_metric_frames_read_the_window_and_name_people(engine: Engine) -> None:
    seed(engine)
    with engine.connect() as conn:
        frames = queries.metric_frames(conn, at(10, 0), at(20, 0))
    items = frames["items"].set_index("key")
    assert sorted(items.index) == ["DS-1", "ENG-2"]
    assert items.loc["ENG-2", "assignee"] == "Ada" and items.loc["ENG-2", "labels"] == ["infra"]
    assert items.loc["DS-1", "reporter"] is None  # unmapped account: kept, no name
    assert items.loc["DS-1", "done_at"] == at(12)
    assert list(frames["transitions"]["to_status"]) == ["In Progress"]  # ENG-1's history not read
    assert frames["transitions"]["author"].tolist() == ["Ada"]
    pulls = frames["pulls"]
    assert pulls["author"].tolist() == ["Ada"]  # GitHub login matched case-insensitively
    # ENG-1, done before the window, is not read as an item, but the PR linking it still
    # finds it (its rules give the PR its category, however wide the read)
    linked = frames["linked_items"].set_index("key")
    assert list(linked.index) == ["ENG-1"] and linked.loc["ENG-1", "project"] == "ENG"
    assert pulls["linked_item_ids"].tolist() == [
        [int(items.loc["ENG-2", "item_id"]), int(linked.loc["ENG-1", "item_id"])]
    ]
    assert frames["reviews"]["reviewer"].tolist() == [None]
    assert frames["memberships"][["person", "team"]].values.tolist() == [["Ada", "Infra"]]


# --- metric_frames against a plain ORM reading ---------------------------------------------
# `metric_frames` reads timestamp and JSON columns without SQLAlchemy's per-value
# conversions (and on SQLite without SQLAlchemy's rows) for speed. The reference below is
# the straightforward reading it replaced: every column through its ORM type, then
# `pd.read_sql`. The frames must be equal to it: columns, dtypes, values and row order.

_REF_TS = {"format": "ISO8601", "utc": True}


def _ref_accounts(conn: Connection, source: str) -> dict[str, str]:
    i, p = models.Identity, models.Person
    rows = conn.execute(
        select(i.value, p.name).join(p, p.id == i.person_id).where(i.source == source)
    )
    return dict(rows.all())


def _ref_to_people(
    frame: pd.DataFrame, names: dict[str, str], renames: dict[str, str], lower: bool = False
) -> None:
    for account_column, person_column in renames.items():
        accounts = frame.pop(account_column)
        if lower:
            accounts = accounts.str.lower()
        frame[person_column] = accounts.map(names).astype(object).where(lambda s: s.notna(), None)


def _ref_frame(
    conn: Connection, stmt: Any, timestamps: tuple[str, ...] = (), lists: tuple[str, ...] = ()
) -> pd.DataFrame:
    frame = pd.read_sql(stmt, conn, parse_dates={c: _REF_TS for c in timestamps})
    for column in lists:
        frame[column] = [json.loads(v) if isinstance(v, str) else (v or []) for v in frame[column]]
    return frame


def _reference_metric_frames(
    conn: Connection, start: dt.datetime, end: dt.datetime
) -> dict[str, pd.DataFrame]:
    w, t, a, c = models.WorkItem, models.ItemTransition, models.ItemAssignment, models.ItemComment
    pr, rv = models.PullRequest, models.Review
    alive = (w.created_at <= end) & ((w.done_at.is_(None)) | (w.done_at >= start))
    item_ids = select(w.id).where(alive)
    item_columns = (
        w.id.label("item_id"),
        w.source,
        w.key,
        w.project,
        w.type.label("issue_type"),
        w.summary,
        w.status,
        w.priority,
        w.labels,
        w.components,
        w.epic_key,
        w.created_at,
        w.done_at,
        w.reporter_account,
        w.assignee_account,
        w.url,
        w.sprint,
    )
    items = _ref_frame(
        conn,
        select(*item_columns).where(alive),
        ("created_at", "done_at"),
        ("labels", "components"),
    )
    transitions = _ref_frame(
        conn,
        select(t.item_id, t.at, t.from_status, t.to_status, t.author_account)
        .where(t.item_id.in_(item_ids))
        .order_by(t.item_id, t.at, t.id),
        ("at",),
    )
    assignments = _ref_frame(
        conn,
        select(a.item_id, a.at, a.from_account, a.to_account)
        .where(a.item_id.in_(item_ids))
        .order_by(a.item_id, a.at, a.id),
        ("at",),
    )
    comments = _ref_frame(
        conn,
        select(c.item_id, c.at, c.author_account).where(c.item_id.in_(item_ids)),
        ("at",),
    )
    open_in_window = (pr.created_at <= end) & (pr.closed_at.is_(None) | (pr.closed_at >= start))
    pulls = _ref_frame(
        conn,
        select(
            pr.id.label("pr_id"),
            pr.repo,
            pr.number,
            pr.author_account,
            pr.created_at,
            pr.ready_at,
            pr.first_review_at,
            pr.merged_at,
            pr.closed_at,
            pr.draft,
            pr.labels,
            pr.linked_keys,
            pr.url,
        ).where(open_in_window),
        ("created_at", "ready_at", "first_review_at", "merged_at", "closed_at"),
        ("labels", "linked_keys"),
    )
    key_to_id = dict(zip(items["key"], items["item_id"], strict=True))
    missing = sorted({k for keys in pulls["linked_keys"] for k in keys} - set(key_to_id))
    linked_items = _ref_frame(
        conn,
        select(*item_columns).where(w.key.in_(missing)).order_by(w.id),
        ("created_at", "done_at"),
        ("labels", "components"),
    )
    key_to_id.update(zip(linked_items["key"], linked_items["item_id"], strict=True))
    pulls["linked_item_ids"] = [
        [key_to_id[k] for k in keys if k in key_to_id] for keys in pulls["linked_keys"]
    ]
    reviews = _ref_frame(
        conn,
        select(rv.pr_id, rv.reviewer_account, rv.state, rv.submitted_at).where(
            rv.pr_id.in_(select(pr.id).where(open_in_window))
        ),
        ("submitted_at",),
    )
    statuses = _ref_frame(
        conn, select(models.Status.source, models.Status.name, models.Status.category)
    )
    m, tm, p = models.Membership, models.Team, models.Person
    memberships = _ref_frame(
        conn,
        select(p.name.label("person"), tm.name.label("team"), m.valid_from, m.valid_to)
        .join(p, p.id == m.person_id)
        .join(tm, tm.id == m.team_id),
    )
    people = _ref_frame(conn, select(p.name.label("person"), p.active))
    jira, github = _ref_accounts(conn, "jira"), _ref_accounts(conn, "github")
    for frame in (items, linked_items):
        _ref_to_people(
            frame, jira, {"reporter_account": "reporter", "assignee_account": "assignee"}
        )
    _ref_to_people(transitions, jira, {"author_account": "author"})
    _ref_to_people(assignments, jira, {"from_account": "from_person", "to_account": "to_person"})
    _ref_to_people(comments, jira, {"author_account": "author"})
    _ref_to_people(pulls, github, {"author_account": "author"}, lower=True)
    _ref_to_people(reviews, github, {"reviewer_account": "reviewer"}, lower=True)
    return {
        "items": items,
        "transitions": transitions,
        "statuses": statuses,
        "assignments": assignments,
        "comments": comments,
        "pulls": pulls,
        "reviews": reviews,
        "memberships": memberships,
        "people": people,
        "linked_items": linked_items,
    }


def assert_frames_as_the_orm_reads(conn: Connection, start: dt.datetime, end: dt.datetime) -> int:
    """`metric_frames` equals the reference reading exactly; returns the rows compared."""
    got = queries.metric_frames(conn, start, end)
    expected = _reference_metric_frames(conn, start, end)
    assert list(got) == list(expected)
    for name, frame in expected.items():
        assert list(got[name].columns) == list(frame.columns), name
        pd.testing.assert_frame_equal(got[name], frame, check_exact=True, obj=name)
        for column in ("labels", "components", "linked_keys", "linked_item_ids"):
            if column in frame:  # lists compared element by element, types included
                pairs = zip(got[name][column], frame[column], strict=True)
                assert all(type(g) is type(e) and g == e for g, e in pairs), (name, column)
    return sum(len(frame) for frame in expected.values())


def copy_rows(source_url: str, target: Engine) -> None:
    """Every row of the domain tables, from one database into another (migrated) one."""
    source = create_engine(source_url)
    try:
        with source.connect() as src, target.begin() as dst:
            for table in models.Base.metadata.sorted_tables:
                rows = [dict(row._mapping) for row in src.execute(select(table))]
                if rows:
                    dst.execute(insert(table), rows)
    finally:
        source.dispose()


def in_new_york(conn: Connection) -> None:
    """PostgreSQL hands timestamptz over in the session's zone: make it one that isn't UTC."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TIME ZONE 'America/New_York'"))


def test_metric_frames_equal_the_orm_reading_of_a_synced_world(
    synced_world: synced.SyncedWorld, engine: Engine
) -> None:
    copy_rows(synced_world.db_url, engine)
    clock = synced_world.world.clock
    windows = [
        (clock - dt.timedelta(days=3650), clock),  # everything
        (clock - dt.timedelta(days=90), clock - dt.timedelta(days=30)),
        (clock - dt.timedelta(days=7), clock - dt.timedelta(days=7)),  # one moment
        (clock - dt.timedelta(days=9000), clock - dt.timedelta(days=8000)),  # nothing yet
    ]
    with engine.connect() as conn:
        in_new_york(conn)
        compared = [assert_frames_as_the_orm_reads(conn, lo, hi) for lo, hi in windows]
    assert compared[0] > 1000 and compared[1] > 0  # the world was read, not just empty frames
    with create_engine(synced_world.db_url).connect() as conn:  # the synced database itself
        assert assert_frames_as_the_orm_reads(conn, *windows[0]) == compared[0]


def test_work_only_reads_the_same_items_and_no_pull_requests(synced_world) -> None:
    clock = synced_world.world.clock
    span = (clock - dt.timedelta(days=3650), clock)
    with create_engine(synced_world.db_url).connect() as conn:
        full = queries.metric_frames(conn, *span)
        work = queries.metric_frames(conn, *span, work_only=True)
    for name in ("items", "transitions", "assignments", "memberships"):
        pd.testing.assert_frame_equal(work[name], full[name])
    assert len(full["pulls"]) and len(full["comments"])
    for name in ("pulls", "reviews", "comments"):
        assert work[name].empty and list(work[name].columns) == list(full[name].columns)


def test_metric_frames_equal_the_orm_reading_of_odd_values(engine: Engine) -> None:
    """JSON null for a list, NULL timestamps only, a draft, an empty list: read alike."""
    seed(engine)
    with session_scope(engine) as s:
        upsert(
            s,
            models.WorkItem,
            [item("ENG-9", at(11), labels=None, components=["x", "y"], epic_key="ENG-2")],
            ["source", "key"],
        )
        upsert(
            s,
            models.PullRequest,
            [
                {
                    "repo": "acme/x",
                    "number": 2,
                    "author_account": "nobody",
                    "created_at": at(11),
                    "draft": True,
                    "labels": ["a", "b"],
                    "linked_keys": [],
                }
            ],
            ["repo", "number"],
        )
    with engine.connect() as conn:
        in_new_york(conn)
        for lo, hi in [(at(10, 0), at(20, 0)), (at(1, 0), at(29, 0)), (at(12, 0), at(12, 0))]:
            assert assert_frames_as_the_orm_reads(conn, lo, hi) > 0
        frames = queries.metric_frames(conn, at(10, 0), at(20, 0))
    items = frames["items"].set_index("key")
    assert items.loc["ENG-9", "labels"] == [] and items.loc["ENG-9", "components"] == ["x", "y"]
    assert frames["pulls"]["draft"].tolist() == [False, True]
    assert str(frames["items"]["created_at"].dtype) == "datetime64[us, UTC]"
