"""The fake Jira, driven over real HTTP by the real `jira` client, checked against the world and real recordings."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import jira
import pytest
import realdata
import requests
from jira.exceptions import JIRAError
from jira.resources import Issue as JiraIssue

from sandbox.server import Sandbox
from sandbox.world.model import World
from tests.sandbox.jira.worlds import (
    BOT,
    BOT_EMAIL,
    BOT_TZ,
    LONG_HISTORY,
    LONG_HISTORY_KEY,
    small_world,
)

TOKEN = "jira-token"


@pytest.fixture(scope="module")
def world() -> World:
    return small_world()


@pytest.fixture(scope="module")
def cloud(world: World) -> Iterator[Sandbox]:
    with Sandbox(world) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Sandbox]:
    with Sandbox(world, jira_cloud=False) as sandbox:
        yield sandbox


def login(sandbox: Sandbox) -> tuple[str, str]:
    return sandbox.state.world.bot_email, TOKEN


def client(sandbox: Sandbox, **options: Any) -> jira.JIRA:
    return jira.JIRA(server=sandbox.jira_url, basic_auth=login(sandbox), **options)


def get(sandbox: Sandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{sandbox.jira_url}{path}", params=params, auth=login(sandbox), timeout=10)


def post(sandbox: Sandbox, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{sandbox.jira_url}{path}", json=body, auth=login(sandbox), timeout=10)


def visible(world: World) -> list[Any]:
    return [i for i in world.issues if i.created <= world.clock]


def expected_updated(issue: Any, clock: dt.datetime) -> dt.datetime:
    """`updated` worked out from the world: the last change, comment or worklog at or before the clock."""
    moments = [issue.created]
    moments += [h.at for h in issue.histories if h.at <= clock]
    moments += [c.at for c in issue.comments if c.at <= clock]
    moments += [w.started for w in issue.worklogs if w.started <= clock]
    return max(moments)


def status_at(issue: Any, moment: dt.datetime) -> str:
    changes = [
        it.to_string
        for h in issue.histories
        if h.at <= moment
        for it in h.items
        if it.field == "status"
    ]
    return changes[-1] if changes else issue.initial_status


def parse_jira_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def all_pages(
    jira_client: jira.JIRA, jql: str, page: int, **kw: Any
) -> tuple[list[JiraIssue], int]:
    """Every issue of a Cloud search, following `nextPageToken` by hand with a small page size."""
    found: list[JiraIssue] = []
    token, pages = None, 0
    while True:
        result = jira_client.enhanced_search_issues(jql, nextPageToken=token, maxResults=page, **kw)
        found += result
        pages += 1
        token = result.nextPageToken
        if not token:
            return found, pages


# ---------------------------------------------------------------- listing issues


def test_cloud_client_lists_every_visible_issue_across_small_pages(
    cloud: Sandbox, world: World
) -> None:
    expected = [i.key for i in sorted(visible(world), key=lambda i: i.created)]
    assert len(expected) < len(world.issues), "the world must hold issues from after the clock"

    found, pages = all_pages(client(cloud), "project in (DS, ENG) ORDER BY created ASC", page=7)

    assert [i.key for i in found] == expected
    assert pages == -(-len(expected) // 7)


def test_cloud_search_by_post_returns_what_get_returns(cloud: Sandbox) -> None:
    jql = "project = ENG ORDER BY updated DESC, key ASC"
    by_get = client(cloud).enhanced_search_issues(jql, maxResults=False)
    by_post = client(cloud).enhanced_search_issues(jql, maxResults=False, use_post=True)
    assert [i.key for i in by_post] == [i.key for i in by_get]
    assert len(by_get) > 0


def test_search_jql_pages_say_whether_they_are_last(cloud: Sandbox, world: World) -> None:
    first = get(cloud, "/rest/api/3/search/jql", jql="project = DS", maxResults=5).json()
    assert first["isLast"] is False and isinstance(first["nextPageToken"], str)
    assert first["issues"] and set(first["issues"][0]) == {"id"}, (
        "search/jql returns ids only by default"
    )

    everything = get(cloud, "/rest/api/3/search/jql", jql="project = DS", maxResults=1000).json()
    assert everything["isLast"] is True and "nextPageToken" not in everything
    assert len(everything["issues"]) == len([i for i in visible(world) if i.project == "DS"])


def test_server_client_pages_with_start_at_and_total(server: Sandbox, world: World) -> None:
    jira_server = client(server, options={"default_batch_size": {JiraIssue: 6}})
    assert not jira_server._is_cloud

    found = jira_server.search_issues("project in (DS, ENG) ORDER BY key ASC", maxResults=False)

    expected = sorted(
        (i.key for i in visible(world)), key=lambda k: (k.split("-")[0], int(k.split("-")[1]))
    )
    assert [i.key for i in found] == expected
    page = get(server, "/rest/api/2/search", jql="project = DS", startAt=3, maxResults=4).json()
    assert (page["startAt"], page["maxResults"], len(page["issues"])) == (3, 4, 4)
    assert page["total"] == len([i for i in visible(world) if i.project == "DS"])


def test_server_has_no_cloud_only_endpoints(server: Sandbox) -> None:
    assert get(server, "/rest/api/3/myself").status_code == 404
    assert get(server, "/rest/api/2/search/jql", jql="project = DS").status_code == 404
    assert get(server, f"/rest/api/2/issue/{LONG_HISTORY_KEY}/changelog").status_code == 404
    assert (
        post(server, "/rest/api/2/changelog/bulkfetch", {"issueIdsOrKeys": ["DS-1"]}).status_code
        == 404
    )
    assert get(server, "/rest/api/2/serverInfo").json()["deploymentType"] == "Server"


def test_old_search_is_gone_on_cloud(cloud: Sandbox) -> None:
    for version in ("2", "3"):
        for response in (
            get(cloud, f"/rest/api/{version}/search", jql="project = DS"),
            post(cloud, f"/rest/api/{version}/search", {"jql": "project = DS"}),
        ):
            assert response.status_code == 410
            body = response.json()
            assert body["errors"] == {} and "/rest/api/3/search/jql" in body["errorMessages"][0]


# ---------------------------------------------------------------- shapes against real recordings


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(ours: Any, theirs: Any, path: str = "$") -> int:
    """Where both sides have a (non-null) value, it has the same JSON type; returns how many keys were compared."""
    if ours is None or theirs is None:
        return 0
    assert json_type(ours) == json_type(theirs), (
        f"{path}: {json_type(ours)} here, {json_type(theirs)} in the recording"
    )
    compared = 0
    if isinstance(theirs, dict):
        for key in theirs.keys() & ours.keys():
            compared += 1 + assert_same_shape(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list) and theirs and ours:
        compared += assert_same_shape(ours[0], theirs[0], f"{path}[0]")
    return compared


def recording(name: str) -> Any:
    return json.loads((realdata.folder("jira") / name).read_text())


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_issue_shape_matches_the_recorded_issue(
    deployment: str, request: pytest.FixtureRequest
) -> None:
    sandbox: Sandbox = request.getfixturevalue(deployment)
    theirs = recording("issue_10002.json")
    ours = get(sandbox, "/rest/api/2/issue/DS-5").json()

    assert assert_same_shape(ours, theirs) > 40
    wanted = {
        "summary",
        "issuetype",
        "project",
        "status",
        "priority",
        "assignee",
        "reporter",
        "created",
        "updated",
        "labels",
        "components",
        "comment",
        "worklog",
        "resolution",
        "resolutiondate",
    }
    assert wanted <= ours["fields"].keys()
    searched = get(
        sandbox,
        "/rest/api/2/search" if deployment == "server" else "/rest/api/2/search/jql",
        jql="key = DS-5",
        fields="*navigable",
    ).json()
    recorded_search = recording("project_SAMPLEPROJECT.issues.json")["issues"][0]
    assert assert_same_shape(searched["issues"][0], recorded_search) > 30
    assert "comment" not in searched["issues"][0]["fields"], "comments are not a navigable field"


@pytest.mark.parametrize(
    ("path", "recorded"),
    [
        ("/rest/api/2/issue/DS-5/comment", "issue_10002_comment.json"),
        ("/rest/api/2/issue/DS-5/worklog", "issue_10002_worklog.json"),
        ("/rest/api/2/status", "status.json"),
        ("/rest/api/2/statuscategory", "statuscategory.json"),
        ("/rest/api/2/priority", "priority.json"),
        ("/rest/api/2/issuetype", "issuetype.json"),
        ("/rest/api/2/field", "field.json"),
    ],
)
def test_metadata_shapes_match_the_recordings(cloud: Sandbox, path: str, recorded: str) -> None:
    ours, theirs = get(cloud, path).json(), recording(recorded)
    items = ours if isinstance(ours, list) else ours.get("comments") or ours.get("worklogs")
    assert items, f"{path} returned nothing to compare"
    template = (
        theirs[0]
        if isinstance(theirs, list)
        else (theirs.get("comments") or theirs.get("worklogs"))[0]
    )
    for item in items:
        assert assert_same_shape(item, template) >= 4
    if isinstance(theirs, dict):
        assert assert_same_shape(ours, theirs) >= 4


def test_status_categories_are_jiras_four(cloud: Sandbox) -> None:
    ours = {
        c["key"]: (c["id"], c["colorName"], c["name"])
        for c in get(cloud, "/rest/api/3/statuscategory").json()
    }
    theirs = {
        c["key"]: (c["id"], c["colorName"], c["name"]) for c in recording("statuscategory.json")
    }
    assert ours == theirs


def test_custom_fields_are_found_by_schema_and_filled(cloud: Sandbox, world: World) -> None:
    fields = client(cloud).fields()
    by_type = {f["schema"].get("custom"): f["id"] for f in fields if f["custom"]}
    sprint = by_type["com.pyxis.greenhopper.jira:gh-sprint"]
    epic = by_type["com.pyxis.greenhopper.jira:gh-epic-link"]
    points = next(f["id"] for f in fields if f["name"] == "Story Points")

    source = next(i for i in visible(world) if i.sprint)
    raw = client(cloud).issue(source.key).raw["fields"]
    assert raw[points] == source.story_points
    assert [s["name"] for s in raw[sprint]] == [source.sprint]
    assert raw[epic] == source.epic_key
    named = get(
        cloud, "/rest/api/3/search/jql", jql=f"key = {source.key}", fields="*all", expand="names"
    )
    assert named.json()["names"][points] == "Story Points"


def test_v3_speaks_document_format_and_v2_plain_text(cloud: Sandbox, world: World) -> None:
    source = next(i for i in visible(world) if i.comments)
    v3 = get(cloud, f"/rest/api/3/issue/{source.key}").json()["fields"]
    v2 = get(cloud, f"/rest/api/2/issue/{source.key}").json()["fields"]
    assert v2["description"] == source.description
    assert v3["description"]["type"] == "doc" and v3["description"]["version"] == 1
    texts = [n["text"] for p in v3["description"]["content"] for n in p["content"]]
    assert "\n\n".join(texts) == source.description
    assert v2["comment"]["comments"][0]["body"] == source.comments[0].body
    assert v3["comment"]["comments"][0]["body"]["type"] == "doc"


def test_users_and_projects_are_listed_as_jira_lists_them(cloud: Sandbox, world: World) -> None:
    jira_client = client(cloud)
    ada = jira_client.user("acc-ada")
    assert (ada.accountId, ada.displayName, ada.emailAddress) == (
        "acc-ada",
        "Ada Byrne",
        "ada@acme.example",
    )
    assert ada.timeZone == "Europe/Dublin"
    assert sorted(p.key for p in jira_client.projects()) == sorted(world.projects)
    assert get(cloud, "/rest/api/3/user", accountId="nobody").status_code == 404
    missing = get(cloud, "/rest/api/3/issue/DS-999")
    assert missing.status_code == 404 and missing.json()["errorMessages"]


def test_myself_is_the_bot_in_its_profile_timezone(cloud: Sandbox) -> None:
    me = client(cloud).myself()
    assert (me["accountId"], me["timeZone"], me["active"]) == (BOT, BOT_TZ, True)
    assert me["emailAddress"] == BOT_EMAIL
    created = get(cloud, "/rest/api/2/issue/DS-1").json()["fields"]["created"]
    assert created.endswith(("-0700", "-0800")), "timestamps are rendered in the caller's timezone"


# ---------------------------------------------------------------- changelogs


def test_inline_changelogs_are_cut_and_the_changelog_endpoints_complete_them(
    cloud: Sandbox, world: World
) -> None:
    source = next(i for i in world.issues if i.key == LONG_HISTORY_KEY)
    all_ids = [h.id for h in source.histories]
    assert len(all_ids) == LONG_HISTORY

    searched = client(cloud).enhanced_search_issues(
        f"key = {LONG_HISTORY_KEY}", expand="changelog"
    )[0]
    assert searched.changelog.total == LONG_HISTORY
    assert [h.id for h in searched.changelog.histories] == all_ids[::-1][:40], (
        "the 40 most recent, newest first"
    )
    fetched = client(cloud).issue(LONG_HISTORY_KEY, expand="changelog")
    assert [h.id for h in fetched.changelog.histories] == all_ids[::-1][:100]

    paged, start = [], 0
    while True:
        page = get(
            cloud, f"/rest/api/3/issue/{LONG_HISTORY_KEY}/changelog", startAt=start, maxResults=25
        ).json()
        assert page["total"] == LONG_HISTORY and page["startAt"] == start
        paged += [h["id"] for h in page["values"]]
        start += page["maxResults"]
        if page["isLast"]:
            break
    assert paged == all_ids


def test_bulk_changelog_fetch_returns_every_visible_history_oldest_first(
    cloud: Sandbox, world: World
) -> None:
    issues = visible(world)
    expected = {i.id: [h.id for h in i.histories if h.at <= world.clock] for i in issues}
    got: dict[str, list[str]] = {}
    pages: list[list[dt.datetime]] = []
    token = None
    while True:
        body: dict[str, Any] = {"issueIdsOrKeys": [i.key for i in issues], "maxResults": 17}
        if token:
            body["nextPageToken"] = token
        answer = post(cloud, "/rest/api/3/changelog/bulkfetch", body).json()
        pages.append([])
        for log in answer["issueChangeLogs"]:
            got.setdefault(log["issueId"], []).extend(h["id"] for h in log["changeHistories"])
            pages[-1] += [parse_jira_time(h["created"]) for h in log["changeHistories"]]
        token = answer.get("nextPageToken")
        if not token:
            break

    assert {k: v for k, v in expected.items() if v} == got
    assert [len(p) for p in pages[:-1]] == [17] * (len(pages) - 1)
    assert all(max(a) <= min(b) for a, b in itertools.pairwise(pages)), "pages run oldest first"


def test_bulk_changelog_fetch_filters_fields_and_refuses_too_many_issues(cloud: Sandbox) -> None:
    def items(field_ids: list[str]) -> list[str]:
        body = {"issueIdsOrKeys": ["DS-9", "ENG-4"], "fieldIds": field_ids}
        logs = post(cloud, "/rest/api/3/changelog/bulkfetch", body).json()["issueChangeLogs"]
        return [i["fieldId"] for log in logs for h in log["changeHistories"] for i in h["items"]]

    assert {"status", "assignee"} <= set(items([]))
    assert set(items(["status"])) == {"status"}
    too_many = {"issueIdsOrKeys": [f"DS-{n}" for n in range(1001)]}
    assert post(cloud, "/rest/api/3/changelog/bulkfetch", too_many).status_code == 400


def test_server_inline_changelog_is_complete(server: Sandbox, world: World) -> None:
    source = next(i for i in world.issues if i.key == LONG_HISTORY_KEY)
    fetched = client(server).issue(LONG_HISTORY_KEY, expand="changelog")
    assert [h.id for h in fetched.changelog.histories] == [h.id for h in source.histories]


# ---------------------------------------------------------------- JQL


def search_keys(sandbox: Sandbox, jql: str) -> set[str]:
    answer = get(sandbox, "/rest/api/3/search/jql", jql=jql, fields="key", maxResults=5000)
    assert answer.status_code == 200, answer.text
    return {i["key"] for i in answer.json()["issues"]}


def test_jql_updated_dates_are_read_in_the_bots_timezone(cloud: Sandbox, world: World) -> None:
    tz = ZoneInfo(BOT_TZ)
    updated = {i.key: expected_updated(i, world.clock) for i in visible(world)}
    threshold = wall = None
    for moment in sorted(updated.values())[3:-3]:
        candidate = moment.astimezone(tz).replace(second=0, microsecond=0, tzinfo=None)
        as_bot = candidate.replace(tzinfo=tz)
        as_utc = candidate.replace(tzinfo=dt.UTC)
        if {k for k, u in updated.items() if u >= as_bot} != {
            k for k, u in updated.items() if u >= as_utc
        }:
            threshold, wall = as_bot, candidate
            break
    assert threshold is not None and wall is not None, (
        "no issue was updated in the hours the timezone shifts"
    )

    expected = {k for k, u in updated.items() if u >= threshold}
    assert search_keys(cloud, f'updated >= "{wall:%Y/%m/%d %H:%M}"') == expected
    assert search_keys(cloud, f"updated >= '{wall:%Y-%m-%d %H:%M}'") == expected
    assert search_keys(cloud, f'updated < "{wall:%Y/%m/%d %H:%M}"') == set(updated) - expected
    day = wall.replace(hour=0, minute=0)
    from_midnight = {k for k, u in updated.items() if u >= day.replace(tzinfo=tz)}
    assert search_keys(cloud, f"updated >= {day:%Y-%m-%d}") == from_midnight
    assert search_keys(
        cloud, f'updated > "{day:%Y/%m/%d}" AND updated <= "{wall:%Y/%m/%d %H:%M}"'
    ) == {k for k, u in updated.items() if day.replace(tzinfo=tz) < u <= threshold}


def test_jql_filters_projects_types_keys_and_created(cloud: Sandbox, world: World) -> None:
    issues = visible(world)
    assert search_keys(cloud, "project = DS") == {i.key for i in issues if i.project == "DS"}
    assert search_keys(cloud, 'issuetype = "Support Request" AND project in (DS, ENG)') == {
        i.key for i in issues if i.issue_type == "Support Request"
    }
    assert search_keys(
        cloud, "issuetype in (Bug, Task) AND (project = ENG OR key in (DS-1, DS-3))"
    ) == {
        i.key
        for i in issues
        if i.issue_type in ("Bug", "Task") and (i.project == "ENG" or i.key in ("DS-1", "DS-3"))
    }
    cut = issues[10].created
    assert search_keys(
        cloud, f'created >= "{cut.astimezone(ZoneInfo(BOT_TZ)):%Y/%m/%d %H:%M}"'
    ) == {i.key for i in issues if i.created >= cut.replace(second=0)}
    ordered = get(
        cloud,
        "/rest/api/3/search/jql",
        jql="project = ENG ORDER BY created DESC",
        fields="created",
        maxResults=100,
    ).json()["issues"]
    assert [i["key"] for i in ordered] == [
        i.key for i in sorted(issues, key=lambda i: i.created, reverse=True) if i.project == "ENG"
    ]


@pytest.mark.parametrize(
    "jql",
    [
        "status = Done",
        "project = DS ORDER BY priority",
        "summary ~ printer",
        "order by key desc",
        "project = NOPE",
        'updated >= "2025/13/45"',
        "project = DS AND NOT issuetype = Bug",
        "project = (DS",
        "assignee = currentUser()",
    ],
)
def test_unsupported_or_invalid_jql_is_answered_400_like_jira(cloud: Sandbox, jql: str) -> None:
    answer = get(cloud, "/rest/api/3/search/jql", jql=jql)
    assert answer.status_code == 400
    body = answer.json()
    assert (
        body["errors"] == {}
        and body["errorMessages"]
        and all(isinstance(m, str) for m in body["errorMessages"])
    )


def test_client_raises_on_bad_jql(cloud: Sandbox) -> None:
    with pytest.raises(JIRAError) as raised:
        client(cloud).enhanced_search_issues("status = Done", maxResults=False)
    assert raised.value.status_code == 400 and "status" in raised.value.text


# ---------------------------------------------------------------- auth and misbehaviour


def test_wrong_token_is_401_and_bearer_token_is_accepted(cloud: Sandbox) -> None:
    with pytest.raises(JIRAError) as raised:
        jira.JIRA(server=cloud.jira_url, basic_auth=(BOT_EMAIL, "wrong"), max_retries=0)
    assert raised.value.status_code == 401
    assert requests.get(f"{cloud.jira_url}/rest/api/3/myself", timeout=10).status_code == 401
    someone_else = ("someone@else.example", TOKEN)
    assert (
        requests.get(
            f"{cloud.jira_url}/rest/api/3/myself", auth=someone_else, timeout=10
        ).status_code
        == 401
    )
    assert jira.JIRA(server=cloud.jira_url, token_auth=TOKEN).myself()["accountId"] == BOT


def jira_requests(sandbox: Sandbox) -> int:
    return sandbox.stats()["services"].get("jira", 0)


def test_client_waits_out_429_then_succeeds_or_gives_up_like_on_jira(cloud: Sandbox) -> None:
    jira_client = client(cloud, max_retries=1)
    try:
        cloud.set_faults("jira", rate_limit_every=2, retry_after_seconds=1)
        if jira_requests(cloud) % 2 == 0:  # make the next request an even one, answered 429
            get(cloud, "/rest/api/2/serverInfo")
        before = jira_requests(cloud)
        assert jira_client.issue("DS-1").key == "DS-1"
        assert jira_requests(cloud) - before == 2, "one 429 with Retry-After, then the retry"

        cloud.set_faults("jira", rate_limit_every=1)
        with pytest.raises(JIRAError) as raised:
            jira_client.issue("DS-1")
        assert raised.value.status_code == 429
    finally:
        cloud.clear_faults()


def test_client_does_not_retry_a_503_without_retry_after(cloud: Sandbox) -> None:
    jira_client = client(cloud)
    try:
        cloud.set_faults("jira", error_burst=1, error_status=503)
        with pytest.raises(JIRAError) as raised:
            jira_client.issue("DS-1")
        assert raised.value.status_code == 503
        assert jira_client.issue("DS-1").key == "DS-1", "the burst is over"
    finally:
        cloud.clear_faults()


def broken(fields: dict[str, Any], status_ids: set[str]) -> bool:
    try:
        parse_jira_time(fields["created"])
    except (KeyError, ValueError):
        return True
    return "issuetype" not in fields or fields["status"]["id"] not in status_ids


def test_malformed_records_break_only_when_the_fault_is_on(cloud: Sandbox, world: World) -> None:
    status_ids = {s["id"] for s in get(cloud, "/rest/api/2/status").json()}
    keys = [i.key for i in visible(world)]
    bad = {i.key for i in visible(world) if i.malformed}
    assert bad

    def fetch() -> dict[str, dict[str, Any]]:
        answer = get(
            cloud,
            "/rest/api/3/search/jql",
            jql="project in (DS, ENG)",
            fields="*all",
            maxResults=100,
        )
        return {i["key"]: i["fields"] for i in answer.json()["issues"]}

    clean = fetch()
    try:
        cloud.set_faults("jira", malformed=True)
        damaged = fetch()
    finally:
        cloud.clear_faults()
    assert not any(broken(clean[k], status_ids) for k in keys)
    assert {k for k in keys if broken(damaged[k], status_ids)} == bad
    assert all(damaged[k] == clean[k] for k in keys if k not in bad)


# ---------------------------------------------------------------- time moves


def test_advancing_the_clock_reveals_new_issues_transitions_and_comments() -> None:
    world = small_world()
    jql = "project in (DS, ENG) ORDER BY key ASC"
    moved = next(
        i
        for i in world.issues
        if i.created <= world.clock and status_at(i, world.clock) != status_at(i, world.end)
    )
    commented = next(
        i
        for i in world.issues
        if i.created <= world.clock and any(c.at > world.clock for c in i.comments)
    )
    with Sandbox(world) as sandbox:
        jira_client = client(sandbox)
        before = {i.key for i in jira_client.enhanced_search_issues(jql, maxResults=False)}
        status_before = jira_client.issue(moved.key).fields.status.name
        comments_before = len(jira_client.comments(commented.key))
        old_clock = world.clock

        sandbox.advance(world.end)

        after = {i.key for i in jira_client.enhanced_search_issues(jql, maxResults=False)}
        assert before < after and after == {i.key for i in world.issues if i.created <= world.end}
        now = jira_client.issue(moved.key)
        assert status_before == status_at(moved, old_clock)
        assert now.fields.status.name == status_at(moved, world.end) != status_before
        assert parse_jira_time(now.fields.updated) == expected_updated(moved, world.end) > old_clock
        assert len(jira_client.comments(commented.key)) > comments_before
        since = old_clock.astimezone(ZoneInfo(BOT_TZ))
        assert moved.key in search_keys(sandbox, f'updated >= "{since:%Y/%m/%d %H:%M}"')


def test_generated_tiny_world_serves_every_issue_through_the_client() -> None:
    generator = pytest.importorskip("sandbox.world.generate")
    world = generator.generate(1, "tiny", end=dt.date(2025, 6, 30))
    with Sandbox(world) as sandbox:
        jira_client = client(sandbox)
        projects = ", ".join(sorted(world.projects))
        found = jira_client.enhanced_search_issues(
            f"project in ({projects}) ORDER BY created ASC", maxResults=False, expand="changelog"
        )
        assert [i.key for i in found] == [
            i.key for i in sorted(visible(world), key=lambda i: i.created)
        ]
        sample = found[len(found) // 2]
        source = next(i for i in world.issues if i.key == sample.key)
        assert sample.changelog.total == len([h for h in source.histories if h.at <= world.clock])
        assert (
            assert_same_shape(
                sample.raw, recording("project_SAMPLEPROJECT.issues.json")["issues"][0]
            )
            > 30
        )
