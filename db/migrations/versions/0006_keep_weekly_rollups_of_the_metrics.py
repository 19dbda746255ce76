"""keep weekly rollups of the metrics

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A pull request's linked keys are looked up without their source (the unique index
    # leads with it): one index on the key alone.
    op.create_index("ix_work_items_key", "work_items", ["key"], unique=False)
    for table in ("work_items", "pull_requests"):
        op.add_column(table, sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True))
        op.create_index(op.f(f"ix_{table}_stored_at"), table, ["stored_at"], unique=False)

    op.create_table(
        "rollup_allocation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("unplanned", sa.Boolean(), nullable=False),
        sa.Column("support", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_allocation")),
    )
    with op.batch_alter_table("rollup_allocation", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_allocation_week", ["week"], unique=False)

    op.create_table(
        "rollup_item_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cycle_hours", sa.Float(), nullable=True),
        sa.Column("lead_hours", sa.Float(), nullable=True),
        sa.Column("active_hours", sa.Float(), nullable=True),
        sa.Column("flow_efficiency", sa.Float(), nullable=True),
        sa.Column("skipped_start", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_item_samples")),
    )
    with op.batch_alter_table("rollup_item_samples", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_item_samples_item", ["item_id"], unique=False)

    op.create_table(
        "rollup_person_load",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("active_item_hours", sa.Float(), nullable=False),
        sa.Column("member_hours", sa.Float(), nullable=False),
        sa.Column("members", sa.Float(), nullable=False),
        sa.Column("load", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_person_load")),
        sa.UniqueConstraint("person", "week", name=op.f("uq_rollup_person_load_person_week")),
    )
    with op.batch_alter_table("rollup_person_load", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_person_load_week", ["week"], unique=False)

    op.create_table(
        "rollup_pull_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pr_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_review_hours", sa.Float(), nullable=True),
        sa.Column("merge_hours", sa.Float(), nullable=True),
        sa.Column("draft_hours", sa.Float(), nullable=True),
        sa.Column("pickup_hours", sa.Float(), nullable=True),
        sa.Column("review_hours", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_pull_samples")),
    )
    with op.batch_alter_table("rollup_pull_samples", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_pull_samples_pr", ["pr_id"], unique=False)

    op.create_table(
        "rollup_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reporter", sa.String(length=200), nullable=True),
        sa.Column("requesting_team", sa.String(length=200), nullable=True),
        sa.Column("serving_person", sa.String(length=200), nullable=True),
        sa.Column("serving_team", sa.String(length=200), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_hours", sa.Float(), nullable=True),
        sa.Column("resolution_hours", sa.Float(), nullable=True),
        sa.Column("first_response_target_hours", sa.Float(), nullable=True),
        sa.Column("resolution_target_hours", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_requests")),
    )
    with op.batch_alter_table("rollup_requests", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_requests_item", ["item_id"], unique=False)

    op.create_table(
        "rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("config_digest", sa.String(length=64), nullable=False),
        sa.Column("memberships", sa.JSON(), nullable=False),
        sa.Column("first_week", sa.Date(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_state")),
    )
    op.create_table(
        "rollup_things",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("thing", sa.String(length=10), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_things")),
    )
    with op.batch_alter_table("rollup_things", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_things_team_week", ["team", "week"], unique=False)

    op.create_table(
        "rollup_team_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("active_item_hours", sa.Float(), nullable=False),
        sa.Column("member_hours", sa.Float(), nullable=False),
        sa.Column("members", sa.Float(), nullable=False),
        sa.Column("load", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_team_load")),
        sa.UniqueConstraint("team", "week", name=op.f("uq_rollup_team_load_team_week")),
    )
    with op.batch_alter_table("rollup_team_load", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_team_load_week", ["week"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_work_items_key", table_name="work_items")
    for table in ("work_items", "pull_requests"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_stored_at"))
            batch_op.drop_column("stored_at")

    with op.batch_alter_table("rollup_team_load", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_team_load_week")

    with op.batch_alter_table("rollup_things", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_things_team_week")

    op.drop_table("rollup_things")
    op.drop_table("rollup_team_load")
    op.drop_table("rollup_state")
    with op.batch_alter_table("rollup_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_requests_item")

    op.drop_table("rollup_requests")
    with op.batch_alter_table("rollup_pull_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_pull_samples_pr")

    op.drop_table("rollup_pull_samples")
    with op.batch_alter_table("rollup_person_load", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_person_load_week")

    op.drop_table("rollup_person_load")
    with op.batch_alter_table("rollup_item_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_item_samples_item")

    op.drop_table("rollup_item_samples")
    with op.batch_alter_table("rollup_allocation", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_allocation_week")

    op.drop_table("rollup_allocation")
