"""The Jira issues: one per planned item, active in its owner's name exactly on its planned days.

An item's issue is filed some working time before its work starts (a support request
by someone in Research, who waits for it), moves to `In Progress` when each stretch
of work starts, goes through review, waits `Blocked` between stretches and is done at
the end of its last; status changes fall in working hours. Around the plan come the
texture of a real tracker (field edits, comments, worklogs), epics with children, and
issues that never become active work (won't-do, cancelled requests, an untouched backlog).
"""

from __future__ import annotations

from sandbox.world.context import Context
from sandbox.world.epics import build_epics, link_children
from sandbox.world.issue_log import IssueLog, Row
from sandbox.world.model import Issue
from sandbox.world.people import Org
from sandbox.world.plan import Work, support_attention
from sandbox.world.settings import (
    BLOCKED,
    CORE,
    DONE,
    INFRA,
    PROGRESS,
    PROJECTS,
    RESEARCH,
    RESEARCH_TEAM,
    REVIEW,
    SUPPORT,
    SUPPORT_REPLY_HOURS,
    SUPPORT_WAIT_HOURS,
    SUPPORT_WAIT_SIGMA,
    TODO,
)
from sandbox.world.workdays import HOUR, WORK_LEN

# A team that rarely takes requests still has someone look at one within days (a rota):
# below this attention its requests wait as long as at this one.
MIN_ATTENTION = 0.25


def build_issues(ctx: Context, org: Org, works: list[Work]) -> IssueLog:
    """Every issue, numbered per project in creation order; `IssueLog.records` in that order."""
    log = IssueLog(ctx.d, org.people)
    epics = build_epics(ctx, org, log)
    attention = support_attention(org, works, ctx.cal.wd_ord).tolist()
    for work in works:
        if not work.as_pr:
            _lane_issue(ctx, org, log, work, attention)
    lane_items = len(log.records)
    _side_issues(ctx, org, log, lane_items)
    link_children(ctx, works, epics)
    log.records.sort(key=lambda r: (r[0], r[1]))
    numbers = dict.fromkeys(PROJECTS, 0)
    for n, (_, _, issue, _, _) in enumerate(log.records):
        numbers[issue.project] += 1
        issue.id = str(10000 + n)
        issue.key = f"{issue.project}-{numbers[issue.project]}"
    for child, epic in epics.links:
        child.epic_key = child.parent_key = epic.key
    malformed = ctx.rng.random(len(log.records)) < 0.002
    malformed[int(ctx.rng.integers(len(log.records)))] = True
    for (_, _, issue, _, _), bad in zip(log.records, malformed.tolist(), strict=True):
        issue.malformed = bad
    return log


def _lane_issue(ctx: Context, org: Org, log: IssueLog, work: Work, attention: list[float]) -> None:
    d, cal = ctx.d, ctx.cal
    owner, category = work.owner, work.category
    first = work.stretches[0]
    s0 = first[2]
    support = category == SUPPORT
    # the serving team's attention to requests sets how soon they are taken up and answered
    team = org.team_rows[owner][first[0]]
    focus = max(attention[team], MIN_ATTENTION) if support and team >= 0 else 1.0
    if support:
        wait = d.lognormal(SUPPORT_WAIT_HOURS / focus, SUPPORT_WAIT_SIGMA) * HOUR
        # filed by someone in Research on the day it was filed (joiners, leavers)
        requested = cal.day_of(max(s0 - int(wait), cal.day_start[0]))
        reporter = org.member_at(RESEARCH_TEAM, requested)
        reporter = org.member_at(RESEARCH_TEAM, first[0]) if reporter is None else reporter
        reporter = owner if reporter is None else reporter
    elif category == RESEARCH:
        reporter = (
            owner if d.chance(0.7) else (org.member_at(RESEARCH_TEAM, first[0], owner) or owner)
        )
        wait = d.lognormal(2 * WORK_LEN, 1.0)
    else:
        reporter = owner if d.chance(0.5) else (org.engineer_at(first[0], owner) or owner)
        wait = d.lognormal(2 * WORK_LEN, 1.0)
    created = s0 - int(wait) if support else cal.from_work(cal.to_work(s0) - wait)
    created = max(min(created, s0 - 600), cal.day_start[0] + 8 * HOUR)
    if created >= s0:
        created = s0 - 60
    assigned_at_creation = not support and d.chance(0.6)
    issue = log.new_issue(category, created, reporter, owner if assigned_at_creation else None)
    work.issue = issue
    if issue.project == "ENG":
        issue.sprint = f"ENG Sprint {first[0] // 14 + 1}"
    rows: list[Row] = []
    if not assigned_at_creation:
        t1, t2 = cal.between(d, created, s0, 2)
        if support and d.chance(0.2):
            other = org.engineer_at(first[0], owner)
            if other is not None:
                rows.append((t1, other, [log.assignee_item(None, other)]))
                rows.append((t2, other, [log.assignee_item(other, owner)]))
            else:
                rows.append((t2, owner, [log.assignee_item(None, owner)]))
        else:
            rows.append((t2, owner if support else reporter, [log.assignee_item(None, owner)]))
    if support:
        _support_talk(ctx, log, issue, work, created, s0, reporter, focus)
    status = TODO
    last_t = created
    final = len(work.stretches) - 1
    for k, (_a, _b, s, e) in enumerate(work.stretches):
        rows.append((s, owner, [log.status_item(status, PROGRESS)]))
        status = PROGRESS
        loops = d.poisson(0.9)
        closing = k < final or not work.open_end
        blocked_next = k < final and work.breaks[k] == "blocked"
        to_review = closing and not blocked_next and d.chance(0.8)
        stamps = cal.between(d, s, e, 2 * loops + (1 if to_review else 0))
        for x in range(loops):
            rows.append((stamps[2 * x], owner, [log.status_item(PROGRESS, REVIEW)]))
            rows.append((stamps[2 * x + 1], owner, [log.status_item(REVIEW, PROGRESS)]))
        if to_review:
            rows.append((stamps[-1], owner, [log.status_item(PROGRESS, REVIEW)]))
            status = REVIEW
        if not closing:
            last_t = s
            break
        target = BLOCKED if blocked_next else DONE
        rows.append((e, owner, [log.status_item(status, target)]))
        status, last_t = target, e
    _decorate(ctx, log, issue, work, created, last_t, rows, reporter)
    if support:
        first_response = log.first_response(issue, rows, reporter)
        done = -1 if work.open_end else work.stretches[-1][3]
        if done >= 0 and d.chance(0.3):
            thanks = done + int(d.lognormal(3 * HOUR, 1.0))
            if thanks < ctx.end_s:
                log.comment(issue, thanks, reporter, "Thanks, that works now.")
        log.support_rows.append((issue, created, first_response, done))
    issue.comments.sort(key=lambda c: c.at)
    log.finish(issue, created, rows, category)


