"""The spacing rule: a new point closer than its layer's ``min_spacing_m`` to another asset is
probably the same asset (409 naming it, unless the client confirms), and closer than 1 cm is
always a duplicate.

Two volunteers tagging the same tree at the same moment must not both pass the check, so a
create first takes advisory locks on the ~100 m grid cells within reach of each new point.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection, text

from geomap.errors import Conflict
from geomap.io.staging import stage_table
from geomap.layers.base import Layer
from geomap.sql import q

DUPLICATE_M = 0.01
LOCK_CELL_M = 100.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


def applies(layer: Layer) -> bool:
    """Whether the layer has a spacing rule (points with a positive spacing)."""
    return layer.geometry == "Point" and layer.min_spacing_m > 0


def cell_keys(layer: Layer, geoms) -> list[str]:
    """Advisory-lock keys of the grid cells within reach of each new point, in a fixed order
    (none when the layer has no spacing rule)."""
    if not applies(layer):
        return []
    keys = set()
    r = layer.min_spacing_m
    for g in geoms:
        lon_m = _M_PER_DEG_LON_EQUATOR * max(0.1, math.cos(math.radians(g.y)))
        for dx in (-r, r):
            for dy in (-r, r):
                keys.add((math.floor((g.x * lon_m + dx) / LOCK_CELL_M), math.floor((g.y * _M_PER_DEG_LAT + dy) / LOCK_CELL_M)))
    return [f"{layer.name}:{cx}:{cy}" for cx, cy in sorted(keys)]


def nearest_sql(layer: Layer) -> str:
    """Each staged point's nearest asset (stored, or earlier in the batch) within ``:r`` metres
    (``:deg`` degrees for the index): rows of (idx, id, code, d). Empty without a spacing rule."""
    if not applies(layer):
        return "SELECT NULL::int AS idx, NULL::text AS id, NULL::text AS code, NULL::float8 AS d WHERE false"
    return _nearest_sql(layer)


def nearest_params(layer: Layer) -> dict:
    """Parameters of :func:`nearest_sql`."""
    radius = max(layer.min_spacing_m, DUPLICATE_M)
    return {"r": radius, "deg": radius / 100_000.0 * 2}


def _nearest_sql(layer: Layer) -> str:
    stage = stage_table(layer)
    return f"""
        SELECT s.idx, n.id, n.code, n.d FROM {stage} s
        CROSS JOIN LATERAL (
            SELECT t.id::text AS id, t.code, ST_Distance(t.geom::geography, s.geom::geography) AS d
              FROM {q(layer.table)} t
             WHERE t.deleted_at IS NULL AND t.id <> s.id AND t.geom && ST_Expand(s.geom, CAST(:deg AS float8))
               AND ST_DWithin(t.geom::geography, s.geom::geography, CAST(:r AS float8))
            UNION ALL
            SELECT o.id::text, o.code, ST_Distance(o.geom::geography, s.geom::geography)
              FROM {stage} o WHERE o.idx < s.idx AND o.geom && ST_Expand(s.geom, CAST(:deg AS float8))
               AND ST_DWithin(o.geom::geography, s.geom::geography, CAST(:r AS float8))
             ORDER BY 3 LIMIT 1
        ) n
        ORDER BY s.idx
    """


def nearby_conflicts(layer: Layer, rows, confirm_nearby: bool, single: bool) -> list[Conflict]:
    """Conflicts of the rows of :func:`nearest_sql`: staged points too close to a stored asset
    or to an earlier point of the same batch."""
    out = []
    for r in rows:
        duplicate = r.d < DUPLICATE_M
        if not duplicate and confirm_nearby:
            continue
        where = "" if single else f"feature {r.idx}: "
        msg = (
            f"{where}an asset is already at this exact spot ({r.code}, {r.d * 100:.1f} cm away): a duplicate"
            if duplicate
            else f"{where}{r.code} is {r.d:.2f} m away (closer than {layer.min_spacing_m:g} m); "
            "is it the same asset? To tag a new one here, send confirm_nearby=true"
        )
        out.append(Conflict(msg, {"index": None if single else int(r.idx),
                                  "nearby": {"id": r.id, "code": r.code, "distance_m": round(r.d, 3)}}))
    return out


def raise_nearby(layer: Layer, rows, confirm_nearby: bool, single: bool) -> None:
    """Raise the nearby conflicts of the staged points (one, or all of a batch's together)."""
    conflicts = nearby_conflicts(layer, rows, confirm_nearby, single)
    if len(conflicts) == 1:
        raise conflicts[0]
    if conflicts:
        raise Conflict("; ".join(c.message for c in conflicts[:20]), {"conflicts": [c.details for c in conflicts]})
