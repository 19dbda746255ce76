"""create the domain schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "cluster_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("namespace", sa.String(length=253), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=253), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_cluster_events_uid")),
    )
    with op.batch_alter_table("cluster_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_events_at"), ["at"], unique=False)

    op.create_table(
        "cluster_nodes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("node_group", sa.String(length=200), nullable=False),
        sa.Column("instance_type", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("gpu", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_nodes")),
        sa.UniqueConstraint(
            "at",
            "node_group",
            "instance_type",
            name=op.f("uq_cluster_nodes_at_node_group_instance_type"),
        ),
    )
    with op.batch_alter_table("cluster_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_nodes_at"), ["at"], unique=False)

    op.create_table(
        "cluster_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("namespace", sa.String(length=253), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("cpu_requested", sa.Float(), nullable=False),
        sa.Column("memory_requested", sa.Float(), nullable=False),
        sa.Column("gpu_requested", sa.Float(), nullable=False),
        sa.Column("pods_running", sa.Integer(), nullable=False),
        sa.Column("pods_pending", sa.Integer(), nullable=False),
        sa.Column("gpu_pods_pending", sa.Integer(), nullable=False),
        sa.Column("oldest_pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_samples")),
        sa.UniqueConstraint("at", "namespace", name=op.f("uq_cluster_samples_at_namespace")),
    )
    with op.batch_alter_table("cluster_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_samples_at"), ["at"], unique=False)

    op.create_table(
        "job_locks",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_locks")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("name", name=op.f("uq_people_name")),
    )
    op.create_table(
        "pull_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("branch", sa.String(length=300), nullable=True),
        sa.Column("author_account", sa.String(length=320), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_review_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("additions", sa.Integer(), nullable=True),
        sa.Column("deletions", sa.Integer(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("linked_keys", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_requests")),
        sa.UniqueConstraint("repo", "number", name=op.f("uq_pull_requests_repo_number")),
    )
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pull_requests_author_account"), ["author_account"], unique=False
        )
        batch_op.create_index("ix_pull_requests_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_pull_requests_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deliveries")),
        sa.UniqueConstraint(
            "period", "recipient", name=op.f("uq_report_deliveries_period_recipient")
        ),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("delivered_to", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("period", name=op.f("uq_reports_period")),
    )
    op.create_table(
        "statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statuses")),
        sa.UniqueConstraint("source", "name", name=op.f("uq_statuses_source_name")),
    )
    op.create_table(
        "sync_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("stream", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_rejects")),
    )
    with op.batch_alter_table("sync_rejects", schema=None) as batch_op:
        batch_op.create_index("ix_sync_rejects_source_at", ["source", "at"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("stream", sa.String(length=100), nullable=False),
        sa.Column("partition", sa.String(length=300), nullable=False),
        sa.Column("cursor", sa.String(length=100), nullable=True),
        sa.Column("last_started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("rejects", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
        sa.UniqueConstraint(
            "source", "stream", "partition", name=op.f("uq_sync_state_source_stream_partition")
        ),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("project", sa.String(length=200), nullable=True),
        sa.Column("type", sa.String(length=100), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=200), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("priority", sa.String(length=100), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("parent_key", sa.String(length=200), nullable=True),
        sa.Column("epic_key", sa.String(length=200), nullable=True),
        sa.Column("assignee_account", sa.String(length=320), nullable=True),
        sa.Column("reporter_account", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("story_points", sa.Float(), nullable=True),
        sa.Column("sprint", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
        sa.UniqueConstraint("source", "key", name=op.f("uq_work_items_source_key")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_items_assignee_account"), ["assignee_account"], unique=False
        )
        batch_op.create_index("ix_work_items_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_work_items_done_at", ["done_at"], unique=False)
        batch_op.create_index("ix_work_items_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_identities_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("source", "value", name=op.f("uq_identities_source_value")),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_person_id"), ["person_id"], unique=False)

    op.create_table(
        "item_assignments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_account", sa.String(length=320), nullable=True),
        sa.Column("from_account", sa.String(length=320), nullable=True),
        sa.Column("to_account", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_items.id"],
            name=op.f("fk_item_assignments_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_assignments")),
        sa.UniqueConstraint(
            "item_id", "change_id", name=op.f("uq_item_assignments_item_id_change_id")
        ),
    )
    with op.batch_alter_table("item_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_assignments_item_id"), ["item_id"], unique=False)

    op.create_table(
        "item_comments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_account", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_items.id"],
            name=op.f("fk_item_comments_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_comments")),
        sa.UniqueConstraint(
            "item_id", "comment_id", name=op.f("uq_item_comments_item_id_comment_id")
        ),
    )
    with op.batch_alter_table("item_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_comments_item_id"), ["item_id"], unique=False)

    op.create_table(
        "item_transitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_account", sa.String(length=320), nullable=True),
        sa.Column("from_status", sa.String(length=200), nullable=True),
        sa.Column("to_status", sa.String(length=200), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_items.id"],
            name=op.f("fk_item_transitions_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_transitions")),
        sa.UniqueConstraint(
            "item_id",
            "change_id",
            "to_status",
            name=op.f("uq_item_transitions_item_id_change_id_to_status"),
        ),
    )
    with op.batch_alter_table("item_transitions", schema=None) as batch_op:
        batch_op.create_index("ix_item_transitions_at", ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_item_transitions_item_id"), ["item_id"], unique=False)

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_memberships_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_memberships_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "person_id",
            "team_id",
            "valid_from",
            name=op.f("uq_memberships_person_id_team_id_valid_from"),
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_team_id"), ["team_id"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pr_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.String(length=64), nullable=False),
        sa.Column("reviewer_account", sa.String(length=320), nullable=True),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pr_id"],
            ["pull_requests.id"],
            name=op.f("fk_reviews_pr_id_pull_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("pr_id", "review_id", name=op.f("uq_reviews_pr_id_review_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_pr_id"), ["pr_id"], unique=False)

    op.create_table(
        "worklogs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("worklog_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_account", sa.String(length=320), nullable=True),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_items.id"],
            name=op.f("fk_worklogs_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklogs")),
        sa.UniqueConstraint("item_id", "worklog_id", name=op.f("uq_worklogs_item_id_worklog_id")),
    )
    with op.batch_alter_table("worklogs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worklogs_item_id"), ["item_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("worklogs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worklogs_item_id"))

    op.drop_table("worklogs")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_pr_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_team_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("item_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_transitions_item_id"))
        batch_op.drop_index("ix_item_transitions_at")

    op.drop_table("item_transitions")
    with op.batch_alter_table("item_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_comments_item_id"))

    op.drop_table("item_comments")
    with op.batch_alter_table("item_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_assignments_item_id"))

    op.drop_table("item_assignments")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_person_id"))

    op.drop_table("identities")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_updated_at")
        batch_op.drop_index("ix_work_items_done_at")
        batch_op.drop_index("ix_work_items_created_at")
        batch_op.drop_index(batch_op.f("ix_work_items_assignee_account"))

    op.drop_table("work_items")
    op.drop_table("teams")
    op.drop_table("sync_state")
    with op.batch_alter_table("sync_rejects", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_rejects_source_at")

    op.drop_table("sync_rejects")
    op.drop_table("statuses")
    op.drop_table("reports")
    op.drop_table("report_deliveries")
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_pull_requests_updated_at")
        batch_op.drop_index("ix_pull_requests_created_at")
        batch_op.drop_index(batch_op.f("ix_pull_requests_author_account"))

    op.drop_table("pull_requests")
    op.drop_table("people")
    op.drop_table("job_locks")
    with op.batch_alter_table("cluster_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_samples_at"))

    op.drop_table("cluster_samples")
    with op.batch_alter_table("cluster_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_nodes_at"))

    op.drop_table("cluster_nodes")
    with op.batch_alter_table("cluster_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_events_at"))

    op.drop_table("cluster_events")
