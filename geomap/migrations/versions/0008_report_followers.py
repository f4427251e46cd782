"""report_followers: a "me too" reporter's own follow link (instead of the first reporter's), and
what they wrote and their contact, for the owning team

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_followers",
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("report_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("device_id", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reporter_name", sa.Text(), nullable=True),
        sa.Column("reporter_phone", sa.Text(), nullable=True),
        sa.Column("reporter_email", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], name=op.f("fk_report_followers_report_id_reports"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_report_followers")),
    )
    op.create_index(op.f("ix_report_followers_report_id"), "report_followers", ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_report_followers_report_id"), table_name="report_followers")
    op.drop_table("report_followers")
