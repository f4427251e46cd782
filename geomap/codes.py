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


def trigger_sql(table: str) -> list[str]:
    """The statements that attach the code triggers to a layer table (rows, and TRUNCATE)."""
    return [
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR DELETE OR UPDATE OF code ON {q(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()",
        f"CREATE TRIGGER {TRIGGER}_truncate AFTER TRUNCATE ON {q(table)} FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()",
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
