"""The Jira records as they are written: new issues shaped per category, changelog rows, comments, ids.

Each issue's project, type, labels and components match the org file's rule of its
planned category first (`sandbox.orgfile.CATEGORY_RULES`), so the allocation teamtide
computes recovers the plan. Change items are immutable and shared between histories.
"""

from __future__ import annotations

from sandbox.world.draws import Draws
from sandbox.world.model import ChangeItem, Comment, History, Issue, Person, Worklog
from sandbox.world.settings import CORE, INFRA, RESEARCH, STATUS_ID, SUPPORT, TODO
from sandbox.world.vocabulary import COMPONENTS, OBJECTS, SUPPORT_SUMMARIES, VERBS
from sandbox.world.workdays import at

# A changelog row before it becomes a History: (moment, author's person index, changes).
Row = tuple[int, int, list[ChangeItem]]


class IssueLog:
    """The issues written so far, in writing order, with what the truth needs of each."""

    def __init__(self, d: Draws, people: list[Person]) -> None:
        self.d, self.people = d, people
        # (created, order, issue, category, unplanned): sorted by creation once all are written
        self.records: list[tuple[int, int, Issue, int, bool]] = []
        # (issue, created, first response, done) of every support request (-1: none yet)
        self.support_rows: list[tuple[Issue, int, int, int]] = []
        self.history_id = 10000
        self.comment_id = 10000
        self.worklog_id = 10000
        self._status_items: dict[tuple[str, str], ChangeItem] = {}
        self._assignee_items: dict[tuple[int, int], ChangeItem] = {}
        self._edit_items: dict[tuple[str, str], ChangeItem] = {}

    def status_item(self, frm: str, to: str) -> ChangeItem:
        key = (frm, to)
        item = self._status_items.get(key)
        if item is None:
            item = ChangeItem("status", STATUS_ID[frm], frm, STATUS_ID[to], to)
            self._status_items[key] = item
        return item

    def assignee_item(self, frm: int | None, to: int | None) -> ChangeItem:
        key = (-1 if frm is None else frm, -1 if to is None else to)
        item = self._assignee_items.get(key)
        if item is None:
            a = None if frm is None else self.people[frm]
            b = None if to is None else self.people[to]
            item = ChangeItem(
                "assignee",
                a.jira_account_id if a else None,
                a.name if a else None,
                b.jira_account_id if b else None,
                b.name if b else None,
            )
            self._assignee_items[key] = item
        return item

    def edit(self, issue: Issue) -> ChangeItem:
        """A field edit that moves no status."""
        u = self.d.u()
        if issue.sprint and u < 0.25:
            key = ("Sprint", issue.sprint)
        elif issue.story_points is not None and u < 0.4:
            key = ("Story Points", str(issue.story_points))
        elif u < 0.7:
            key = ("Rank", "Ranked higher")
        else:
            key = ("description", issue.summary)
        item = self._edit_items.get(key)
        if item is None:
            field, to = key
            before = None
            if field == "Sprint":
                before = f"ENG Sprint {max(int(to.rsplit(' ', 1)[1]) - 1, 1)}"
            elif field == "Story Points":
                before = "3"
            item = self._edit_items[key] = ChangeItem(field, None, before, None, to)
        return item

    def new_issue(self, category: int, created: int, reporter: int, assignee: int | None) -> Issue:
        project, kind, labels, components = shape(self.d, category)
        issue = Issue(
            id="",
            key="",
            project=project,
            issue_type=kind,
            summary=summary(self.d, category),
            priority=_priority(self.d, category),
            created=at(created),
            reporter=self.people[reporter].jira_account_id,
            initial_status=TODO,
            initial_assignee=None if assignee is None else self.people[assignee].jira_account_id,
            labels=labels,
            components=components,
        )
        if project == "ENG" and kind != "Epic":
            issue.story_points = float(self.d.pick((1, 2, 3, 3, 5, 5, 8)))
        return issue

    def finish(self, issue: Issue, created: int, rows: list[Row], category: int) -> None:
        """The issue's changelog from its rows, and the issue into the log."""
        rows.sort(key=lambda r: r[0])
        people = self.people
        histories = []
        for t, author, items in rows:
            self.history_id += 1
            histories.append(
                History(str(self.history_id), at(t), people[author].jira_account_id, items)
            )
        issue.histories = histories
        self.records.append((created, len(self.records), issue, category, unplanned(issue)))

    def comment(self, issue: Issue, t: int, author: int, body: str) -> None:
        self.comment_id += 1
        issue.comments.append(
            Comment(str(self.comment_id), at(t), self.people[author].jira_account_id, body)
        )

    def worklog(self, issue: Issue, t: int, author: int, seconds: int) -> None:
        self.worklog_id += 1
        issue.worklogs.append(
            Worklog(str(self.worklog_id), at(t), self.people[author].jira_account_id, seconds)
        )

    def first_response(self, issue: Issue, rows: list[Row], reporter: int) -> int:
        """First response as docs/metrics.md defines it: the earliest comment or status change by someone other than the reporter (-1: none)."""
        account = self.people[reporter].jira_account_id
        times = [
            t
            for t, author, items in rows
            if items[0].field == "status" and self.people[author].jira_account_id != account
        ]
        times += [int(c.at.timestamp()) for c in issue.comments if c.author != account]
        return min(times, default=-1)


def unplanned(issue: Issue) -> bool:
    """The org file's `unplanned` rule (see `sandbox.orgfile`)."""
    return issue.issue_type in ("Bug", "Support Request") or "interrupt" in issue.labels


def shape(d: Draws, category: int) -> tuple[str, str, list[str], list[str]]:
    """Project, issue type, labels and components that the org file's rules classify as `category`."""
    comps = COMPONENTS[category]
    if category == INFRA:
        project = "OPS" if d.chance(0.1) else "ENG"
        kind = d.pick(("Task", "Task", "Task", "Story", "Story", "Bug"))
        mark = d.below(3)
        labels = ["infra"] if mark != 1 else []
        components = ["EKS"] if mark != 0 else [d.pick(comps[1:])]
        if d.chance(0.15):
            labels.append("interrupt")
        return project, kind, labels, components
    if category == SUPPORT:
        return "DS", "Support Request", d.pick(([], ["gpu"], ["access"], [])), [d.pick(comps)]
    if category == CORE:
        labels = d.pick(([], [], ["tech-debt"], ["api"]))
        if d.chance(0.1):
            labels = [*labels, "interrupt"]
        return (
            "ENG",
            d.pick(("Story", "Story", "Story", "Task", "Task", "Bug")),
            labels,
            [d.pick(comps)],
        )
    if category == RESEARCH:
        return "DS", d.pick(("Story", "Story", "Task")), [], [d.pick(comps)]
    return "OPS", "Task", [d.pick(("oncall", "toil"))], [d.pick(comps)]


def summary(d: Draws, category: int) -> str:
    if category == SUPPORT:
        return d.pick(SUPPORT_SUMMARIES)
    return f"{d.pick(VERBS[category])} {d.pick(OBJECTS[category])}"


def _priority(d: Draws, category: int) -> str:
    u = d.u()
    if category == SUPPORT:
        return "Highest" if u < 0.08 else "High" if u < 0.33 else "Medium" if u < 0.88 else "Low"
    return "Highest" if u < 0.03 else "High" if u < 0.2 else "Medium" if u < 0.9 else "Low"
