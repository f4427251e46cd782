"""Code claims kept set-based: one statement-level trigger per event instead of one call per row;
loaded_files, so reloading an unchanged file changes nothing at once

The row trigger of 0005 ran a plpgsql call and a single-row INSERT into ``asset_codes`` for every
row a bulk load wrote (about a second per 100,000 trees). The statement-level triggers read the
statement's transition tables and claim or release all codes in one INSERT/DELETE each.
The function and triggers come from ``geomap/codes.py``, which new layers' migrations also use; a
later change to them needs a migration of its own.

Revision ID: 0007
Revises: 0006
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geomap.codes import CLAIM_FUNCTION, trigger_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LAYER_TABLES = ("farms", "durian_trees", "wifi_points", "digital_libraries", "border_markers", "heritage_sites")


def _row_function() -> str:
    """0005's row-level function, which a downgrade restores (read from 0005 itself)."""
    spec = importlib.util.spec_from_file_location("geomap_migration_0005", Path(__file__).with_name("0005_asset_codes.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CLAIM_FUNCTION


TRIGGERS = ("geomap_claim_code", "geomap_claim_code_update", "geomap_claim_code_delete", "geomap_claim_code_truncate")


def _drop_triggers(table: str) -> None:
    for name in TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')


def upgrade() -> None:
    op.create_table(
        "loaded_files",
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("results", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_loaded_files")),
    )
    op.execute(CLAIM_FUNCTION)
    for table in LAYER_TABLES:
        _drop_triggers(table)
        for sql in trigger_sql(table):
            op.execute(sql)


def downgrade() -> None:
    op.drop_table("loaded_files")
    op.execute(_row_function())
    for table in LAYER_TABLES:
        _drop_triggers(table)
        op.execute(f'CREATE TRIGGER geomap_claim_code AFTER INSERT OR DELETE OR UPDATE OF code ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION geomap_claim_code()")
        op.execute(f'CREATE TRIGGER geomap_claim_code_truncate AFTER TRUNCATE ON "{table}" '
                   "FOR EACH STATEMENT EXECUTE FUNCTION geomap_claim_code()")
