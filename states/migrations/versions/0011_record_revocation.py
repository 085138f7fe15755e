"""Bonus and veto records can be withdrawn (撤销): who, when and why; the record is kept.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoke_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_assessment_records_revoked_by_users"), "users", ["revoked_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assessment_records_revoked_by_users"), type_="foreignkey")
        batch_op.drop_column("revoke_reason")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("revoked_by")
