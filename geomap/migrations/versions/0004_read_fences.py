"""Read-your-own-writes fences for read replicas (unlogged)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_fences",
        sa.Column("user_id", postgresql.UUID(as_uuid=False), nullable=False),
        sa.Column("lsn", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_read_fences_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_read_fences")),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("read_fences")
