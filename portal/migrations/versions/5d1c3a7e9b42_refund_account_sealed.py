"""refund accounts encrypted at rest: one sealed column instead of the clear-text fields

Revision ID: 5d1c3a7e9b42
Revises: a5baa9924991
Create Date: 2026-11-23 15:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5d1c3a7e9b42'
down_revision = 'a5baa9924991'
branch_labels = None
depends_on = None

CLEAR = ("bank_code", "branch_code", "account_type", "account_number", "holder")


def upgrade() -> None:
    from portal import crypto  # the app's key (migrations run in the app context)
    with op.batch_alter_table('refund_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Text(), nullable=True))
    conn = op.get_bind()
    table = sa.table('refund_account', sa.column('id', sa.Integer), sa.column('sealed', sa.Text),
                     *(sa.column(name, sa.String) for name in CLEAR))
    for row in conn.execute(sa.select(table.c.id, *(table.c[name] for name in CLEAR))).mappings().all():
        conn.execute(table.update().where(table.c.id == row["id"])
                     .values(sealed=crypto.seal({name: row[name] for name in CLEAR})))
    with op.batch_alter_table('refund_account', schema=None) as batch_op:
        batch_op.alter_column('sealed', existing_type=sa.Text(), nullable=False)
        for name in CLEAR:
            batch_op.drop_column(name)


def downgrade() -> None:
    raise NotImplementedError("refund accounts stay encrypted: restore a backup to go back")
