"""Jira JSON -> rows, on payloads recorded from a real Jira and on Cloud shapes from its docs."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import realdata

from collectors.jira_parse import (
    Context,
    CustomFields,
    ParseError,
    StatusCatalog,
    StatusInfo,
    duration_seconds,
    excerpt,
    find_custom_fields,
    follow_ups,
    issue_jql,
    jql_time,
    parse_issue,
    parse_time,
)

UTC = dt.UTC


def real(name: str) -> Any:
    return json.loads((realdata.folder("jira") / name).read_text())


@pytest.fixture(scope="module")
def server_ctx() -> Context:
    catalog = StatusCatalog.from_json(real("status.json"), {"Reopened": "active"})
    return Context(False, "http://localhost:2990/jira", CustomFields(), catalog)


# ---------------------------------------------------------------- recorded Server payloads


def test_a_recorded_server_issue_becomes_a_work_item_in_utc(server_ctx: Context) -> None:
    parsed = parse_issue(real("issue_10002.json"), server_ctx)
    item = parsed.item
    assert item["key"] == "SAMPLEPROJECT-1" and item["source_id"] == "10002"
    assert (item["project"], item["type"], item["priority"]) == ("SAMPLEPROJECT", "Task", "Major")
    # "Open" carries no category in this old payload: the /status list says new -> todo
    assert (item["status"], item["stage"], item["done_at"]) == ("Open", "todo", None)
    assert item["assignee_account"] == item["reporter_account"] == "admin"  # Server: user name
    # 2011-12-14T10:26:06.030+1300 is 13 hours earlier in UTC, the day before
    assert item["created_at"] == dt.datetime(2011, 12, 13, 21, 26, 6, 30000, tzinfo=UTC)
    assert item["url"] == "http://localhost:2990/jira/browse/SAMPLEPROJECT-1"
    assert {a.value for a in parsed.accounts} == {"admin"}


def test_every_issue_of_a_recorded_search_page_parses(server_ctx: Context) -> None:
    page = real("project_SAMPLEPROJECT.issues.json")
    parsed = [parse_issue(raw, server_ctx) for raw in page["issues"]]
    assert len(parsed) == len(page["issues"]) == 11
    assert all(p.item["created_at"] <= p.item["updated_at"] for p in parsed)
    assert parsed[-1].key == "SAMPLEPROJECT-1"
    assert parsed[-1].updated_at == dt.datetime(2011, 12, 15, 2, 37, 33, tzinfo=UTC)


def test_recorded_comments_replace_the_inline_ones(server_ctx: Context) -> None:
    comments = real("issue_10002_comment.json")["comments"]
    parsed = parse_issue(real("issue_10002.json"), server_ctx, comments=comments)
    assert [c["comment_id"] for c in parsed.comments or []] == ["10000", "10001"]
    assert parsed.comments[0]["at"] == dt.datetime(2012, 1, 10, 21, 2, 14, 430000, tzinfo=UTC)
    assert {c["author_account"] for c in parsed.comments} == {"admin"}


def test_recorded_worklogs_without_seconds_are_read_from_their_duration_text(
    server_ctx: Context,
) -> None:
    worklogs = real("issue_10002_worklog.json")["worklogs"]
    parsed = parse_issue(
        real("issue_10002.json"), server_ctx, worklogs=worklogs, with_worklogs=True
    )
    # "18w 2d" = 18*5*8 + 2*8 = 736 hours; "4d" = 32 hours; "3d" = 24 hours
    assert [w["seconds"] for w in parsed.worklogs or []] == [736 * 3600, 32 * 3600, 24 * 3600]
    assert parsed.worklogs[0]["started_at"] == dt.datetime(2012, 1, 11, 0, 33, tzinfo=UTC)


def test_worklogs_are_left_alone_unless_configured(server_ctx: Context) -> None:
    assert parse_issue(real("issue_10002.json"), server_ctx).worklogs is None


def test_recorded_statuses_map_to_stages_with_config_overrides_by_name() -> None:
    catalog = StatusCatalog.from_json(real("status.json"), {"reopened": "active"})
    stages = {s.name: catalog.stage(s) for s in catalog.statuses}
    assert stages == {
        "Open": "todo",
        "In Progress": "active",
        "Reopened": "active",  # category new, overridden (names match case-insensitively)
        "Resolved": "done",
        "Closed": "done",
    }
    renamed = catalog.lookup("3", "Doing")  # a status renamed since: its id still finds it
    assert renamed is not None and renamed.name == "In Progress"
    assert catalog.lookup("999", "Nope") is None


def test_status_rows_keep_one_row_per_name() -> None:
    duplicate = {"id": "10100", "name": "Open", "statusCategory": {"key": "new"}}
    catalog = StatusCatalog.from_json([*real("status.json"), duplicate], {})
    names = [r["name"] for r in catalog.rows()]
    assert sorted(names) == sorted(set(names)) and len(names) == 5


def test_recorded_system_fields_hold_no_custom_fields() -> None:
    assert find_custom_fields(real("field.json")) == CustomFields()


# ---------------------------------------------------------------- Cloud shapes (REST docs)


CLOUD_FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string"}},
    {
        "id": "customfield_10016",
        "name": "Story point estimate",
        "custom": True,
        "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"},
    },
    {
        "id": "customfield_10104",
        "name": "Story Points",
        "custom": True,
        "schema": {
            "type": "number",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
        },
    },
    {
        "id": "customfield_10107",
        "name": "Sprint",
        "custom": True,
        "schema": {
            "type": "array",
            "items": "json",
            "custom": "com.pyxis.greenhopper.jira:gh-sprint",
        },
    },
    {
        "id": "customfield_10108",
        "name": "Epic Link",
        "custom": True,
        "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
    },
]
STATUSES = [
    StatusInfo("1", "To Do", "new"),
    StatusInfo("3", "In Progress", "indeterminate"),
    StatusInfo("4", "Blocked", "indeterminate"),
    StatusInfo("5", "Done", "done"),
    StatusInfo("6", "Closed", "done"),
]


@pytest.fixture(scope="module")
def cloud_ctx() -> Context:
    catalog = StatusCatalog(STATUSES, {"Blocked": "waiting"})
    return Context(True, "https://acme.atlassian.net", find_custom_fields(CLOUD_FIELDS), catalog)


def user(account: str) -> dict[str, Any]:
    return {
        "accountId": account,
        "displayName": account.title(),
        "emailAddress": f"{account}@acme.example",
        "timeZone": "Europe/Dublin",
    }


def status(status_id: str, name: str) -> dict[str, Any]:
    return {"id": status_id, "name": name}


def move(hid: str, at: str, old: tuple[str, str], new: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": hid,
        "author": user("ada"),
        "created": at,
        "items": [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old[0],
                "fromString": old[1],
                "to": new[0],
                "toString": new[1],
            }
        ],
    }


TODO, DOING, BLOCKED, DONE, CLOSED = (
    ("1", "To Do"),
    ("3", "In Progress"),
    ("4", "Blocked"),
    ("5", "Done"),
    ("6", "Closed"),
)


def cloud_issue(**fields: Any) -> dict[str, Any]:
    """A search/jql result in the documented v3 shape; Cloud's inline changelog is newest first."""
    histories = [
        move("10105", "2025-03-06T09:00:00.000+0000", DONE, CLOSED),
        move("10104", "2025-03-05T17:30:00.000+0000", DOING, DONE),
        move("10103", "2025-03-05T09:00:00.000+0000", BLOCKED, DOING),
        move("10102", "2025-03-04T12:00:00.000+0000", DOING, BLOCKED),
        {
            "id": "10101",
            "author": user("bo"),
            "created": "2025-03-04T10:05:00.000+0000",
            "items": [
                {
                    "field": "assignee",
                    "fieldtype": "jira",
                    "fieldId": "assignee",
                    "from": "ada",
                    "fromString": "Ada",
                    "to": "cy",
                    "toString": "Cy",
                },
                {
                    "field": "labels",
                    "fieldtype": "jira",
                    "from": None,
                    "fromString": "",
                    "to": None,
                    "toString": "x",
                },
            ],
        },
        move("10100", "2025-03-04T10:00:00.000+0000", TODO, DOING),
    ]
    base: dict[str, Any] = {
        "id": "10042",
        "key": "DS-7",
        "changelog": {"startAt": 0, "maxResults": 6, "total": 6, "histories": histories},
        "fields": {
            "summary": "Add GPU nodes",
            "issuetype": {"id": "10001", "name": "Story", "hierarchyLevel": 0},
            "project": {"id": "10000", "key": "DS", "name": "Data Science"},
            "status": status(*CLOSED),
            "priority": {"id": "2", "name": "High"},
            "assignee": user("cy"),
            "reporter": user("bo"),
            # the caller's timezone, as Jira renders it: 10:15+01:00 is 09:15 UTC
            "created": "2025-03-04T10:15:30.000+0100",
            "updated": "2025-03-06T09:00:00.000+0000",
            "resolutiondate": "2025-03-05T17:30:00.000+0000",
            "labels": ["infra"],
            "components": [{"id": "10000", "name": "EKS"}],
            "parent": {
                "id": "10040",
                "key": "DS-1",
                "fields": {"summary": "GPU", "issuetype": {"name": "Epic", "hierarchyLevel": 1}},
            },
            "comment": {
                "comments": [
                    {"id": "500", "author": user("ada"), "created": "2025-03-04T11:00:00.000+0000"}
                ],
                "maxResults": 1,
                "total": 1,
                "startAt": 0,
            },
            "customfield_10104": 5,
            "customfield_10016": 3,
            "customfield_10107": [
                {"id": 1, "name": "Sprint 6", "state": "closed"},
                {"id": 2, "name": "Sprint 7", "state": "active"},
            ],
            "customfield_10108": None,
        },
    }
    base["fields"].update(fields)
    return base


