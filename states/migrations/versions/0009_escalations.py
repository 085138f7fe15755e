"""Escalations (升级记录): the scan records each level an item reached; the fan-out writes the messages.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("fanout", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("item_id", "target", "level", "due", name=op.f("uq_escalations_item_id_target_level_due")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_fanout", ["fanout"], unique=False)
    # Levels queued before this migration already have their messages: record them as fanned out.
    op.execute(
        "INSERT INTO escalations (item_id, target, level, due, due_at, created_at, fanout) "
        "SELECT item_id, target, kind, due, MIN(due_at), MIN(created_at), 'migrated' FROM outbox "
        "WHERE kind IN ('reminder','due_today','overdue','supervision','talk') "
        "AND item_id IS NOT NULL AND target IS NOT NULL AND due IS NOT NULL "
        "GROUP BY item_id, target, kind, due"
    )


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_fanout")
    op.drop_table("escalations")
