"""The sandbox world generator: determinism, a consistent world, and ground truth the records really carry."""

from __future__ import annotations

import datetime as dt
import fnmatch
import itertools
import re
from collections import defaultdict
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from config.schema import Config
from sandbox.orgfile import org_file
from sandbox.world.generate import generate
from sandbox.world.model import Issue, PullRequest, World
from sandbox.world.truth import ALL_CATEGORIES, TEAM_NAMES, truth_report

END = dt.date(2025, 6, 30)  # a Monday: the default truth window ends on the Sunday before
KEY = re.compile(r"\b([A-Za-z][A-Za-z0-9]+-\d+)\b")


@pytest.fixture(scope="module")
def world() -> World:
    return generate(7, "tiny", END)


@pytest.fixture(scope="module")
def small() -> World:
    return generate(3, "small", END)


@pytest.fixture(scope="module")
def config(world: World) -> Config:
    return Config.model_validate(
        org_file(world, jira_url="http://127.0.0.1:1", github_url="http://127.0.0.1:2")
    )


def _fingerprint(w: World) -> tuple[object, ...]:
    return (w.people, w.issues, w.pulls, w.cluster, w.reorg_date, w.start, w.clock, w.end)


# ---- determinism and shape ---------------------------------------------------------------


def test_same_seed_gives_an_identical_world(world: World) -> None:
    again = generate(7, "tiny", END)
    assert _fingerprint(again) == _fingerprint(world)
    for name in ("person_week_fte", "person_week_load"):
        assert np.array_equal(again.truth[name], world.truth[name], equal_nan=True)
    assert again.truth["reorg"] == world.truth["reorg"]


def test_a_different_seed_gives_a_different_world(world: World) -> None:
    other = generate(8, "tiny", END)
    assert [p.name for p in other.people] != [p.name for p in world.people]
    assert [i.created for i in other.issues] != [i.created for i in world.issues]


def test_an_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        generate(1, "huge", END)


def test_the_clock_is_the_end_date_and_the_world_runs_three_weeks_past_it(world: World) -> None:
    assert world.clock == dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
    assert world.end == world.clock + dt.timedelta(days=21)
    assert world.start.astimezone(ZoneInfo(world.timezone)).weekday() == 0
    assert world.start <= min(i.created for i in world.issues)
    later = [h for i in world.issues for h in i.histories if world.clock < h.at <= world.end]
    assert later, "advancing the clock must reveal new transitions"
    assert any(world.clock < p.created <= world.end for p in world.pulls)
    assert any(world.clock < p.created <= world.end for p in world.cluster.pods)
    assert all(h.at <= world.end for i in world.issues for h in i.histories)


# ---- people, teams, reorg -----------------------------------------------------------------


def test_the_reorg_moves_every_squad_engineer_to_infra_or_enablement(world: World) -> None:
    assert world.reorg_date.weekday() == 0
    span = world.clock.date() - world.start.date()
    assert abs((world.reorg_date - world.start.date()) - span / 2) <= dt.timedelta(days=14)
    moved: dict[str, int] = defaultdict(int)
    for person in world.people:
        squad = [m for m in person.memberships if m.team == "Squad"]
        for m in squad:
            assert m.end == world.reorg_date - dt.timedelta(days=1)
            after = [n for n in person.memberships if n.start == world.reorg_date]
            assert len(after) == 1 and after[0].team in ("Infra", "Enablement")
            moved[after[0].team] += 1
    assert moved["Infra"] >= 1 and moved["Enablement"] >= 1


def test_memberships_are_contiguous(small: World) -> None:
    for person in small.people:
        ms = person.memberships
        for a, b in itertools.pairwise(ms):
            assert a.end is not None and b.start == a.end + dt.timedelta(days=1)
        assert all(m.end is None or m.end >= m.start for m in ms)


def test_data_scientists_stay_in_research_and_some_people_join_or_leave(small: World) -> None:
    for person in small.people:
        teams = {m.team for m in person.memberships}
        assert "Research" not in teams or teams == {"Research"}
    first = min(m.start for p in small.people for m in p.memberships)
    assert any(p.memberships and p.memberships[0].start > first for p in small.people)
    assert any(p.memberships and p.memberships[-1].end is not None for p in small.people)