def test_custom_fields_are_found_by_schema_and_name_not_by_id() -> None:
    found = find_custom_fields(CLOUD_FIELDS)
    # "Story Points" wins over the team-managed "Story point estimate"
    assert found == CustomFields("customfield_10104", "customfield_10107", "customfield_10108")
    renumbered = [dict(f, id=f["id"].replace("101", "202")) for f in CLOUD_FIELDS]
    assert find_custom_fields(renumbered).sprint == "customfield_20207"


def test_a_cloud_issue_parses_with_its_history(cloud_ctx: Context) -> None:
    parsed = parse_issue(cloud_issue(), cloud_ctx)
    item = parsed.item
    assert item["created_at"] == dt.datetime(2025, 3, 4, 9, 15, 30, tzinfo=UTC)
    assert (item["status"], item["stage"]) == ("Closed", "done")
    assert (item["story_points"], item["sprint"]) == (5.0, "Sprint 7")  # the active sprint
    assert (item["epic_key"], item["parent_key"]) == ("DS-1", "DS-1")  # an epic parent is the epic
    assert (item["labels"], item["components"]) == (["infra"], ["EKS"])
    assert (item["assignee_account"], item["reporter_account"]) == ("cy", "bo")
    # oldest first whatever order Jira sent, with stages (Blocked overridden to waiting)
    assert [(t["change_id"], t["from_stage"], t["to_stage"]) for t in parsed.transitions] == [
        ("10100", "todo", "active"),
        ("10102", "active", "waiting"),
        ("10103", "waiting", "active"),
        ("10104", "active", "done"),
        ("10105", "done", "done"),
    ]
    # Done -> Closed is no new entry into done: done_at is the move into Done
    assert item["done_at"] == dt.datetime(2025, 3, 5, 17, 30, tzinfo=UTC)
    [assignment] = parsed.assignments
    assert (assignment["from_account"], assignment["to_account"]) == ("ada", "cy")
    assert assignment["author_account"] == "bo"
    assert [c["comment_id"] for c in parsed.comments or []] == ["500"]
    assert {a.value for a in parsed.accounts} == {"ada", "bo", "cy"}


