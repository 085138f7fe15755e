"""Assessment scoring (考核评分): indicator results filed and verified, bonus and veto records, and
the stored scorecards with the version and SHA-256 of the rules they were computed by.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import states.model

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=50), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', states.model.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('bonus','veto')", name=op.f('ck_assessment_records_kind')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_assessment_records_department_id_departments')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_assessment_records_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_records'))
    )
    with op.batch_alter_table('assessment_records', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_records_period_department_id', ['period', 'department_id'], unique=False)

    op.create_table('indicator_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=50), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filed_by', sa.Integer(), nullable=False),
    sa.Column('filed_at', states.model.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', states.model.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.CheckConstraint("status IN ('filed','verified','rejected')", name=op.f('ck_indicator_results_status')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_indicator_results_decided_by_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_indicator_results_department_id_departments')),
    sa.ForeignKeyConstraint(['filed_by'], ['users.id'], name=op.f('fk_indicator_results_filed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_results')),
    sa.UniqueConstraint('period', 'code', name=op.f('uq_indicator_results_period_code'))
    )
    with op.batch_alter_table('indicator_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_results_department_id'), ['department_id'], unique=False)

    op.create_table('scorecards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('rules_version', sa.String(length=50), nullable=False),
    sa.Column('rules_sha256', sa.String(length=64), nullable=False),
    sa.Column('computed_at', states.model.UTCDateTime(), nullable=False),
    sa.Column('computed_by', sa.Integer(), nullable=True),
    sa.Column('total', sa.String(length=20), nullable=False),
    sa.Column('grade', sa.String(length=50), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['computed_by'], ['users.id'], name=op.f('fk_scorecards_computed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecards'))
    )
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.create_index('ix_scorecards_period_department', ['period', 'department'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.drop_index('ix_scorecards_period_department')

    op.drop_table('scorecards')
    with op.batch_alter_table('indicator_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_results_department_id'))

    op.drop_table('indicator_results')
    with op.batch_alter_table('assessment_records', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_records_period_department_id')

    op.drop_table('assessment_records')
