"""sessions and sign-in limits: a session version per person, and the sign-in requests counted

Revision ID: 0006
Revises: 0005

- `people.session_version`: carried in every session cookie; signing out and deactivation bump
  it, so every session of that person ends (cookies from before this revision carry none and
  are refused: people sign in once more);
- `sign_in_requests`: each request for a sign-in link (a keyed digest of the address, the client
  IP, the time), counted against the per-address and per-IP limits across web replicas.
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "sign_in_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_requests"),
    )
    op.create_index("ix_sign_in_requests_address_hash", "sign_in_requests", ["address_hash"])
    op.create_index("ix_sign_in_requests_client_ip", "sign_in_requests", ["client_ip"])
    op.create_index("ix_sign_in_requests_requested_at", "sign_in_requests", ["requested_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_requests_requested_at", table_name="sign_in_requests")
    op.drop_index("ix_sign_in_requests_client_ip", table_name="sign_in_requests")
    op.drop_index("ix_sign_in_requests_address_hash", table_name="sign_in_requests")
    op.drop_table("sign_in_requests")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("session_version")