def test_done_at_is_the_last_entry_into_done_after_a_reopen(cloud_ctx: Context) -> None:
    raw = cloud_issue(status=status(*DONE))
    raw["changelog"]["histories"] = [
        move("1", "2025-03-04T10:00:00.000+0000", TODO, DONE),
        move("2", "2025-03-05T10:00:00.000+0000", DONE, DOING),
        move("3", "2025-03-06T10:00:00.000+0000", DOING, DONE),
    ]
    assert parse_issue(raw, cloud_ctx).item["done_at"] == dt.datetime(2025, 3, 6, 10, tzinfo=UTC)
    raw["fields"]["status"] = status(*DOING)
    raw["changelog"]["histories"] = raw["changelog"]["histories"][:2]
    assert parse_issue(raw, cloud_ctx).item["done_at"] is None  # open now


def test_an_item_created_in_done_is_done_since_creation(cloud_ctx: Context) -> None:
    raw = cloud_issue(status=status(*DONE))
    raw["changelog"]["histories"] = []
    assert parse_issue(raw, cloud_ctx).item["done_at"] == dt.datetime(
        2025, 3, 4, 9, 15, 30, tzinfo=UTC
    )


def test_a_cut_inline_changelog_asks_for_the_complete_one(cloud_ctx: Context) -> None:
    raw = cloud_issue()
    assert not follow_ups(raw, worklogs=True).any()
    raw["changelog"]["total"] = 140  # Cloud's search shows the newest 40 of them
    raw["fields"]["comment"]["total"] = 3
    raw["fields"]["worklog"] = {"startAt": 0, "maxResults": 20, "total": 25, "worklogs": []}
    needs = follow_ups(raw, worklogs=False)
    assert (needs.changelog, needs.comments, needs.worklogs) == (True, True, False)
    assert follow_ups(raw, worklogs=True).worklogs
    full = [move("9", "2025-03-01T10:00:00.000+0000", TODO, DONE)]
    parsed = parse_issue(raw, cloud_ctx, histories=full)
    assert [t["change_id"] for t in parsed.transitions] == ["9"]


