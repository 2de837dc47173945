"""reimbursement: the single-use link spent by each decision, and each claim's amount in the
policy currency (what caps, budgets and the payroll export count)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_amount", sa.Numeric(precision=12, scale=2), nullable=True))
    with op.batch_alter_table("claim_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claim_decisions", schema=None) as batch_op:
        batch_op.drop_column("token_id")
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.drop_column("base_amount")
