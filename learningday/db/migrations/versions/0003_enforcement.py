"""enforcement: record whether each day's summary followed its plan

Revision ID: 0003
Revises: 0002

The weekly audit compares the plan with the summary and reports it to the manager (never flags
it on its own); `followed_plan` keeps the answer with the day, NULL until audited or when there
was nothing to compare.
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learning_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followed_plan", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("learning_days", schema=None) as batch_op:
        batch_op.drop_column("followed_plan")
