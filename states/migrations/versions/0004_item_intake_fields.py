"""Item fields filled by imported lists and notice texts: standard, points, responsible person,
proposed measures, and the lead leader's name when no user has it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("lead_leader_name", sa.String(length=100), nullable=True),
        sa.Column("standard", sa.Text(), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("responsible", sa.String(length=100), nullable=True),
        sa.Column("proposed_measures", sa.JSON(), nullable=True),
    ]


def upgrade() -> None:
    for column in _columns():
        op.add_column("items", column)


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