def test_about_a_third_of_tiny_are_engineers(world: World) -> None:
    org = [p for p in world.people if p.in_org_file]
    engineers = [p for p in org if any(m.team != "Research" for m in p.memberships)]
    assert 8 <= len(org) <= 12
    assert 0.25 <= len(engineers) / len(org) <= 0.45


def test_identities_do_not_all_line_up(world: World, config: Config) -> None:
    org = [p for p in world.people if p.in_org_file]
    differ = [p for p in org if p.github_login != p.email.split("@")[0]]
    assert len(differ) > len(org) / 2
    assert len({p.github_login for p in world.people}) == len(world.people)
    assert len({p.jira_account_id for p in world.people}) == len(world.people)
    unmapped = [p for p in world.people if not p.in_org_file]
    assert unmapped and all(p.name not in {q.name for q in config.org.people} for p in unmapped)
    authors = {pr.author for pr in world.pulls}
    assert {p.github_login for p in unmapped} <= authors
    assert any(p.jira_timezone != "UTC" for p in world.people)
    assert world.bot_timezone == "America/Los_Angeles"
    assert world.timezone == "Europe/Dublin"


# ---- Jira -------------------------------------------------------------------------------


def _stage(world: World, status: str) -> str:
    if status == "Blocked":
        return "waiting"
    category = {s.name: s.category for s in world.statuses}[status]
    return {"new": "todo", "indeterminate": "active", "done": "done"}[category]


def test_issue_histories_are_chronological_and_consistent(small: World) -> None:
    ids = {s.name: s.id for s in small.statuses}
    accounts = {p.jira_account_id: p.name for p in small.people}
    for issue in small.issues:
        status, assignee, last = issue.initial_status, issue.initial_assignee, issue.created
        for h in issue.histories:
            assert h.at >= last, issue.key
            last = h.at
            for item in h.items:
                if item.field == "status":
                    assert (item.from_string, item.from_id) == (status, ids[status]), issue.key
                    assert item.to_id == ids[item.to_string]
                    status = item.to_string
                elif item.field == "assignee":
                    assert item.from_id == assignee, issue.key
                    assert item.to_string == accounts.get(item.to_id)
                    assignee = item.to_id
        assert [c.at for c in issue.comments] == sorted(c.at for c in issue.comments)
        assert all(c.at >= issue.created for c in issue.comments)


def test_issues_are_sorted_by_creation_with_unique_keys(world: World) -> None:
    assert [i.created for i in world.issues] == sorted(i.created for i in world.issues)
    assert len({i.key for i in world.issues}) == len(world.issues)
    assert len({i.id for i in world.issues}) == len(world.issues)
    assert {i.project for i in world.issues} <= set(world.projects)


def test_histories_show_every_workflow_shape(small: World) -> None:
    paths = defaultdict(int)
    for issue in small.issues:
        steps = [
            (i.from_string, i.to_string)
            for h in issue.histories
            for i in h.items
            if i.field == "status"
        ]
        for step in steps:
            paths[step] += 1
        if steps and steps[-1][1] != "Done":
            paths["open"] += 1
        if not steps:
            paths["never moved"] += 1
    for shape in [
        ("To Do", "In Progress"),
        ("In Progress", "In Review"),
        ("In Review", "Done"),
        ("In Progress", "Blocked"),
        ("Blocked", "In Progress"),
        ("Done", "In Progress"),
        ("To Do", "Done"),
        ("In Review", "In Progress"),
        "open",
        "never moved",
    ]:
        assert paths[shape] > 0, shape
    fields = {i.field for issue in small.issues for h in issue.histories for i in h.items}
    assert {"status", "assignee", "Rank", "Sprint", "Story Points"} <= fields
    assert any(len(i.histories) > 100 for i in small.issues)
    assert any(i.worklogs for i in small.issues)
    assert any(i.epic_key for i in small.issues) and any(
        i.issue_type == "Epic" for i in small.issues
    )
    assert {"infra", "interrupt"} <= {label for i in small.issues for label in i.labels}
    assert {"EKS", "Airflow"} <= {c for i in small.issues for c in i.components}


