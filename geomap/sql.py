"""SQL building blocks shared by every query: identifier quoting, the bookkeeping columns, the
visibility rule and the SELECT list of a layer.

Identifiers always come from the layer registry (never from a request); values are always bound.
"""

from __future__ import annotations

from geomap.auth import Principal
from geomap.layers.base import Layer

#: Columns every layer table carries for the server's own bookkeeping (never written by a client).
BOOKKEEPING_COLUMNS = (
    "version", "review_state", "review_comment", "created_by", "created_at", "updated_by", "updated_at", "deleted_at",
)

#: What anyone but an administrator may see: live assets that were not rejected in review.
PUBLIC_VISIBLE = "deleted_at IS NULL AND review_state <> 'rejected'"


def q(name: str) -> str:
    """Quote an identifier taken from the registry."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal (for DDL, where PostgreSQL does not take bound parameters)."""
    return "'" + value.replace("'", "''") + "'"


def visible_sql(principal: Principal, include_deleted: bool = False) -> str:
    """The SQL condition for the assets ``principal`` may see (the one visibility rule)."""
    if principal.is_admin:
        return "TRUE" if include_deleted else "deleted_at IS NULL"
    return PUBLIC_VISIBLE


def select_sql(layer: Layer) -> str:
    """SELECT list of every column of ``layer`` with the geometry as GeoJSON."""
    cols = ", ".join(q(c) for c in ["id", *(a.name for a in layer.all_attributes), *BOOKKEEPING_COLUMNS])
    return f"SELECT {cols}, ST_AsGeoJSON(geom, 9) AS geometry FROM {q(layer.table)}"


def writable_columns(layer: Layer) -> list[str]:
    """Columns a write sets from client input: the writable attributes and the geometry."""
    return [a.name for a in layer.writable_attributes] + ["geom"]


def differs_sql(layer: Layer, a: str, b: str) -> str:
    """SQL that is true when rows ``a`` and ``b`` (aliases, or ``EXCLUDED``) differ in any column
    a write sets (:func:`writable_columns`); NULLs compare as values."""
    cols = writable_columns(layer)
    return f"({', '.join(f'{a}.{q(c)}' for c in cols)}) IS DISTINCT FROM ({', '.join(f'{b}.{q(c)}' for c in cols)})"


def in_box_sql(x0: str = ":bx0", y0: str = ":by0", x1: str = ":bx1", y1: str = ":by1", column: str = "geom") -> str:
    """Exactly the geometries that intersect a lon/lat box: ``&&`` lets the GiST index find the
    candidates, ``ST_Intersects`` drops those whose bounding box touches but whose shape does not."""
    box = f"ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, 4326)"
    return f"({column} && {box} AND ST_Intersects({column}, {box}))"