def _support_talk(
    ctx: Context,
    log: IssueLog,
    issue: Issue,
    work: Work,
    created: int,
    s0: int,
    reporter: int,
    focus: float,
) -> None:
    """The requester's follow-up and, when it comes before work starts, an engineer's first reply."""
    d = ctx.d
    follow_up = created + int(d.lognormal(0.5 * HOUR, 0.8))
    if d.chance(0.5) and follow_up < ctx.end_s:
        log.comment(issue, follow_up, reporter, "Adding the logs from the failed run.")
    reply = created + int(d.lognormal(SUPPORT_REPLY_HOURS / focus, 0.8) * HOUR)
    if reply < s0:
        log.comment(issue, reply, work.owner, "Looking into it.")


def _decorate(
    ctx: Context,
    log: IssueLog,
    issue: Issue,
    work: Work,
    created: int,
    last_t: int,
    rows: list[Row],
    reporter: int,
) -> None:
    """Edits that move no status, comments and worklogs: the texture of a real changelog."""
    d, cal, owner = ctx.d, ctx.cal, work.owner
    edits = d.poisson(5.0)
    if edits and last_t > created + 2:
        for t in cal.between(d, created, last_t, edits):
            who = owner if d.chance(0.6) else reporter
            rows.append((t, who, [log.edit(issue)]))
    notes = d.poisson(0.6)
    if notes and last_t > created + 2:
        for t in cal.between(d, created, last_t, notes):
            who = owner if d.chance(0.5) else reporter
            log.comment(issue, t, who, "Progress update.")
    if issue.project != "DS" and d.chance(0.15):
        _, _, s, e = work.stretches[-1]
        for t in cal.between(d, s, e, 1 + d.below(3)):
            log.worklog(issue, t, owner, 1800 * (1 + d.below(8)))


def _side_issues(ctx: Context, org: Org, log: IssueLog, lane_items: int) -> None:
    """Items that never become active: won't-do, cancelled support requests, untouched backlog."""
    d, cal = ctx.d, ctx.cal
    total_work = cal.wd_ord[ctx.horizon] * WORK_LEN
    for _ in range(max(2, round(0.05 * lane_items))):
        created = cal.from_work(d.u() * total_work)
        day = cal.day_of(created)
        category = d.pick((INFRA, CORE, CORE, RESEARCH, SUPPORT))
        if category in (RESEARCH, SUPPORT):
            reporter = org.member_at(RESEARCH_TEAM, day)
        else:
            reporter = org.engineer_at(day)
        closer = org.engineer_at(day, reporter if reporter is not None else -1)
        if reporter is None or closer is None:
            continue
        assignee = closer if category != SUPPORT and d.chance(0.5) else None
        issue = log.new_issue(category, created, reporter, assignee)
        rows: list[Row] = []
        closed = cal.from_work(cal.to_work(created) + d.lognormal(1.5 * WORK_LEN, 1.0))
        done = -1
        if closed < ctx.end_s:
            if d.chance(0.5) and closed - created > 600:
                log.comment(issue, closed - 300, closer, "Closing: won't do, covered elsewhere.")
            rows.append((closed, closer, [log.status_item(TODO, DONE)]))
            done = closed
        if category == SUPPORT:
            first_response = log.first_response(issue, rows, reporter)
            log.support_rows.append((issue, created, first_response, done))
        log.finish(issue, created, rows, category)
    for _ in range(max(1, round(0.03 * lane_items))):
        created = cal.from_work((0.6 + 0.4 * d.u()) * total_work)
        day = cal.day_of(created)
        reporter = org.engineer_at(day)
        if reporter is None:
            continue
        category = d.pick((INFRA, CORE))
        issue = log.new_issue(category, created, reporter, reporter if d.chance(0.3) else None)
        log.finish(issue, created, [], category)