def test_a_long_lived_issue_outgrows_the_inline_changelog_even_at_tiny(world: World) -> None:
    visible = [[h for h in i.histories if h.at <= world.clock] for i in world.issues]
    assert max(len(v) for v in visible) > 100


def test_a_few_issues_and_pull_requests_are_malformed(small: World) -> None:
    bad_issues = sum(i.malformed for i in small.issues)
    bad_pulls = sum(p.malformed for p in small.pulls)
    assert 1 <= bad_issues <= 0.01 * len(small.issues)
    assert 1 <= bad_pulls <= 0.01 * len(small.pulls)


def _rule_category(issue: Issue, config: Config) -> str:
    for rule in config.categories:
        m = rule.match
        if (
            issue.project in m.jira_projects
            or issue.issue_type in m.jira_issue_types
            or set(issue.labels) & set(m.jira_labels)
            or set(issue.components) & set(m.jira_components)
            or (issue.epic_key or "") in m.jira_epics
        ):
            return rule.name
    return "uncategorized"


def test_every_issue_matches_the_org_file_rule_of_its_planned_category(
    world: World, config: Config
) -> None:
    planned = [ALL_CATEGORIES[c] for c in world.truth["issue_category"]]
    assert [_rule_category(i, config) for i in world.issues] == planned
    assert "uncategorized" in planned


def test_support_requests_are_filed_by_research_and_served_by_engineers(world: World) -> None:
    team_of = {p.jira_account_id: {m.team for m in p.memberships} for p in world.people}
    requests = [i for i in world.issues if i.issue_type == "Support Request"]
    assert requests
    for issue in requests:
        assert team_of[issue.reporter] == {"Research"}
        assignees = [i.to_id for h in issue.histories for i in h.items if i.field == "assignee"]
        assert all(a is None or "Research" not in team_of[a] for a in assignees)
        movers = {h.author for h in issue.histories if h.items[0].field == "status"}
        assert issue.reporter not in movers


# ---- GitHub -------------------------------------------------------------------------------


def test_pull_request_invariants(small: World) -> None:
    numbers = defaultdict(set)
    for pr in small.pulls:
        assert pr.number not in numbers[pr.repo]
        numbers[pr.repo].add(pr.number)
        end = pr.merged_at or pr.closed_at
        if pr.merged_at:
            assert pr.closed_at == pr.merged_at
        ready = pr.draft_until or pr.created
        if pr.draft_until:
            assert pr.created < pr.draft_until and (end is None or pr.draft_until < end)
        if pr.still_draft:
            assert pr.draft_until is None and pr.merged_at is None and not pr.reviews
        for review in pr.reviews:
            assert ready < review.submitted_at and (end is None or review.submitted_at < end)
        assert [r.submitted_at for r in pr.reviews] == sorted(r.submitted_at for r in pr.reviews)
    assert [p.created for p in small.pulls] == sorted(p.created for p in small.pulls)


def test_pull_requests_show_every_review_shape(small: World) -> None:
    def only_author(pr: PullRequest) -> bool:
        return bool(pr.reviews) and all(
            r.user == pr.author and r.state == "COMMENTED" for r in pr.reviews
        )

    assert any(only_author(pr) for pr in small.pulls)
    assert any(not pr.reviews and pr.merged_at for pr in small.pulls)
    assert any(pr.closed_at and not pr.merged_at for pr in small.pulls)
    assert any(pr.still_draft for pr in small.pulls)
    assert any(pr.draft_until for pr in small.pulls)
    rounds = [[r.state for r in pr.reviews if r.user != pr.author] for pr in small.pulls]
    assert any(s[:1] == ["CHANGES_REQUESTED"] and s[-1:] == ["APPROVED"] for s in rounds)
    linked = [pr for pr in small.pulls if KEY.search(pr.title) or KEY.search(pr.branch)]
    assert 0 < len(linked) < len(small.pulls)
    authors = {pr.author for pr in small.pulls}
    scientists = {
        p.github_login for p in small.people if any(m.team == "Research" for m in p.memberships)
    }
    assert authors & scientists