def test_server_changelog_names_users_by_key_and_rows_use_their_names(server_ctx: Context) -> None:
    raw = copy.deepcopy(real("issue_10002.json"))
    raw["fields"]["assignee"] = {"name": "fred", "key": "JIRAUSER10100", "displayName": "Fred"}
    raw["changelog"] = {
        "startAt": 0,
        "maxResults": 1,
        "total": 1,
        "histories": [
            {
                "id": "7",
                "author": {"name": "admin", "key": "admin", "displayName": "admin"},
                "created": "2012-01-01T10:00:00.000+1300",
                "items": [
                    {
                        "field": "assignee",
                        "fieldtype": "jira",
                        "from": "admin",
                        "fromString": "admin",
                        "to": "JIRAUSER10100",
                        "toString": "Fred",
                    }
                ],
            }
        ],
    }
    [assignment] = parse_issue(raw, server_ctx).assignments
    assert (assignment["from_account"], assignment["to_account"]) == ("admin", "fred")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"created": "not a date"}, "created is not a timestamp: 'not a date'"),
        ({"issuetype": None}, "missing field issuetype"),
        ({"status": status("99999", "Retired")}, "unknown status 'Retired'"),
        ({"customfield_10104": "lots"}, "story points are not a number"),
        ({"updated": None}, "updated is missing"),
    ],
)
def test_a_broken_record_is_refused_with_its_reason(
    cloud_ctx: Context, change: dict[str, Any], reason: str
) -> None:
    raw = cloud_issue(**change)
    with pytest.raises(ParseError, match=reason.replace("(", r"\(")):
        parse_issue(raw, cloud_ctx)


def test_a_broken_history_refuses_the_whole_record(cloud_ctx: Context) -> None:
    raw = cloud_issue()
    raw["changelog"]["histories"][0]["created"] = "yesterday"
    with pytest.raises(ParseError, match="changelog created"):
        parse_issue(raw, cloud_ctx)  # half a history would silently corrupt cycle times


def test_a_reject_excerpt_shows_the_damage_and_not_the_whole_record() -> None:
    raw = cloud_issue(created="not a date")
    text = excerpt(raw)
    assert "not a date" in text and "DS-7" in text
    assert "avatar" not in text and "comments" not in text and len(text) < 500


