"""rules version per organisation; indexes for the dashboard and the lapse check

Revision ID: c3a1f0d2e7b4
Revises: c4f1a2b3d5e6
Create Date: 2026-11-23 15:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3a1f0d2e7b4'
down_revision = 'c4f1a2b3d5e6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN / CREATE INDEX (no batch table copy: the booking table keeps its
    # partial unique indexes on SQLite).
    op.add_column('organization', sa.Column('rules_version', sa.BigInteger(), server_default='0', nullable=False))
    op.create_index('ix_booking_deadline_organization_id_at', 'booking_deadline', ['organization_id', 'at'], unique=False)
    op.create_index('ix_booking_payment_due_at', 'booking', ['payment_due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_booking_payment_due_at', table_name='booking')
    op.drop_index('ix_booking_deadline_organization_id_at', table_name='booking_deadline')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('rules_version')