def test_linked_pull_requests_are_open_while_their_item_is_active(world: World) -> None:
    by_key = {i.key: i for i in world.issues}
    checked = 0
    for pr in world.pulls:
        keys = [k.upper() for k in KEY.findall(f"{pr.title} {pr.branch}") if k.upper() in by_key]
        if not keys or pr.still_draft:
            continue
        spans = _active_spans(world, by_key[keys[0]])
        ready, end = pr.draft_until or pr.created, pr.merged_at or pr.closed_at or world.end
        assert any(s <= ready and end <= e for _, s, e in spans), pr.title
        checked += 1
    assert checked > 10


# ---- ground truth, recomputed from the records ----------------------------------------------


def _active_spans(
    world: World, issue: Issue, until: dt.datetime | None = None
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(assignee account, from, to) while the issue was in an active stage, from its changelog alone."""
    until = until or world.end
    status, assignee, since = issue.initial_status, issue.initial_assignee, issue.created
    spans = []
    for h in [*issue.histories, None]:
        at = until if h is None or h.at > until else h.at
        if _stage(world, status) == "active" and assignee and at > since:
            if spans and spans[-1][0] == assignee and spans[-1][2] == since:
                since = spans.pop()[1]
            spans.append((assignee, since, at))
        if h is None or h.at > until:
            break
        for item in h.items:
            if item.field == "status":
                status = item.to_string
            elif item.field == "assignee":
                assignee = item.to_id
        since = h.at
    return spans


def _reference_allocation(world: World, config: Config) -> tuple[dict, dict]:
    """Person-day attribution and load (docs/metrics.md) computed straight from issues and pull requests.

    Returns ({team: {week: {category: fte}}}, {team: {week: load}}) for the default window.
    """
    tz = ZoneInfo(world.timezone)
    clock = world.clock
    first = world.start.astimezone(tz).date()
    last = clock.date() - dt.timedelta(days=1)
    last += dt.timedelta(days=6 - last.weekday())
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    bounds = [
        dt.datetime(d.year, d.month, d.day, tzinfo=tz) for d in [*days, last + dt.timedelta(days=1)]
    ]
    person_of = {p.jira: p.name for p in config.org.people}
    login_of = {p.github: p.name for p in config.org.people}
    member = {
        (p.name, d): m.team
        for p in config.org.people
        for m in p.memberships
        for d in days
        if m.covers(d)
    }
    by_key = {i.key: i for i in world.issues}
    things: dict[tuple[str, int], dict[object, str]] = defaultdict(dict)
    active_seconds: dict[tuple[str, int], float] = defaultdict(float)
    for issue in world.issues:
        category = _rule_category(issue, config)
        for account, s, e in _active_spans(world, issue, clock):
            name = person_of.get(account)
            for k in range(len(days)):
                lo, hi = max(s, bounds[k]), min(e, bounds[k + 1])
                if name and hi > lo:
                    things[(name, k)][issue.key] = category
                    active_seconds[(name, k)] += (hi - lo).total_seconds()
    for pr in world.pulls:
        name = login_of.get(pr.author)
        keys = [
            k.upper()
            for k in KEY.findall(f"{pr.title} {pr.branch} {pr.body}")
            if k.upper() in by_key
        ]
        if not name or pr.still_draft:
            continue
        s, e = pr.draft_until or pr.created, min(pr.merged_at or pr.closed_at or clock, clock)
        if keys:
            category = _rule_category(by_key[keys[0]], config)
        else:
            category = next(
                (
                    r.name
                    for r in config.categories
                    if any(fnmatch.fnmatch(pr.repo, g) for g in r.match.github_repos)
                ),
                "uncategorized",
            )
        for k in range(len(days)):
            if min(e, bounds[k + 1]) > max(s, bounds[k]) and not set(keys) & set(things[(name, k)]):
                things[(name, k)][("pr", pr.id)] = category
    fte: dict[str, dict[dt.date, dict[str, float]]] = {
        t: defaultdict(lambda: defaultdict(float)) for t in TEAM_NAMES
    }
    item_seconds: dict[str, dict[dt.date, float]] = {t: defaultdict(float) for t in TEAM_NAMES}
    member_days: dict[str, dict[dt.date, int]] = {t: defaultdict(int) for t in TEAM_NAMES}
    for k, d in enumerate(days):
        week = d - dt.timedelta(days=d.weekday())
        for p in config.org.people:
            team = member.get((p.name, d))
            if team is None:
                continue
            member_days[team][week] += 1
            item_seconds[team][week] += active_seconds[(p.name, k)]
            if d.weekday() >= 5:
                continue
            todo = things.get((p.name, k), {})
            for category in todo.values():
                fte[team][week][category] += 1 / len(todo) / 5
            if not todo:
                fte[team][week]["no tracked work"] += 1 / 5
    loads = {}
    for team in TEAM_NAMES:
        loads[team] = {}
        for week in sorted({d - dt.timedelta(days=d.weekday()) for d in days}):
            week_seconds = (
                bounds[(week - first).days + 7] - bounds[(week - first).days]
            ).total_seconds()
            members = member_days[team][week] / 7
            loads[team][week] = (
                item_seconds[team][week] / week_seconds / members if members else None
            )
    return fte, loads


def test_person_day_attribution_from_the_records_matches_the_truth(
    world: World, config: Config
) -> None:
    reference, _ = _reference_allocation(world, config)
    report = truth_report(world)
    for team in report["teams"]:
        for row in team["allocation"]["weekly"]:
            week = dt.date.fromisoformat(row["week"])
            expected = reference[team["team"]].get(week, {})
            for category, value in row["fte"].items():
                assert value == pytest.approx(expected.get(category, 0.0), abs=1e-9), (
                    team["team"],
                    week,
                    category,
                )


def test_weekly_load_from_the_records_matches_the_truth(world: World, config: Config) -> None:
    _, reference = _reference_allocation(world, config)
    report = truth_report(world)
    for team in report["teams"]:
        for row in team["load"]["weekly"]:
            expected = reference[team["team"]][dt.date.fromisoformat(row["week"])]
            if expected is None:
                assert row["load"] is None
            else:
                assert row["load"] == pytest.approx(expected, rel=1e-9), (team["team"], row["week"])


def test_truth_shares_sum_to_one_and_list_every_category(world: World) -> None:
    report = truth_report(world)
    assert report["from"] == "2025-03-31" and report["to"] == "2025-06-29"
    for team in report["teams"]:
        share = team["allocation"]["share"]
        assert list(share) == list(ALL_CATEGORIES)
        assert sum(share.values()) == pytest.approx(1.0)
        for row in team["allocation"]["weekly"]:
            assert list(row["fte"]) == list(ALL_CATEGORIES)


def test_truth_org_allocation_is_the_teams_fte_summed(world: World) -> None:
    report = truth_report(world)
    org = report["org"]
    assert org["team"] == "(all)" and org["teams"] == list(TEAM_NAMES)
    # Nobody is in two teams on one day and the people in none (the contractor, the
    # bot) count for no team, so each org week is the sum of the teams' weeks.
    weeks = [row["week"] for row in org["allocation"]["weekly"]]
    summed = {week: dict.fromkeys(ALL_CATEGORIES, 0.0) for week in weeks}
    for team in report["teams"]:
        for row in team["allocation"]["weekly"]:
            for category, fte in row["fte"].items():
                summed[row["week"]][category] += fte
    for row in org["allocation"]["weekly"]:
        assert row["fte"] == pytest.approx(summed[row["week"]], abs=1e-9), row["week"]
    totals = {c: sum(summed[w][c] for w in weeks) for c in ALL_CATEGORIES}
    everyone = sum(totals.values())
    assert everyone > 0
    share = org["allocation"]["share"]
    assert list(share) == list(ALL_CATEGORIES)
    assert share == pytest.approx({c: totals[c] / everyone for c in ALL_CATEGORIES}, abs=1e-9)
    assert sum(share.values()) == pytest.approx(1.0)


def test_truth_org_shares_are_null_in_a_window_before_anyone_joined(world: World) -> None:
    monday = world.truth["weeks"][0] - dt.timedelta(days=14)
    org = truth_report(world, monday, monday + dt.timedelta(days=6))["org"]
    assert org["allocation"]["share"] == dict.fromkeys(ALL_CATEGORIES)
    assert [w["load"] for w in org["load"]["weekly"]] == [None]


def test_truth_counts_no_time_after_the_clock(world: World) -> None:
    """Weeks past the clock hold nobody's time yet: no FTE, not 'no tracked work'.

    The world runs three weeks past its clock; `teamtide metrics` counts only days that
    have begun, so the truth must too when a window reaches past the clock.
    """
    clock = world.clock.date()
    after = clock + dt.timedelta(days=7 - clock.weekday())  # the Monday after the clock
    report = truth_report(world, after, after + dt.timedelta(days=13))
    for block in [*report["teams"], report["org"]]:
        for row in block["allocation"]["weekly"]:
            assert sum(row["fte"].values()) == 0, (block["team"], row)
        assert block["allocation"]["share"] == dict.fromkeys(ALL_CATEGORIES)
    before = truth_report(world, after - dt.timedelta(days=7), after - dt.timedelta(days=1))
    assert sum(before["org"]["allocation"]["weekly"][0]["fte"].values()) > 0


def test_truth_window_is_widened_to_whole_iso_weeks(world: World) -> None:
    report = truth_report(world, dt.date(2025, 4, 9), dt.date(2025, 5, 1))
    assert (report["from"], report["to"]) == ("2025-04-07", "2025-05-04")
    infra = next(t for t in report["teams"] if t["team"] == "Squad")
    assert [w["week"] for w in infra["load"]["weekly"]] == [
        "2025-04-07",
        "2025-04-14",
        "2025-04-21",
        "2025-04-28",
    ]


def test_truth_load_states_follow_the_baseline(world: World) -> None:
    for team in truth_report(world)["teams"]:
        load = team["load"]
        loads = [w["load"] for w in load["weekly"] if w["load"] is not None]
        if not loads:
            continue
        assert load["baseline"] == pytest.approx(float(np.median(loads)))
        for w in load["weekly"]:
            if w["load"] is not None:
                flood, drought = (
                    w["load"] >= 1.5 * load["baseline"],
                    w["load"] <= 0.5 * load["baseline"],
                )
                assert w["state"] == ("flood" if flood else "drought" if drought else "normal")
        assert load["flood_weeks"] == sum(w["state"] == "flood" for w in load["weekly"])


def test_world_truth_weekly_figures_agree_with_the_report(world: World) -> None:
    report = truth_report(world)
    weeks = world.truth["weeks"]
    for team in report["teams"]:
        fte = world.truth["team_week_fte"][team["team"]]
        for row in team["allocation"]["weekly"]:
            w = weeks.index(dt.date.fromisoformat(row["week"]))
            assert list(fte[w]) == pytest.approx(list(row["fte"].values()))


# ---- what the plan is meant to show ------------------------------------------------------------


def _shares(report: dict, team: str) -> dict[str, float]:
    return next(t for t in report["teams"] if t["team"] == team)["allocation"]["share"]


def test_planted_shares_are_near_the_targets(small: World) -> None:
    before = truth_report(small, None, small.reorg_date - dt.timedelta(days=1))
    after = truth_report(small, small.reorg_date)
    targets = small.truth["targets"]
    for report, team in [
        (before, "Squad"),
        (after, "Infra"),
        (after, "Enablement"),
        (before, "Research"),
    ]:
        share = _shares(report, team)
        for category, target in targets[team].items():
            assert share[category] == pytest.approx(target, abs=0.05), (team, category)


def test_support_is_clearly_faster_after_the_reorg(small: World) -> None:
    medians = small.truth["reorg"]
    assert (
        medians["resolution_median_hours"]["after"]
        < 0.7 * medians["resolution_median_hours"]["before"]
    )
    assert (
        medians["first_response_median_hours"]["after"]
        < 0.7 * medians["first_response_median_hours"]["before"]
    )
    comparisons = truth_report(small)["reorgs"][0]["comparisons"]
    assert all(c["n_before"] > 50 and c["n_after"] > 50 and c["change"] < -0.3 for c in comparisons)


def test_the_demand_cycle_shows_in_support_request_arrivals(small: World) -> None:
    period = small.truth["demand"]["period_weeks"]
    start = small.start.date()
    weeks = (small.clock.date() - start).days // 7
    counts = np.zeros(weeks)
    for issue in small.issues:
        w = (issue.created.date() - start).days // 7
        if issue.issue_type == "Support Request" and w < weeks:
            counts[w] += 1
    spectrum = np.abs(np.fft.rfft(counts - counts.mean()))
    frequencies = np.fft.rfftfreq(weeks)
    peak = 1 / frequencies[1 + np.argmax(spectrum[1:])]
    assert peak == pytest.approx(period, rel=0.15)


def test_engineers_load_swings_into_floods_and_droughts(small: World) -> None:
    for team in truth_report(small)["teams"]:
        if team["team"] in ("Squad", "Infra", "Enablement"):
            assert team["load"]["flood_weeks"] >= 2 and team["load"]["drought_weeks"] >= 2, team[
                "team"
            ]


# ---- the cluster -----------------------------------------------------------------------------


def test_the_cluster_has_the_expected_namespaces_and_node_groups(world: World) -> None:
    cluster = world.cluster
    assert {
        "ds-vision",
        "ds-nlp",
        "ds-forecasting",
        "infra-monitoring",
        "platform-tools",
        "scratch",
    } <= set(cluster.namespaces)
    groups = {(c.node_group, c.instance_type, c.gpu_per_node) for c in cluster.node_groups}
    assert groups == {("cpu-general", "m5.2xlarge", 0), ("gpu-a10", "g5.2xlarge", 1)}
    gpu_counts = [c.count for c in cluster.node_groups if c.node_group == "gpu-a10"]
    assert max(gpu_counts) > min(gpu_counts)


def test_gpu_pods_pend_when_capacity_is_short_and_events_say_why(world: World) -> None:
    pods, events = world.cluster.pods, world.cluster.events
    assert [p.created for p in pods] == sorted(p.created for p in pods)
    assert [e.at for e in events] == sorted(e.at for e in events)
    waited = [
        p
        for p in pods
        if p.gpu and (p.scheduled is None or p.scheduled - p.created > dt.timedelta(minutes=1))
    ]
    assert waited
    assert all(p.scheduled is None or p.scheduled >= p.created for p in pods)
    assert all(p.ended is None or (p.scheduled is not None and p.ended > p.scheduled) for p in pods)
    reasons = {e.reason for e in events}
    assert {
        "FailedScheduling",
        "TriggeredScaleUp",
        "RegisteredNode",
        "RemovingNode",
        "OOMKilling",
        "Evicted",
    } <= reasons
    message = next(e.message for e in events if e.reason == "FailedScheduling")
    assert re.match(r"0/(\d+) nodes are available: \1 Insufficient nvidia\.com/gpu\.", message)
    assert {p.termination_reason for p in pods} >= {"Completed", "OOMKilled", "Evicted"}
    assert len({e.uid for e in events}) == len(events)


def test_long_lived_services_run_from_their_deployment_on_and_never_end(world: World) -> None:
    from sandbox.world.cluster import KIND_SERVICES, SERVICES

    deployments = {name for wanted in SERVICES.values() for name, _, _ in wanted}
    deployments |= {name for name, _, _ in KIND_SERVICES.values()}

    def deployed(name: str) -> bool:  # <deployment>-<template hash>-<suffix>
        parts = name.rsplit("-", 2)
        return len(parts) == 3 and parts[0] in deployments and len(parts[1]) == 10

    services = [p for p in world.cluster.pods if deployed(p.name)]
    configured = {ns for ns, wanted in SERVICES.items() if wanted}
    assert {p.namespace for p in services} >= configured & set(world.cluster.namespaces)
    assert all(p.ended is None and p.termination_reason is None and p.gpu == 0 for p in services)
    assert all(p.scheduled is not None and p.node_group == "cpu-general" for p in services)
    # at the clock, the oldest has run since the world began: weeks, not hours
    oldest = min(p.scheduled for p in services if p.scheduled is not None)
    assert world.clock - oldest > dt.timedelta(weeks=8)
    assert any(world.start + dt.timedelta(days=1) < p.created < world.clock for p in services)
