"""One code namespace across all layers (asset_codes, kept by a trigger on each layer table)

Refuses to run, with a report, when existing assets of different layers share a code (ignoring
case): an administrator decides which asset keeps it and recodes the others first.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The layer tables at this revision (a later layer's migration attaches the trigger itself).
LAYER_TABLES = ("farms", "durian_trees", "wifi_points", "digital_libraries", "border_markers", "heritage_sites")

CLAIM_FUNCTION = """
CREATE OR REPLACE FUNCTION geomap_claim_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM asset_codes WHERE layer = TG_TABLE_NAME;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM asset_codes WHERE code_key = lower(OLD.code) AND asset_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO asset_codes (code_key, code, layer, asset_id) VALUES (lower(NEW.code), NEW.code, TG_TABLE_NAME, NEW.id);
    END IF;
    RETURN NULL;
END $$
"""


class CodeClash(RuntimeError):
    """Existing assets of different layers share a code."""


def _all_codes() -> str:
    return " UNION ALL ".join(f"SELECT '{t}' AS layer, id, code FROM \"{t}\"" for t in LAYER_TABLES)


def upgrade() -> None:
    clashes = op.get_bind().execute(sa.text(
        f"SELECT lower(code) AS key, string_agg(layer || ' ' || code || ' (' || id || ')', ', ' ORDER BY layer) AS who "
        f"FROM ({_all_codes()}) c GROUP BY lower(code) HAVING count(*) > 1 ORDER BY 1 LIMIT 50"
    )).all()
    if clashes:
        report = "\n".join(f"  {r.key}: {r.who}" for r in clashes)
        raise CodeClash(
            "a QR code must name one asset, but these codes are used by more than one asset (ignoring case):\n"
            f"{report}\nGive all but one of each a new code (PATCH its code, or edit and reload the file), "
            "then run the upgrade again. Nothing was changed."
        )
    op.create_table(
        "asset_codes",
        sa.Column("code_key", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("asset_id", postgresql.UUID(as_uuid=False), nullable=False),
        sa.PrimaryKeyConstraint("code_key", name=op.f("pk_asset_codes")),
    )
    op.create_index("ix_asset_codes_asset", "asset_codes", ["asset_id"])
    op.execute(f"INSERT INTO asset_codes (code_key, code, layer, asset_id) SELECT lower(code), code, layer, id FROM ({_all_codes()}) c")
    op.execute(CLAIM_FUNCTION)
    for table in LAYER_TABLES:
        op.execute(f'CREATE TRIGGER geomap_claim_code AFTER INSERT OR DELETE OR UPDATE OF code ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION geomap_claim_code()")
        op.execute(f'CREATE TRIGGER geomap_claim_code_truncate AFTER TRUNCATE ON "{table}" '
                   "FOR EACH STATEMENT EXECUTE FUNCTION geomap_claim_code()")


def downgrade() -> None:
    for table in LAYER_TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS geomap_claim_code ON "{table}"')
        op.execute(f'DROP TRIGGER IF EXISTS geomap_claim_code_truncate ON "{table}"')
    op.execute("DROP FUNCTION IF EXISTS geomap_claim_code()")
    op.drop_index("ix_asset_codes_asset", table_name="asset_codes")
    op.drop_table("asset_codes")
