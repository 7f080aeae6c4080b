"""deadline moves

Revision ID: a5e102fc0a52
Revises: c3a1f0d2e7b4
Create Date: 2026-11-23 15:37:51.091605
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import portal.db


revision = 'a5e102fc0a52'
down_revision = 'c3a1f0d2e7b4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deadline_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('record', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('old_at', portal.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('new_at', portal.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('moved_at', portal.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadline_move', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_move_moved_at'), ['moved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadline_move_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadline_move_uid'), ['uid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deadline_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_move_uid'))
        batch_op.drop_index(batch_op.f('ix_deadline_move_organization_id'))
        batch_op.drop_index(batch_op.f('ix_deadline_move_moved_at'))

    op.drop_table('deadline_move')
