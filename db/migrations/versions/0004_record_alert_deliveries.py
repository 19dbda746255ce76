"""record alert deliveries

One row per alert event (a team entering a flood, a forecast flood, SLA breaches in a
week) and recipient, unique, so each event reaches each recipient once (`db.alert_ledger`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=300), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("event", "recipient", name=op.f("uq_alert_deliveries_event_recipient")),
    )


def downgrade() -> None:

    op.drop_table("alert_deliveries")
