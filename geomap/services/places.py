"""Spatial questions: what is near a point. (What a farm holds is the orchard service's: ``farm_summary``
is re-exported here for the API route.)"""

from __future__ import annotations

from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.errors import FieldProblem, InvalidInput
from geomap.geometry import extent_problem, in_vietnam
from geomap.layers.registry import LAYERS, get_layer
from geomap.services.features import to_feature
from geomap.sql import select_sql, visible_sql
from geomap.services.orchard import farm_summary

__all__ = ["nearby", "farm_summary"]

MAX_RADIUS_M = 5000
MAX_NEARBY = 200


def nearby(conn: Connection, lon: float, lat: float, radius_m: float, layer_names: list[str] | None,
           limit: int, principal: Principal) -> list[dict]:
    """Assets within ``radius_m`` of a point, nearest first, each with ``distance_m``."""
    problems = []
    if not (lon == lon and lat == lat) or abs(lon) == float("inf") or abs(lat) == float("inf"):
        problems.append(FieldProblem("lon", "lon and lat must be finite numbers"))
    elif not bool(in_vietnam([lon], [lat])[0]):
        problems.append(extent_problem(lon, lat, field="lon"))
    if not 0 < radius_m <= MAX_RADIUS_M:
        problems.append(FieldProblem("radius_m", f"must be more than 0 and at most {MAX_RADIUS_M}"))
    if not 1 <= limit <= MAX_NEARBY:
        problems.append(FieldProblem("limit", f"must be between 1 and {MAX_NEARBY}"))
    layers = []
    for name in layer_names or [layer.name for layer in LAYERS]:
        try:
            layers.append(get_layer(name))
        except KeyError:
            problems.append(FieldProblem("layers", f"unknown layer '{name}'"))
    if problems:
        raise InvalidInput(problems)
    visible = visible_sql(principal)
    found = []
    for layer in layers:
        rows = conn.execute(
            text(
                f"SELECT * FROM ({select_sql(layer)} WHERE {visible} "
                f"AND geom && ST_Expand(ST_SetSRID(ST_MakePoint(:x, :y), 4326), :deg) "
                f"AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :r)) a "
                f"CROSS JOIN LATERAL (SELECT ST_Distance(ST_GeomFromGeoJSON(a.geometry)::geography, "
                f"ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) AS distance_m) d ORDER BY distance_m LIMIT :n"
            ),
            {"x": lon, "y": lat, "r": radius_m, "deg": radius_m / 100_000 * 2, "n": limit},
        ).mappings().all()
        for r in rows:
            feature = to_feature(layer, r, principal)
            feature["properties"]["layer"] = layer.name
            feature["properties"]["distance_m"] = round(r["distance_m"], 2)
            found.append(feature)
    found.sort(key=lambda f: f["properties"]["distance_m"])
    return found[:limit]
