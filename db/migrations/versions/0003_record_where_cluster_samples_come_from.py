"""record where cluster samples come from

A cluster sample is observed (a live snapshot, or Prometheus history) or rebuilt from
the pods the Kubernetes API still lists (`pod_history`); `origin` names the stream that
wrote it (null: stored before this revision, by a snapshot or the Prometheus backfill).
A rebuilt sample cannot know how many pods were pending, so the pending counts may be
null: not known, rather than zero.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("cluster_samples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=40), nullable=True))
        batch_op.alter_column("pods_pending", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("gpu_pods_pending", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:

    # a rebuilt sample's unknown pending counts read as zero again
    for column in ("pods_pending", "gpu_pods_pending"):
        op.execute(f"UPDATE cluster_samples SET {column} = 0 WHERE {column} IS NULL")
    with op.batch_alter_table("cluster_samples", schema=None) as batch_op:
        batch_op.alter_column("gpu_pods_pending", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("pods_pending", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("origin")
