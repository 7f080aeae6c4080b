"""cbt_ipa: the IPA booking facts move to the core's Booking.provider_facts

Revision ID: d7e8f9a0b1c2
Revises: 9c72610ceb9d
Create Date: 2026-11-23 15:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'd7e8f9a0b1c2'
down_revision = '9c72610ceb9d'
branch_labels = None
depends_on = 'c4f1a2b3d5e6'

FACTS = ("voucher_issued_on", "voucher_expires_on", "exemption_valid_until")


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT booking_id, voucher_issued_on, voucher_expires_on, exemption_valid_until FROM cbt_ipa_booking_facts")).all()
    booking = sa.table("booking", sa.column("id", sa.Integer), sa.column("provider_facts", sa.JSON))
    for booking_id, *values in rows:
        facts = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in zip(FACTS, values) if v is not None}
        bind.execute(booking.update().where(booking.c.id == booking_id).values(provider_facts=facts))
    op.drop_table('cbt_ipa_booking_facts')


def downgrade() -> None:
    op.create_table('cbt_ipa_booking_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('voucher_issued_on', sa.Date(), nullable=True),
    sa.Column('voucher_expires_on', sa.Date(), nullable=True),
    sa.Column('exemption_valid_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id')
    )
    op.create_index('ix_cbt_ipa_booking_facts_organization_id', 'cbt_ipa_booking_facts', ['organization_id'])
    # The facts stay in booking.provider_facts; they are not copied back.
