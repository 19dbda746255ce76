"""The synthetic organisation as plain data: what the generator makes and the fake APIs serve.

Everything happens on one timeline. The generator writes events past the sandbox's
starting clock too; the servers show only what happened at or before their current
clock (`World.clock`), so advancing the clock makes new items, transitions,
comments, pull requests and pods appear, exactly as a live system changes between
two syncs. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

StatusCategory = Literal["new", "indeterminate", "done"]


@dataclass(frozen=True, slots=True)
class Membership:
    team: str
    start: dt.date
    end: dt.date | None = None  # inclusive; None = still a member


@dataclass(slots=True)
class Person:
    name: str
    email: str  # the e-mail Jira knows
    jira_account_id: str
    github_login: str
    jira_timezone: str = "UTC"  # the Jira user's profile timezone (JQL dates are read in it)
    other_emails: list[str] = field(default_factory=list)  # e.g. the GitHub commit e-mail
    memberships: list[Membership] = field(default_factory=list)
    in_org_file: bool = True  # False: an identity teamtide must list as unmapped


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    kind: str  # research | enablement | infra | other


@dataclass(frozen=True, slots=True)
class Status:
    id: str
    name: str
    category: StatusCategory


@dataclass(frozen=True, slots=True)
class ChangeItem:
    """One field change inside a Jira changelog history entry."""

    field: str  # "status", "assignee", "labels", ...
    from_id: str | None
    from_string: str | None
    to_id: str | None
    to_string: str | None


@dataclass(slots=True)
class History:
    """One Jira changelog history entry (one edit that may change several fields)."""

    id: str
    at: dt.datetime
    author: str  # jira account id
    items: list[ChangeItem]


@dataclass(slots=True)
class Comment:
    id: str
    at: dt.datetime
    author: str  # jira account id
    body: str


@dataclass(slots=True)
class Worklog:
    id: str
    started: dt.datetime
    author: str
    seconds: int


@dataclass(slots=True)
class Issue:
    """A Jira issue with its whole life; the status and assignee at any moment follow from history."""

    id: str
    key: str
    project: str
    issue_type: str
    summary: str
    priority: str
    created: dt.datetime
    reporter: str  # jira account id
    initial_status: str  # status name at creation
    initial_assignee: str | None
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    epic_key: str | None = None
    parent_key: str | None = None
    story_points: float | None = None
    sprint: str | None = None
    description: str = ""
    histories: list[History] = field(default_factory=list)  # sorted by time
    comments: list[Comment] = field(default_factory=list)
    worklogs: list[Worklog] = field(default_factory=list)
    malformed: bool = False  # served with a broken field when the fault is on


@dataclass(slots=True)
class Review:
    id: int
    user: str  # github login
    state: Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]
    submitted_at: dt.datetime


@dataclass(slots=True)
class PullRequest:
    repo: str  # "owner/name"
    number: int
    id: int
    title: str
    branch: str
    author: str  # github login
    created: dt.datetime
    draft_until: dt.datetime | None = (
        None  # left draft (ready_for_review event) at; None = never draft
    )
    still_draft: bool = False  # created as draft and never left it
    merged_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    additions: int = 0
    deletions: int = 0
    labels: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)  # sorted by time
    body: str = ""
    malformed: bool = False  # served with a broken field when the fault is on


@dataclass(slots=True)
class Repo:
    full_name: str
    id: int
    description: str = ""


@dataclass(slots=True)
class Pod:
    namespace: str
    name: str
    created: dt.datetime
    scheduled: dt.datetime | None  # None = pending until `ended` (or still pending)
    ended: dt.datetime | None
    cpu: float  # cores requested
    memory: int  # bytes requested
    gpu: int
    node: str | None = None  # node it ran on (None while pending)
    node_group: str | None = None
    termination_reason: str | None = None  # Completed, OOMKilled, Evicted, Error; None: running
    workload: str = "Job"  # what made it: a Job (batch work) or a Deployment (a service)


@dataclass(slots=True)
class NodeGroupChange:
    at: dt.datetime
    node_group: str
    instance_type: str
    count: int  # nodes in the group from this moment on
    gpu_per_node: int


@dataclass(slots=True)
class ClusterEvent:
    uid: str
    at: dt.datetime
    namespace: str
    kind: str  # involved object kind: Pod, Node, ...
    name: str  # involved object name
    reason: str  # FailedScheduling, OOMKilled, Evicted, ScaleUp, RegisteredNode, ...
    message: str
    type: str = "Normal"


@dataclass(slots=True)
class Cluster:
    namespaces: dict[str, str] = field(default_factory=dict)  # namespace -> team
    node_groups: list[NodeGroupChange] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    events: list[ClusterEvent] = field(default_factory=list)


@dataclass(slots=True)
class World:
    seed: int
    scale: str
    start: dt.datetime  # first moment with data
    clock: dt.datetime  # "now" as the servers see it; advance to reveal more
    end: dt.datetime  # last moment generated (>= clock: the future the clock can reach)
    timezone: str
    teams: list[Team]
    people: list[Person]
    reorg_date: dt.date
    reorg_name: str
    statuses: list[Status]
    projects: dict[str, str]  # key -> name
    issues: list[Issue]  # sorted by created
    repos: list[Repo]
    pulls: list[PullRequest]  # sorted by created
    cluster: Cluster
    truth: dict[str, Any] = field(
        default_factory=dict
    )  # planted ground truth (see sandbox.world.generate)
    bot_account: str = "bot"  # the account the collectors authenticate as
    bot_email: str = "teamtide-bot@acme.example"  # its e-mail (Jira Cloud basic auth)
    bot_timezone: str = "UTC"  # its Jira profile timezone: JQL dates are read in it
    identities: Any = None  # sandbox.world.identities.Identities: planted cross-source cases
