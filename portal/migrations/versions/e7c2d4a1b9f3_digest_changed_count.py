"""reminder digests count the deadlines they report as changed

Revision ID: e7c2d4a1b9f3
Revises: 5d1c3a7e9b42
Create Date: 2026-11-25 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e7c2d4a1b9f3'
down_revision = '5d1c3a7e9b42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reminder_digest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('reminder_digest', schema=None) as batch_op:
        batch_op.drop_column('changed')
