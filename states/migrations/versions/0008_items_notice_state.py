"""Items by notice and state: the closing transition asks whether the notice still has an open item.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index("ix_items_notice_id_state", ["notice_id", "state"], unique=False)
        batch_op.drop_index("ix_items_notice_id")


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index("ix_items_notice_id", ["notice_id"], unique=False)
        batch_op.drop_index("ix_items_notice_id_state")
