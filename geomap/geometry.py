"""Geometry checks shared by the loader and the API, vectorised with shapely 2.

Every geometry is checked for: presence, the layer's type, its number of vertices (at most
:data:`MAX_VERTICES`, ``GEOMAP_GEOMETRY_MAX_VERTICES``: one 800,000-vertex farm would make every
public read of farms megabytes long), finite coordinates, Vietnam's extent (with a hint when
swapping latitude and longitude would fit) and validity (self-intersection...).
Polygons are promoted to MultiPolygon for MultiPolygon layers; invalid ones are repaired only
when the caller asks.
"""

from __future__ import annotations

import numpy as np
import shapely

from geomap.errors import FieldProblem
from geomap.layers.base import Layer

#: Vietnam's mainland and near-shore islands, then the Hoàng Sa and Trường Sa archipelagos:
#: (min_lon, min_lat, max_lon, max_lat).
VIETNAM_BOXES: tuple[tuple[float, float, float, float], ...] = (
    (102.1, 8.4, 109.5, 23.4),
    (111.0, 15.7, 113.0, 17.2),
    (111.5, 6.0, 117.9, 12.0),
)

#: The national first view (min_lon, min_lat, max_lon, max_lat): the mainland and the Hoàng Sa
#: and Trường Sa archipelagos whole, as the public map opens and as its tiles are prewarmed.
NATIONAL_VIEW: tuple[float, float, float, float] = (102.1, 7.6, 114.6, 23.4)

#: Most vertices one geometry may have. A surveyed orchard boundary has tens to a few hundred.
MAX_VERTICES = 10_000

_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6
_TYPE_IDS = {"Point": {_POINT}, "MultiPolygon": {_POLYGON, _MULTIPOLYGON}}


def in_vietnam(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Boolean mask: which (lon, lat) pairs lie inside Vietnam's extent."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside = np.zeros(lon.shape, dtype=bool)
    for x0, y0, x1, y1 in VIETNAM_BOXES:
        inside |= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    return inside


def extent_problem(lon: float, lat: float, field: str = "geometry", index: int | None = None) -> FieldProblem:
    """The message for a coordinate outside Vietnam, suggesting a swap when that would fit."""
    if bool(in_vietnam(np.array([lat]), np.array([lon]))[0]):
        reason = (
            f"point (lon={lon:g}, lat={lat:g}) is outside Vietnam; latitude and longitude look swapped "
            f"— did you mean lon={lat:g}, lat={lon:g}? GeoJSON order is [longitude, latitude]"
        )
    else:
        reason = f"point (lon={lon:g}, lat={lat:g}) is outside Vietnam's extent (lon 102.1–117.9, lat 6.0–23.4)"
    return FieldProblem(field, reason, index)


def check_geometries(
    layer: Layer,
    geoms: np.ndarray,
    indexes: np.ndarray | None = None,
    repair: bool = False,
    field: str = "geometry",
    max_vertices: int | None = None,
) -> tuple[np.ndarray, list[FieldProblem]]:
    """Check ``geoms`` against ``layer``; return the (promoted/repaired) geometries and problems.

    ``indexes`` are the feature indexes to name in problems (default 0..n-1; None entries for a
    single feature). ``max_vertices``: at most this many vertices per geometry (default
    :data:`MAX_VERTICES`).
    """
    limit = MAX_VERTICES if max_vertices is None else max_vertices
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    idx = np.arange(n) if indexes is None else np.asarray(indexes)
    problems: list[FieldProblem] = []
    bad = np.zeros(n, dtype=bool)

    def report(mask: np.ndarray, reason_of) -> None:
        for i in np.flatnonzero(mask & ~bad):
            problems.append(FieldProblem(field, reason_of(i), _ix(idx[i])))
        bad[mask] = True

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report(missing, lambda i: "geometry is missing or empty")

    type_ids = shapely.get_type_id(geoms)
    wrong_type = ~np.isin(type_ids, list(_TYPE_IDS[layer.geometry])) & ~bad
    report(
        wrong_type,
        lambda i: f"expected a {layer.geometry} for layer '{layer.name}', got a {geoms[i].geom_type}",
    )

    vertices = shapely.get_num_coordinates(geoms)
    report(vertices > limit, lambda i: f"has {vertices[i]:,} vertices; at most {limit:,} are accepted per geometry "
           "— simplify it (a tolerance of 0.5–1 m keeps its shape) and send it again")

    coords, owner = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    finite_rows = np.isfinite(coords[:, :2]).all(axis=1)
    nonfinite = np.zeros(n, dtype=bool)
    nonfinite[owner[~finite_rows]] = True
    report(nonfinite, lambda i: "coordinates must be finite numbers (NaN or Infinity found)")

    outside = np.zeros(n, dtype=bool)
    outside_rows = ~in_vietnam(coords[:, 0], coords[:, 1]) & finite_rows
    outside[owner[outside_rows]] = True
    first_outside: dict[int, int] = {}
    for row in np.flatnonzero(outside_rows):
        first_outside.setdefault(int(owner[row]), int(row))
    report(outside, lambda i: extent_problem(coords[first_outside[i], 0], coords[first_outside[i], 1]).reason)

    if layer.geometry == "MultiPolygon":
        geoms = _polygons(layer, geoms, bad, repair, report)
    return geoms, problems


def _polygons(layer: Layer, geoms: np.ndarray, bad: np.ndarray, repair: bool, report) -> np.ndarray:
    ok = ~bad
    geoms = geoms.copy()
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[ok] = ~shapely.is_valid(geoms[ok])
    if repair and invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        geoms[invalid] = [_only_polygons(g) for g in fixed]
        still = np.zeros(len(geoms), dtype=bool)
        still[invalid] = shapely.is_empty(geoms[invalid]) | ~shapely.is_valid(geoms[invalid])
        invalid = still
    reasons = {int(i): shapely.is_valid_reason(geoms[i]) for i in np.flatnonzero(invalid)}
    report(
        invalid,
        lambda i: f"invalid polygon ({reasons[int(i)]}); fix it, or load with --repair to repair it",
    )
    polygon = np.zeros(len(geoms), dtype=bool)
    polygon[~bad] = shapely.get_type_id(geoms[~bad]) == _POLYGON
    if polygon.any():
        geoms[polygon] = [shapely.MultiPolygon([g]) for g in geoms[polygon]]
    zero = np.zeros(len(geoms), dtype=bool)
    zero[~bad] = shapely.area(geoms[~bad]) <= 0
    report(zero, lambda i: "polygon has no area")
    return geoms


def _only_polygons(geom) -> object:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(p.geoms if p.geom_type == "MultiPolygon" else [p])
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


def _ix(value) -> int | None:
    return None if value is None else int(value)
