"""find rollup rows by item or pull request, and keep results computed from them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A refresh after a sync recomputes the weeks a changed item or pull request was
    # counted in: it looks them up by the thing, not by the team and week.
    op.create_index("ix_rollup_things_thing", "rollup_things", ["thing", "thing_id"], unique=False)
    op.create_table(
        "rollup_results",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_results")),
    )


def downgrade() -> None:
    op.drop_table("rollup_results")
    op.drop_index("ix_rollup_things_thing", table_name="rollup_things")
