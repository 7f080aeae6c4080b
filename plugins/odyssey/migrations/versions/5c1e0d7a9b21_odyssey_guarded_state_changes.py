"""odyssey: exam-day version for guarded state changes; constraints for what must never happen;
the CSV line of an imported candidate (set-based import)

Revision ID: 5c1e0d7a9b21
Revises: 83a49af31360
Create Date: 2026-11-23 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5c1e0d7a9b21'
down_revision = '83a49af31360'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('odyssey_exam_day', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            'ck_odyssey_exam_day_clicks_in_order',
            '(results_entered_at IS NULL OR confirmed_at IS NOT NULL) AND '
            '(completed_at IS NULL OR results_entered_at IS NOT NULL)')
    with op.batch_alter_table('odyssey_venue', schema=None) as batch_op:
        batch_op.create_check_constraint('ck_odyssey_venue_deposit_not_negative', 'deposit_balance >= 0')
    with op.batch_alter_table('odyssey_candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('odyssey_candidate', schema=None) as batch_op:
        batch_op.drop_column('line')
    with op.batch_alter_table('odyssey_venue', schema=None) as batch_op:
        batch_op.drop_constraint('ck_odyssey_venue_deposit_not_negative', type_='check')
    with op.batch_alter_table('odyssey_exam_day', schema=None) as batch_op:
        batch_op.drop_constraint('ck_odyssey_exam_day_clicks_in_order', type_='check')
        batch_op.drop_column('version')
