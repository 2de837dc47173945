"""one truth: check-in revisions, claim submission keys, delivery problems, the installation id

Revision ID: 0005
Revises: 0004

- `check_ins.revision`: which accepted version of the check-in the row holds, so a second write
  of a different text for the same version is refused instead of silently overwriting;
- `expense_claims.submission_key`: a redelivered submission (Slack `view.id`, a form nonce)
  finds its claim instead of filing another;
- `delivery_problems`: steps outside a day's core that failed for good, for the admins' page;
- `installation`: a random id per installation, part of every Message-ID.
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_expense_claims_submission_key", ["submission_key"])
    op.create_table(
        "delivery_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_delivery_problems_person_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_problems"),
        sa.UniqueConstraint("key", name="uq_delivery_problems_key"),
    )
    op.create_index("ix_delivery_problems_step", "delivery_problems", ["step"])
    op.create_index("ix_delivery_problems_person_id", "delivery_problems", ["person_id"])
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("install_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_installation"),
    )


def downgrade() -> None:
    op.drop_table("installation")
    op.drop_index("ix_delivery_problems_person_id", table_name="delivery_problems")
    op.drop_index("ix_delivery_problems_step", table_name="delivery_problems")
    op.drop_table("delivery_problems")
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.drop_constraint("uq_expense_claims_submission_key", type_="unique")
        batch_op.drop_column("submission_key")
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_column("revision")
