"""QR label codes issued before their assets are tagged

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_codes",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("farm_id", postgresql.UUID(as_uuid=False), nullable=True),
        sa.Column("issued_by", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["farm_id"], ["farms.id"], name=op.f("fk_issued_codes_farm_id_farms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_issued_codes")),
    )


def downgrade() -> None:
    op.drop_table("issued_codes")
