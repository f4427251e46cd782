"""One code namespace across every layer: what a printed QR label (``/a/{code}``) names.

Codes are unique per layer table and, through ``asset_codes``, across all layers and regardless
of case — so a wifi point cannot take the code printed on a heritage site's sign. A trigger on each
layer table keeps ``asset_codes`` in step with every write path (field API, bulk load, edits);
migration 0005 installs it on the existing layers and autogenerate adds it for a new layer's table
(:func:`trigger_sql`, used by ``geomap/migrations/env.py``).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, text

from geomap.sql import q

TRIGGER = "geomap_claim_code"


#: Claims and releases codes for a whole statement at once, from its transition tables
#: (``new_rows``/``old_rows``): a million-row load makes one INSERT into ``asset_codes``, not a
#: million. An update releases and claims only the codes that changed.
CLAIM_FUNCTION = """
CREATE OR REPLACE FUNCTION geomap_claim_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM asset_codes WHERE layer = TG_TABLE_NAME;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO asset_codes (code_key, code, layer, asset_id)
        SELECT lower(n.code), n.code, TG_TABLE_NAME, n.id FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM asset_codes c USING old_rows o WHERE c.code_key = lower(o.code) AND c.asset_id = o.id;
    ELSE
        DELETE FROM asset_codes c USING old_rows o JOIN new_rows n ON n.id = o.id
         WHERE o.code IS DISTINCT FROM n.code AND c.code_key = lower(o.code) AND c.asset_id = o.id;
        INSERT INTO asset_codes (code_key, code, layer, asset_id)
        SELECT lower(n.code), n.code, TG_TABLE_NAME, n.id FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE o.code IS DISTINCT FROM n.code;
    END IF;
    RETURN NULL;
END $$
"""


def trigger_sql(table: str) -> list[str]:
    """The statements that attach the code triggers to a layer table: one statement-level trigger
    per event, each reading its transition tables, and one for TRUNCATE."""
    t = q(table)
    run = f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
    return [
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER {TRIGGER}_update AFTER UPDATE ON {t} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER {TRIGGER}_delete AFTER DELETE ON {t} REFERENCING OLD TABLE AS old_rows {run}",
        f"CREATE TRIGGER {TRIGGER}_truncate AFTER TRUNCATE ON {t} {run}",
    ]


class Located(NamedTuple):
    """Where a code lives: the layer, the asset's id, and the code as stored."""

    layer: str
    asset_id: str
    code: str


def locate(conn: Connection, code: str) -> Located | None:
    """The asset holding ``code`` in any layer (case-insensitive), or None."""
    row = conn.execute(text("SELECT layer, asset_id::text, code FROM asset_codes WHERE code_key = lower(:c)"),
                       {"c": code.strip()}).first()
    return Located(*row) if row is not None else None
