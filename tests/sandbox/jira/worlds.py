"""Small hand-built worlds for the fake Jira's tests: few issues, known histories, a non-UTC bot."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from sandbox.world.model import (
    ChangeItem,
    Cluster,
    Comment,
    History,
    Issue,
    Person,
    Status,
    Team,
    Worklog,
    World,
)

BOT = "bot-account-1"
BOT_EMAIL = "bot@acme.example"
BOT_TZ = "America/Los_Angeles"  # UTC-7 in summer: JQL wall-clock dates differ from UTC by hours
START = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
CLOCK = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
END = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
LONG_HISTORY_KEY = "DS-3"  # more histories than any inline changelog shows
LONG_HISTORY = 130

STATUSES = [
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "Blocked", "indeterminate"),
    Status("10002", "Done", "done"),
]
FLOW = ["To Do", "In Progress", "Blocked", "In Progress", "Done"]
STATUS_ID = {s.name: s.id for s in STATUSES}


def people() -> list[Person]:
    return [
        Person("Ada Byrne", "ada@acme.example", "acc-ada", "adab", jira_timezone="Europe/Dublin"),
        Person("Bo Chen", "bo@acme.example", "acc-bo", "boc", jira_timezone="America/New_York"),
        Person("Cy Diaz", "cy@acme.example", "acc-cy", "cyd"),
        Person(
            "Teamtide Bot", "bot@acme.example", BOT, "", jira_timezone=BOT_TZ, in_org_file=False
        ),
    ]


def _status_change(hid: str, at: dt.datetime, author: str, old: str, new: str) -> History:
    return History(
        hid, at, author, [ChangeItem("status", STATUS_ID[old], old, STATUS_ID[new], new)]
    )


def _issue(
    number: int, project: str, created: dt.datetime, rng: random.Random, names: dict[str, str]
) -> Issue:
    accounts = sorted(names)
    reporter = rng.choice(accounts)
    assignee = rng.choice(accounts)
    issue = Issue(
        id=str(20000 + number),
        key=f"{project}-{number}",
        project=project,
        issue_type=rng.choice(["Task", "Bug", "Support Request"]),
        summary=f"Work item {number}",
        priority=rng.choice(["High", "Medium", "Low"]),
        created=created,
        reporter=reporter,
        initial_status="To Do",
        initial_assignee=assignee,
        labels=["infra"] if number % 4 == 0 else [],
        components=["EKS"] if number % 5 == 0 else [],
        story_points=float(number % 5 + 1),
        sprint="Sprint 7" if number % 3 == 0 else None,
        description=f"Please look at item {number}.\n\nSecond paragraph.",
    )
    at = created
    for step, (old, new) in enumerate(itertools.pairwise(FLOW)):
        at += dt.timedelta(hours=rng.randint(2, 60))
        if step >= number % 5:
            break
        issue.histories.append(_status_change(f"{number}{step:03d}", at, assignee, old, new))
        if step == 0:
            new_assignee = rng.choice(accounts)
            item = ChangeItem(
                "assignee", assignee, names[assignee], new_assignee, names[new_assignee]
            )
            issue.histories.append(
                History(f"{number}{step:03d}9", at + dt.timedelta(minutes=5), reporter, [item])
            )
    for k in range(number % 3):
        issue.comments.append(
            Comment(
                f"{number}{k}",
                created + dt.timedelta(hours=3 + 30 * k),
                accounts[k % len(accounts)],
                f"comment {k} on {number}",
            )
        )
    if number % 2:
        issue.worklogs.append(
            Worklog(
                f"{number}77", created + dt.timedelta(hours=5), assignee, 3600 * (number % 7 + 1)
            )
        )
    return issue


def small_world(bot_timezone: str = BOT_TZ) -> World:
    """About 40 issues in two projects; some created after the clock; one with a long history, one malformed."""
    rng = random.Random(7)
    crowd = people()
    names = {p.jira_account_id: p.name for p in crowd}
    issues: list[Issue] = []
    created = START
    for number in range(1, 41):
        created += dt.timedelta(hours=rng.randint(10, 40))
        project = "DS" if number % 2 else "ENG"
        issues.append(_issue(number, project, created, rng, names))
    long_issue = next(i for i in issues if i.key == LONG_HISTORY_KEY)
    long_issue.histories = [
        History(
            f"9{k:04d}",
            long_issue.created + dt.timedelta(minutes=10 * (k + 1)),
            "acc-ada",
            [ChangeItem("labels", None, "", None, f"l{k}")],
        )
        for k in range(LONG_HISTORY)
    ]
    last_visible = max((i for i in issues if i.created <= CLOCK), key=lambda i: i.created)
    last_visible.comments.append(
        Comment("90001", CLOCK + dt.timedelta(hours=2), "acc-bo", "a reply after the clock")
    )
    issues[4].malformed = True
    issues[5].malformed = True
    issues[6].malformed = True
    issues.sort(key=lambda i: i.created)
    return World(
        seed=7,
        scale="hand",
        start=START,
        clock=CLOCK,
        end=END,
        timezone="Europe/Dublin",
        teams=[Team("Research", "research"), Team("Infra", "infra")],
        people=crowd,
        reorg_date=dt.date(2025, 5, 20),
        reorg_name="split",
        statuses=list(STATUSES),
        projects={"DS": "Data Science", "ENG": "Engineering"},
        issues=issues,
        repos=[],
        pulls=[],
        cluster=Cluster(),
        bot_account=BOT,
        bot_email=BOT_EMAIL,
        bot_timezone=bot_timezone,
    )
