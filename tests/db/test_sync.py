"""The collectors' SQL: child rows replaced, a minute of the cluster cleared, sync state kept."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import Engine, func, select

from db import models
from db import sync as db_sync
from db.session import session_factory, session_scope
from db.upsert import upsert

T0 = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


def comment(item_id: int, comment_id: str) -> dict[str, object]:
    return {"item_id": item_id, "comment_id": comment_id, "at": T0, "author_account": None}


def comments(engine: Engine) -> list[tuple[int, str]]:
    c = models.ItemComment
    with engine.connect() as conn:
        return sorted((i, k) for i, k in conn.execute(select(c.item_id, c.comment_id)))


def test_replacing_children_keeps_exactly_the_given_rows_of_those_parents_only(
    engine: Engine,
) -> None:
    items = [{"source": "jira", "key": f"K-{n}", "created_at": T0} for n in (1, 2)]
    with session_scope(engine) as session:
        first, second = (
            i
            for (i,) in upsert(session, models.WorkItem, items, ["source", "key"], returning=["id"])
        )
        upsert(
            session,
            models.ItemComment,
            [comment(first, "a"), comment(first, "b"), comment(second, "c")],
            ["item_id", "comment_id"],
        )
    with session_scope(engine) as session:
        rows = [comment(first, "b"), comment(first, "d")]
        gone = db_sync.replace_children(
            session, models.ItemComment, "item_id", "comment_id", [first], rows
        )
    assert gone == 1  # "a", deleted in the source
    assert comments(engine) == [(first, "b"), (first, "d"), (second, "c")]


def test_clearing_an_instant_drops_its_samples_and_node_counts_and_no_other(
    engine: Engine,
) -> None:
    later = T0 + dt.timedelta(minutes=1)
    with session_scope(engine) as session:
        for at in (T0, later):
            upsert(
                session, models.ClusterSample, [{"at": at, "namespace": "ds"}], ["at", "namespace"]
            )
            node = {"at": at, "node_group": "gpu", "instance_type": "p4d", "count": 1}
            upsert(session, models.ClusterNode, [node], ["at", "node_group", "instance_type"])
    with session_scope(engine) as session:
        db_sync.clear_cluster_instants(session, [T0])
    with engine.connect() as conn:
        assert conn.scalars(select(models.ClusterSample.at)).all() == [later]
        assert conn.scalars(select(models.ClusterNode.at)).all() == [later]
        assert db_sync.earliest_cluster_sample(conn) == later


def test_the_history_tells_samples_rebuilt_from_pods_from_observed_ones(engine: Engine) -> None:
    from db.cluster_queries import cluster_history

    hour = dt.timedelta(hours=1)
    rows = [  # two rebuilt hours, a sample stored before origins were recorded, then snapshots
        (T0 - 3 * hour, models.POD_HISTORY, None),
        (T0 - 2 * hour, models.POD_HISTORY, None),
        (T0 - hour, None, 0),
        (T0, models.SNAPSHOT, 1),
        (T0 + hour, models.SNAPSHOT, 0),
    ]
    with session_scope(engine) as session:
        for at, origin, pending in rows:
            row = {"at": at, "namespace": "ds", "origin": origin, "pods_pending": pending}
            upsert(session, models.ClusterSample, [row], ["at", "namespace"])
    with engine.connect() as conn:
        assert db_sync.earliest_cluster_sample(conn) == T0 - 3 * hour
        assert db_sync.earliest_cluster_sample(conn, observed=True) == T0 - hour
        assert cluster_history(conn) == {
            "first_sample": T0 - 3 * hour,
            "first_observed": T0 - hour,
            "first_rebuilt": T0 - 3 * hour,
            "last_rebuilt": T0 - 2 * hour,
            "first_snapshot": T0,
        }
        stored = conn.execute(
            select(models.ClusterSample.pods_pending).order_by(models.ClusterSample.at)
        )
        assert stored.scalars().all() == [None, None, 0, 1, 0]  # unknown stays unknown
    with engine.begin() as conn:
        conn.execute(models.ClusterSample.__table__.delete())
        assert cluster_history(conn) == dict.fromkeys(
            ("first_sample", "first_observed", "first_rebuilt", "last_rebuilt", "first_snapshot")
        )


def test_a_partition_counts_its_pages_from_zero_on_every_run_and_keeps_its_cursor(
    engine: Engine,
) -> None:
    where = ("test", "items", "p")
    for run in range(2):
        with session_scope(engine) as session:
            cursor = db_sync.partition_started(session, *where, T0)
            assert cursor == (None if run == 0 else "2")
        with session_scope(engine) as session:
            reject = {"key": "K-9", "reason": "no key", "payload": None, "at": T0}
            db_sync.page_stored(session, *where, rows=3, rejects=[reject], cursor="2")
        with session_scope(engine) as session:
            db_sync.partition_done(session, *where, cursor=None, at=T0)
    with engine.connect() as conn:
        s = models.SyncState
        state = conn.execute(select(s.cursor, s.rows, s.rejects, s.last_success)).one()
        assert tuple(state) == ("2", 3, 1, T0)
        assert conn.scalars(select(models.SyncReject.key)).all() == ["K-9", "K-9"]


def test_two_runs_starting_a_new_partition_together_both_get_its_state(engine: Engine) -> None:
    """The first write of a partition's state is an upsert: no unique-key error for the second.

    The first run's transaction holds its new row uncommitted while the second starts the
    same partition; the second waits for it, then finds the row instead of inserting it.
    """
    first = session_factory(engine)()
    first.begin()
    db_sync.partition_started(first, "jira", "issues", "", T0)
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with session_scope(engine) as session:
                outcome["cursor"] = db_sync.partition_started(session, "jira", "issues", "", T0)
        except Exception as exc:  # the failure the test is about: kept for the assertion
            outcome["error"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)  # the second is now waiting on the first's row (or write lock)
    first.commit()
    first.close()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    s = models.SyncState
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(s)) == 1
