"""Epics: long-lived and unassigned (never anyone's active work), with children among the planned items."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.world.context import Context
from sandbox.world.issue_log import IssueLog, Row, summary
from sandbox.world.model import Issue
from sandbox.world.people import Org
from sandbox.world.plan import Work
from sandbox.world.settings import CORE, DONE, INFRA, PROGRESS, RESEARCH, RESEARCH_TEAM, TODO
from sandbox.world.workdays import DAY, HOUR, WORK_LEN, WORK_START, at


@dataclass(slots=True)
class Epics:
    by_week: dict[str, list[list[Issue]]]  # project -> week -> the epics open that week
    links: list[tuple[Issue, Issue]]  # (child, epic), keyed once the issues are numbered


def build_epics(ctx: Context, org: Org, log: IssueLog) -> Epics:
    d, cal = ctx.d, ctx.cal
    epics = Epics(by_week={p: [[] for _ in range(ctx.weeks)] for p in ("ENG", "DS")}, links=[])
    total_work = cal.wd_ord[ctx.horizon] * WORK_LEN
    n = max(2, round(ctx.scale.weeks * ctx.scale.people / 400))
    plans: list[tuple[str, int, int, int]] = []
    for k in range(ctx.scale.long_epics):
        created = cal.day_start[k] + WORK_START + 1800
        plans.append(
            ("ENG", created, min(created + 26 * 7 * DAY, ctx.end_s + DAY), 110 + d.poisson(15))
        )
    for project in ("ENG", "DS"):
        for _ in range(n):
            created = cal.from_work(d.u() * total_work * 0.95)
            life = int((6 + d.u() * 10) * 7 * DAY)
            plans.append((project, created, created + life, d.poisson(life / (7 * DAY))))
    for project, created, done, edits in plans:
        category = (INFRA if d.chance(0.4) else CORE) if project == "ENG" else RESEARCH
        lead = (
            org.engineer_at(cal.day_of(created))
            if project == "ENG"
            else org.member_at(RESEARCH_TEAM, cal.day_of(created))
        )
        if lead is None:
            continue
        issue = Issue(
            id="",
            key="",
            project=project,
            issue_type="Epic",
            summary=f"{summary(d, category)} programme",
            priority="Medium",
            created=at(created),
            reporter=org.people[lead].jira_account_id,
            initial_status=TODO,
            initial_assignee=None,
            labels=["infra"] if category == INFRA else [],
            components=[],
        )
        start = cal.from_work(cal.to_work(created) + 2 * WORK_LEN)
        rows: list[Row] = [(start, lead, [log.status_item(TODO, PROGRESS)])]
        finished = done < ctx.end_s
        if finished:
            rows.append((done, lead, [log.status_item(PROGRESS, DONE)]))
        hi = (
            min(done if finished else ctx.end_s, ctx.clock_s - HOUR)
            if edits >= 100
            else (done if finished else ctx.end_s)
        )
        if edits and hi > start + 2 * edits:
            for t in cal.between(d, start, hi, edits):
                rows.append((t, lead, [log.edit(issue)]))
        log.finish(issue, created, rows, category)
        last_week = min(cal.day_of(done) // 7, ctx.weeks - 1)
        for w in range(cal.day_of(created) // 7, last_week + 1):
            epics.by_week[project][w].append(issue)
    return epics


def link_children(ctx: Context, works: list[Work], epics: Epics) -> None:
    """Nearly half of the ENG and DS items get an epic open in the week their work starts."""
    for work in works:
        issue = work.issue
        if issue is None or issue.issue_type == "Support Request" or issue.project == "OPS":
            continue
        if not ctx.d.chance(0.45):
            continue
        w = min(work.stretches[0][0] // 7, ctx.weeks - 1)
        pool = epics.by_week[issue.project][w]
        if pool:
            epics.links.append((issue, ctx.d.pick(pool)))
