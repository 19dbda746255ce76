"""Loading the metric frames: window filtering, accounts turned into people, links resolved."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from collectors.identities import Account, record_accounts
from collectors.org import load_org
from db import models, queries
from db.session import session_scope
from db.upsert import upsert
from teamtide.config import Config


def item(key: str, created: dt.datetime, **fields: object) -> dict[str, object]:
    base = {
        "source": "jira",
        "key": key,
        "created_at": created,
        "done_at": None,
        "labels": [],
        "assignee_account": None,
        "reporter_account": None,
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
    assert pulls["linked_item_ids"].tolist() == [[int(items.loc["ENG-2", "item_id"])]]
    assert frames["reviews"]["reviewer"].tolist() == [None]
    assert frames["memberships"][["person", "team"]].values.tolist() == [["Ada", "Infra"]]
