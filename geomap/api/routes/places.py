"""``/api/v1/nearby`` and ``/api/v1/farms/{id}/summary``."""

from __future__ import annotations

from fastapi import APIRouter, Query

from geomap.api.deps import ReadEngineDep, PrincipalDep
from geomap.services import places

router = APIRouter(prefix="/api/v1", tags=["places"])


@router.get("/nearby", summary="Nearest assets around a point, with distances in metres")
def nearby(
    engine: ReadEngineDep, principal: PrincipalDep,
    lon: float = Query(..., description="Longitude (WGS84)"),
    lat: float = Query(..., description="Latitude (WGS84)"),
    radius_m: float = Query(100, description="Search radius in metres (≤ 5000)"),
    layers: str | None = Query(None, description="Comma-separated layer names (default: all)"),
    limit: int = Query(20, description="At most this many (≤ 200)"),
) -> dict:
    """For a volunteer standing at a tree, or a visitor looking for wifi."""
    names = [n for n in layers.split(",") if n] if layers else None
    with engine.connect() as conn:
        found = places.nearby(conn, lon, lat, radius_m, names, limit, principal)
    return {"type": "FeatureCollection", "features": found, "numberReturned": len(found)}


@router.get("/farms/{farm_id}/summary", summary="A farm's trees by variety, health and age")
def farm_summary(farm_id: str, engine: ReadEngineDep, principal: PrincipalDep) -> dict:
    """Counts by variety, health and age class; area in hectares and trees per hectare."""
    with engine.connect() as conn:
        return places.farm_summary(conn, farm_id, principal)
