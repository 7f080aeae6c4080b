"""rules version per organisation; indexes for the dashboard and lapse check

Revision ID: c3a1f0d2e7b4
Revises: b928dd913f0a
Create Date: 2026-11-23 15:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3a1f0d2e7b4'
down_revision = 'b928dd913f0a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_version', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('booking_deadline', schema=None) as batch_op:
        batch_op.create_index('ix_booking_deadline_organization_id_at', ['organization_id', 'at'], unique=False)
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_payment_due_at', ['payment_due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_payment_due_at')
    with op.batch_alter_table('booking_deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_deadline_organization_id_at')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('rules_version')