def test_sprints_in_old_server_strings_are_read() -> None:
    ctx = Context(False, "", CustomFields(sprint="customfield_1"), StatusCatalog(STATUSES, {}))
    raw = cloud_issue(
        customfield_1=[
            "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=1,rapidViewId=2,state=CLOSED,name=Sprint 1, the long one,startDate=2015-04-11T15:22:00.000+10:00]",
            "com.atlassian.greenhopper.service.sprint.Sprint@3c4d[id=2,rapidViewId=2,state=FUTURE,name=Sprint 2,startDate=<null>]",
        ],
        reporter={"name": "bo"},
        assignee=None,
    )
    assert parse_issue(raw, ctx).item["sprint"] == "Sprint 2"  # none active: the latest


# ---------------------------------------------------------------- times and JQL


def test_times_without_an_offset_are_refused() -> None:
    with pytest.raises(ParseError):
        parse_time("2025-03-04T10:15:30.000")
    assert parse_time("2025-03-04T10:15:30.000-0800") == dt.datetime(
        2025, 3, 4, 18, 15, 30, tzinfo=UTC
    )


def test_durations_follow_jiras_default_working_week() -> None:
    assert duration_seconds("1w 2d 3h 20m") == (40 + 16 + 3) * 3600 + 20 * 60
    with pytest.raises(ParseError):
        duration_seconds("soon")


def test_jql_dates_are_written_in_the_bot_users_timezone_and_rounded_down() -> None:
    moment = dt.datetime(2025, 6, 1, 4, 0, 59, 900000, tzinfo=UTC)
    # Los Angeles is UTC-7 in June: 04:00 UTC is 21:00 the day before
    assert jql_time(moment, ZoneInfo("America/Los_Angeles")) == "2025-05-31 21:00"
    assert jql_time(moment, ZoneInfo("Asia/Kolkata")) == "2025-06-01 09:30"
    assert jql_time(moment, ZoneInfo("UTC")) == "2025-06-01 04:00"


def test_a_jql_date_in_the_repeated_hour_never_lands_after_the_moment() -> None:
    dublin = ZoneInfo("Europe/Dublin")
    # 2025-10-26 01:30 happens twice in Dublin (01:30 IST = 00:30 UTC, then 01:30 GMT)
    moment = dt.datetime(2025, 10, 26, 0, 45, tzinfo=UTC)  # 01:45 IST, the first 01:45
    literal = jql_time(moment, dublin)
    local = dt.datetime.strptime(literal, "%Y-%m-%d %H:%M")
    readings = [local.replace(tzinfo=dublin, fold=f).astimezone(UTC) for f in (0, 1)]
    assert max(readings) <= moment


# Filters the sandbox's JQL can evaluate, with ORDER BY, quotes and escapes inside values
QUOTED_FILTERS = [
    'project = "law and order by night"',
    "project = 'law and order by night' ORDER BY created DESC",
    r'project in (DS, "say \"order by\" twice", ENG) order by key',
    r"""project = 'it\'s order by' OR issuetype = "Bug" ORDER BY created""",
    r'project = "C:\\" order by key',
    """project = "it's ORDER BY" AND issuetype in ('a "b" order by c', Story)""",
]


@pytest.mark.parametrize("configured", QUOTED_FILTERS)
def test_the_time_bound_never_cuts_a_quoted_value(configured: str) -> None:
    """The sandbox reads the query as Jira would: the filter's values come through whole."""
    from sandbox.jira import jql

    since = "2025-05-31 21:00"
    asked = jql.parse(issue_jql(configured, since))
    filter_alone = jql.parse(configured)
    assert asked.where == jql.BoolOp(
        "and", (filter_alone.where, jql.Clause("updated", ">=", (since,)))
    )
    assert asked.order == (("updated", True),)


def test_the_issue_query_keeps_the_configured_filter_and_orders_by_updated() -> None:
    assert issue_jql("project in (DS, ENG) order by created DESC", "2025-05-31 21:00") == (
        '(project in (DS, ENG)) AND updated >= "2025-05-31 21:00" ORDER BY updated ASC'
    )
    assert issue_jql("", "1970-01-01 00:00") == 'updated >= "1970-01-01 00:00" ORDER BY updated ASC'
