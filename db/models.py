"""The domain tables (docs/architecture.md, "Domain tables") as typed SQLAlchemy 2 models, shared by SQLite and PostgreSQL.

Sources are stored as they speak: work items and pull requests keep the account that
Jira or GitHub named (`*_account`), and `identities` maps accounts to people. The
mapping is applied when metrics load data, so editing the org file re-attributes
history without a re-sync, and an unknown account is never dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out; SQLite stores naive UTC, PostgreSQL `timestamptz`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: teamtide stores timezone-aware UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


# --- org ---------------------------------------------------------------------------------


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)  # False once removed from the org file


class Identity(Base):
    """An account in a source; `person_id` is null for accounts nobody in the org file owns."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("source", "value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # jira | github | email | alias
    value: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    first_seen: Mapped[dt.datetime | None]


class Membership(Base):
    """Team membership as history: dates inclusive, `valid_to` null while it lasts."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("person_id", "team_id", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


# --- work items --------------------------------------------------------------------------


class Status(Base):
    """A source's status with its category (new / indeterminate / done), for stage resolution."""

    __tablename__ = "statuses"
    __table_args__ = (UniqueConstraint("source", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("source", "key"),
        Index("ix_work_items_done_at", "done_at"),
        Index("ix_work_items_created_at", "created_at"),
        Index("ix_work_items_updated_at", "updated_at"),
        Index("ix_work_items_key", "key"),  # pull requests name keys, not sources
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # jira | github
    key: Mapped[str] = mapped_column(String(200))  # ENG-12, or owner/repo#12
    source_id: Mapped[str | None] = mapped_column(String(64))
    project: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[str | None] = mapped_column(String(100))
    labels: Mapped[list[str]] = mapped_column(default=list)
    components: Mapped[list[str]] = mapped_column(default=list)
    parent_key: Mapped[str | None] = mapped_column(String(200))
    epic_key: Mapped[str | None] = mapped_column(String(200))
    assignee_account: Mapped[str | None] = mapped_column(String(320), index=True)
    reporter_account: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]  # last entry into done, if done now
    story_points: Mapped[float | None] = mapped_column(Float)
    sprint: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    stored_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # last written here


class ItemTransition(Base):
    __tablename__ = "item_transitions"
    __table_args__ = (
        UniqueConstraint("item_id", "change_id", "to_status"),
        Index("ix_item_transitions_at", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    change_id: Mapped[str] = mapped_column(String(64))  # the source's changelog entry id
    at: Mapped[dt.datetime]
    author_account: Mapped[str | None] = mapped_column(String(320))
    from_status: Mapped[str | None] = mapped_column(String(200))
    to_status: Mapped[str] = mapped_column(String(200))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))


class ItemAssignment(Base):
    __tablename__ = "item_assignments"
    __table_args__ = (UniqueConstraint("item_id", "change_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    change_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
    author_account: Mapped[str | None] = mapped_column(String(320))
    from_account: Mapped[str | None] = mapped_column(String(320))
    to_account: Mapped[str | None] = mapped_column(String(320))


class ItemComment(Base):
    __tablename__ = "item_comments"
    __table_args__ = (UniqueConstraint("item_id", "comment_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
    author_account: Mapped[str | None] = mapped_column(String(320))


class Worklog(Base):
    __tablename__ = "worklogs"
    __table_args__ = (UniqueConstraint("item_id", "worklog_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    worklog_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime]
    author_account: Mapped[str | None] = mapped_column(String(320))
    seconds: Mapped[int] = mapped_column(Integer)


# --- pull requests -----------------------------------------------------------------------


class PullRequest(Base):
    __tablename__ = "pull_requests"
    __table_args__ = (
        UniqueConstraint("repo", "number"),
        Index("ix_pull_requests_created_at", "created_at"),
        Index("ix_pull_requests_updated_at", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    branch: Mapped[str | None] = mapped_column(String(300))
    author_account: Mapped[str | None] = mapped_column(String(320), index=True)
    state: Mapped[str | None] = mapped_column(String(20))
    draft: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime | None]
    ready_at: Mapped[dt.datetime | None]  # left draft; null when it never was one
    first_review_at: Mapped[dt.datetime | None]  # first review by someone other than the author
    merged_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    additions: Mapped[int | None] = mapped_column(Integer)
    deletions: Mapped[int | None] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(default=list)
    linked_keys: Mapped[list[str]] = mapped_column(
        default=list
    )  # work-item keys named in title/branch
    url: Mapped[str | None] = mapped_column(String(500))
    stored_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # last written here


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("pr_id", "review_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    pr_id: Mapped[int] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE"), index=True
    )
    review_id: Mapped[str] = mapped_column(String(64))
    reviewer_account: Mapped[str | None] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(40))
    submitted_at: Mapped[dt.datetime | None]


# --- cluster -----------------------------------------------------------------------------

# `cluster_samples.origin`: the stream that wrote a sample. A snapshot and the Prometheus
# backfill observe the cluster; `pod_history` rebuilds hours from the pods still listed.
SNAPSHOT, PROMETHEUS_BACKFILL, POD_HISTORY = "snapshot", "prometheus_backfill", "pod_history"
REBUILT_ORIGINS = frozenset({POD_HISTORY})


class ClusterSample(Base):
    __tablename__ = "cluster_samples"
    __table_args__ = (UniqueConstraint("at", "namespace"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    namespace: Mapped[str] = mapped_column(String(253))
    team: Mapped[str | None] = mapped_column(String(200))  # null: matched no namespace pattern
    cpu_requested: Mapped[float] = mapped_column(Float, default=0.0)  # cores
    memory_requested: Mapped[float] = mapped_column(Float, default=0.0)  # bytes
    gpu_requested: Mapped[float] = mapped_column(Float, default=0.0)
    pods_running: Mapped[int] = mapped_column(Integer, default=0)
    # null: not known (a sample rebuilt from pods cannot tell who was pending)
    pods_pending: Mapped[int | None] = mapped_column(Integer, default=0)
    gpu_pods_pending: Mapped[int | None] = mapped_column(Integer, default=0)
    oldest_pending_since: Mapped[dt.datetime | None]
    pending_reason: Mapped[str | None] = mapped_column(Text)
    # the stream that wrote it: snapshot, prometheus_backfill (observed) or pod_history
    # (rebuilt from the pods the API still lists); null: stored before it was recorded
    origin: Mapped[str | None] = mapped_column(String(40))


class ClusterNode(Base):
    __tablename__ = "cluster_nodes"
    __table_args__ = (UniqueConstraint("at", "node_group", "instance_type"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    node_group: Mapped[str] = mapped_column(String(200))
    instance_type: Mapped[str] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(Integer)
    gpu: Mapped[int] = mapped_column(Integer, default=0)  # GPUs per node


class ClusterEvent(Base):
    __tablename__ = "cluster_events"
    __table_args__ = (UniqueConstraint("uid"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(index=True)
    namespace: Mapped[str | None] = mapped_column(String(253))
    team: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(100))  # involved object kind
    name: Mapped[str | None] = mapped_column(String(253))
    reason: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(20))


# --- operations --------------------------------------------------------------------------


class SyncState(Base):
    """One row per stream and partition (e.g. per repository): its cursor and last outcome."""

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("source", "stream", "partition"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    stream: Mapped[str] = mapped_column(String(100))
    partition: Mapped[str] = mapped_column(String(300), default="")
    cursor: Mapped[str | None] = mapped_column(String(100))
    last_started: Mapped[dt.datetime | None]
    last_success: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)  # rows written by the last run
    rejects: Mapped[int] = mapped_column(Integer, default=0)  # records set aside by the last run


class SyncReject(Base):
    """A source record that could not be parsed, kept with the reason instead of dropped."""

    __tablename__ = "sync_rejects"
    __table_args__ = (Index("ix_sync_rejects_source_at", "source", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    stream: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)  # an excerpt, never the whole record
    at: Mapped[dt.datetime]


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20))  # ISO week, 2025-W10
    generated_at: Mapped[dt.datetime]
    body: Mapped[str] = mapped_column(Text)  # Markdown
    html: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    delivered_to: Mapped[list[str]] = mapped_column(default=list)


class ReportDelivery(Base):
    """One row per week and recipient, so sending is idempotent across retries and restarts."""

    __tablename__ = "report_deliveries"
    __table_args__ = (UniqueConstraint("period", "recipient"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class AlertDelivery(Base):
    """One row per alert event and recipient, so an alert is sent once across retries and restarts."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("event", "recipient"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(300))  # "Infra|forecast-flood|2025-07-07"
    recipient: Mapped[str] = mapped_column(String(500))  # an e-mail address, or "webhook"
    team: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)  # what was (or will be) sent, in one line
    status: Mapped[str] = mapped_column(String(20))  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class JobLock(Base):
    """A lease in the database, so two schedulers never run the same job at once."""

    __tablename__ = "job_locks"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]


class JobRun(Base):
    """Every scheduled run: who ran it, when, and how it ended (proof that runs never overlap)."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    # ok | failed | skipped | stopped | missed | abandoned
    outcome: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)


class Scenario(Base):
    """A saved what-if scenario: moves, routes, splits, merges and FTE changes, as JSON."""

    __tablename__ = "scenarios"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    body: Mapped[dict[str, Any]]


# --- rollups: the metrics' weekly parts and samples (metrics/parts.py), kept after each sync ---


class RollupAllocation(Base):
    """Person-days of a (team, person, week, category, planned?, support?) group."""

    __tablename__ = "rollup_allocation"
    __table_args__ = (Index("ix_rollup_allocation_week", "week"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    team: Mapped[str] = mapped_column(String(200))
    person: Mapped[str] = mapped_column(String(200))
    week: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(200))
    unplanned: Mapped[bool]
    support: Mapped[bool]
    weight: Mapped[float] = mapped_column(Float)


class RollupThing(Base):
    """Person-days a team member gave one item or pull request in a week: what the
    Allocation page lists behind a category's FTE."""

    __tablename__ = "rollup_things"
    __table_args__ = (
        Index("ix_rollup_things_team_week", "team", "week"),
        Index("ix_rollup_things_thing", "thing", "thing_id"),  # the weeks a change touches
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    team: Mapped[str] = mapped_column(String(200))
    person: Mapped[str] = mapped_column(String(200))
    week: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(200))
    thing: Mapped[str] = mapped_column(String(10))  # item | pr
    thing_id: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)


class RollupTeamLoad(Base):
    """A team's (or the org's, team "(all)") load inputs and load in one week."""

    __tablename__ = "rollup_team_load"
    __table_args__ = (UniqueConstraint("team", "week"), Index("ix_rollup_team_load_week", "week"))
    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(200))
    week: Mapped[dt.date] = mapped_column(Date)
    active_item_hours: Mapped[float] = mapped_column(Float)
    member_hours: Mapped[float] = mapped_column(Float)
    members: Mapped[float] = mapped_column(Float)
    load: Mapped[float | None] = mapped_column(Float)


class RollupPersonLoad(Base):
    """A person's load inputs and load in one week."""

    __tablename__ = "rollup_person_load"
    __table_args__ = (
        UniqueConstraint("person", "week"),
        Index("ix_rollup_person_load_week", "week"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    person: Mapped[str] = mapped_column(String(200))
    week: Mapped[dt.date] = mapped_column(Date)
    active_item_hours: Mapped[float] = mapped_column(Float)
    member_hours: Mapped[float] = mapped_column(Float)
    members: Mapped[float] = mapped_column(Float)
    load: Mapped[float | None] = mapped_column(Float)


class RollupItemSample(Base):
    """A done item's turnaround, for each team of its assignee when done (team null: none)."""

    __tablename__ = "rollup_item_samples"
    __table_args__ = (Index("ix_rollup_item_samples_item", "item_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime]
    cycle_hours: Mapped[float | None] = mapped_column(Float)
    lead_hours: Mapped[float | None] = mapped_column(Float)
    active_hours: Mapped[float | None] = mapped_column(Float)
    flow_efficiency: Mapped[float | None] = mapped_column(Float)
    skipped_start: Mapped[bool]


class RollupPullSample(Base):
    """A pull request's times, for each team of its author at creation (team null: none)."""

    __tablename__ = "rollup_pull_samples"
    __table_args__ = (Index("ix_rollup_pull_samples_pr", "pr_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    pr_id: Mapped[int] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime]
    first_review_hours: Mapped[float | None] = mapped_column(Float)
    merge_hours: Mapped[float | None] = mapped_column(Float)
    draft_hours: Mapped[float | None] = mapped_column(Float)
    pickup_hours: Mapped[float | None] = mapped_column(Float)
    review_hours: Mapped[float | None] = mapped_column(Float)


class RollupRequest(Base):
    """A support request with its requesting and serving teams and its times."""

    __tablename__ = "rollup_requests"
    __table_args__ = (Index("ix_rollup_requests_item", "item_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]
    reporter: Mapped[str | None] = mapped_column(String(200))
    requesting_team: Mapped[str | None] = mapped_column(String(200))
    serving_person: Mapped[str | None] = mapped_column(String(200))
    serving_team: Mapped[str | None] = mapped_column(String(200))
    first_response_at: Mapped[dt.datetime | None]
    first_response_hours: Mapped[float | None] = mapped_column(Float)
    resolution_hours: Mapped[float | None] = mapped_column(Float)
    first_response_target_hours: Mapped[float | None] = mapped_column(Float)
    resolution_target_hours: Mapped[float | None] = mapped_column(Float)


class RollupResult(Base):
    """A figure computed from the rollups as a whole and kept with the version it was
    computed from (the load forecast: fitting every team's model takes seconds that a
    page should not wait for); a reader uses it only while that version is current."""

    __tablename__ = "rollup_results"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # JSON


class RollupState(Base):
    """The one row that says what the rollups describe: refreshed in the same transaction
    as the rows, so a reader sees a whole refresh or none of it."""

    __tablename__ = "rollup_state"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(Integer)  # bumped by every refresh that changed data
    as_of: Mapped[dt.datetime]  # the `now` the rollups were computed at
    watermark: Mapped[dt.datetime | None]  # when the refresh began: rows stored since are new
    config_digest: Mapped[str] = mapped_column(String(64))  # the org file's rules, not people
    memberships: Mapped[list[str]]  # "person|team|from|to" the rollups were computed with
    first_week: Mapped[dt.date | None] = mapped_column(Date)  # the earliest week kept
    refreshed_at: Mapped[dt.datetime]
    detail: Mapped[str | None] = mapped_column(Text)  # what the last refresh did, in one line
