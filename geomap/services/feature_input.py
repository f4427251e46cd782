"""Field-write input: GeoJSON Features from a request, validated against their layer.

Everything a client sends is checked here before the database is touched — the Feature's shape,
properties (types, enums by value or label, ranges, unknown fields), geometry (type, closed
rings, Vietnam's extent) and the GPS accuracy rule — and every problem names its field (and the
feature's index in a batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry
from pydantic import ValidationError

from geomap.auth import Principal
from geomap.errors import FieldProblem
from geomap.geometry import check_geometries
from geomap.layers.base import Layer
from geomap.schemas import properties_model, problems_from

FEATURE_MEMBERS = {"type", "id", "geometry", "properties", "bbox"}


@dataclass
class WriteOptions:
    """Per-request switches."""

    force: bool = False  # admins: accept poor GPS accuracy
    confirm_nearby: bool = False  # the client confirms a new asset close to an existing one
    gps_accuracy_max_m: float = 30.0
    max_vertices: int | None = None  # GEOMAP_GEOMETRY_MAX_VERTICES (None: the default bound)


@dataclass
class ParsedFeatures:
    """Validated records and shapely geometries (parallel lists), and every problem found."""

    records: list[dict]
    geoms: list
    problems: list[FieldProblem]


class _BadRings(ValueError):
    """A polygon ring that is not closed or too short."""


def _properties(layer: Layer, item: Any, index: int | None, problems: list[FieldProblem]) -> dict | None:
    """The Feature's properties (with its id), or None when it is not a Feature at all."""
    if not isinstance(item, dict) or item.get("type") != "Feature":
        problems.append(FieldProblem("type", "each item must be a GeoJSON Feature", index))
        return None
    for key in sorted(set(item) - FEATURE_MEMBERS):
        problems.append(FieldProblem(key, "is not a member of a GeoJSON Feature", index))
    props = item.get("properties")
    if not isinstance(props, dict):
        problems.append(FieldProblem("properties", "must be an object", index))
        props = {}
    props = dict(props)
    if item.get("id") is not None:
        if props.get("id") is not None and str(props["id"]) != str(item["id"]):
            problems.append(FieldProblem("id", "Feature id and properties.id differ", index))
        props["id"] = item["id"]
    return props


def gps_limit(layer: Layer, options: WriteOptions) -> float:
    """The worst GPS accuracy (m) accepted for ``layer``: the stricter of the layer's own limit
    (when it declares one) and the global GEOMAP_GPS_ACCURACY_MAX_M."""
    if layer.gps_accuracy_max_m is None:
        return options.gps_accuracy_max_m
    return min(layer.gps_accuracy_max_m, options.gps_accuracy_max_m)


def _gps_problem(layer: Layer, record: dict, options: WriteOptions, principal: Principal,
                 index: int | None) -> FieldProblem | None:
    acc = record.get("gps_accuracy_m")
    limit = gps_limit(layer, options)
    if acc is None or acc <= limit or (options.force and principal.is_admin):
        return None
    return FieldProblem(
        "gps_accuracy_m",
        f"GPS accuracy {acc:g} m is worse than the {limit:g} m allowed for this layer; "
        "wait for a better fix (an administrator can force it)",
        index,
    )


def parse_features(layer: Layer, items: list, single: bool, options: WriteOptions, principal: Principal) -> ParsedFeatures:
    """Validate GeoJSON Features (all of them, reporting every problem)."""
    model = properties_model(layer)
    records: list[dict] = []
    raw_geoms: list = []
    problems: list[FieldProblem] = []
    for i, item in enumerate(items):
        index = None if single else i
        props = _properties(layer, item, index, problems)
        if props is None:
            records.append({})
            raw_geoms.append(None)
            continue
        try:
            record = model.model_validate(props).model_dump()
        except ValidationError as exc:
            problems.extend(problems_from(exc, index=index, layer=layer))
            record = {}
        gps = _gps_problem(layer, record, options, principal, index)
        if gps is not None:
            problems.append(gps)
        records.append(record)
        raw_geoms.append(_shape(item.get("geometry"), index, problems))
    geoms, geom_problems = check_geometries(layer, raw_geoms, indexes=[None] * len(items) if single else None,
                                            max_vertices=options.max_vertices)
    problems.extend(geom_problems)
    return ParsedFeatures(records, geoms, problems)


def _shape(geometry: Any, index: int | None, problems: list[FieldProblem]):
    if geometry is None:
        return None
    try:
        if not isinstance(geometry, dict):
            raise TypeError
        _check_rings(geometry)
        return shapely.geometry.shape(geometry)
    except _BadRings as exc:
        problems.append(FieldProblem("geometry", str(exc), index))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.GEOSException):
        problems.append(FieldProblem(
            "geometry", "not a valid GeoJSON geometry: it needs a known \"type\" and matching \"coordinates\"", index))
    return None


def _check_rings(geometry: dict) -> None:
    """GeoJSON rings must be closed with at least four positions (RFC 7946 §3.1.6); shapely would
    silently close them."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    polygons = [coords] if kind == "Polygon" else (coords if kind == "MultiPolygon" else [])
    for polygon in polygons or []:
        for ring in polygon or []:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                raise _BadRings("each polygon ring must be closed (first position = last) with at least 4 positions")


def geometry_hash_input(geom) -> str:
    """The geometry's hex WKB, as part of a request's content hash."""
    return shapely.to_wkb(geom, hex=True)


def ewkb(geom) -> str:
    """Hex EWKB with SRID 4326 (how geometries are bound in SQL)."""
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)
