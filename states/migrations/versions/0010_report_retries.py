"""Report requests that fail are retried with backoff: attempts and the next try.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_requests", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("attempts")
