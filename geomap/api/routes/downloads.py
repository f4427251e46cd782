"""``GET /api/v1/layers/{layer}/download``: a layer as GeoJSON, GeoPackage, CSV, KML or zipped Shapefile,
in a chosen CRS (``crs=EPSG:9218`` — VN-2000 TM-3 — or any of :mod:`geomap.crs`), for everyone."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import text
from starlette.background import BackgroundTask

from geomap.api.deps import PublicReadEngineDep, LayerDep
from geomap.auth import PUBLIC
from geomap.errors import FieldProblem, InvalidInput
from geomap import crs as crs_registry
from geomap.problems import problem
from geomap.io.export import MEDIA_TYPES, SUFFIXES, read_layer, write_frame
from geomap.services.features import filter_sql

router = APIRouter(prefix="/api/v1", tags=["downloads"])
DOWNLOAD_IGNORED = {"format", "limit", "cursor", "lang", "crs", "labels"}
MAX_DOWNLOAD = 200_000


@router.get("/layers/{layer}/download", summary="Download a layer (public attributes), filtered like the map",
            response_class=FileResponse)
def download(
    layer: LayerDep, request: Request, engine: PublicReadEngineDep,
    format: Literal["geojson", "gpkg", "csv", "kml", "shp"] = Query("geojson", description="File format (shp: zipped)"),
    crs: str | None = Query(None, description="Output CRS, e.g. EPSG:9218 or its OGC URI (KML is always WGS 84)"),
    labels: Literal["vi", "en"] | None = Query(None, description="Write enum values as their labels"),
) -> Response:
    """Takes the same filters as the map and the list API (``health=sau_benh``, ``farm_code=…``, ``bbox``, ``q``)."""
    try:
        target = crs_registry.resolve(crs)
    except InvalidInput as exc:  # an unknown CRS is a bad parameter (400), like on /ogc
        return problem(400, "Bad request", exc.message, errors=[p.as_dict() for p in exc.problems])
    params = {k: v for k, v in request.query_params.items() if k not in DOWNLOAD_IGNORED}
    where, values = filter_sql(layer, params, PUBLIC)
    with engine.connect() as conn:
        n = conn.execute(text(f'SELECT count(*) FROM "{layer.table}" WHERE {" AND ".join(where)}'), values).scalar_one()
    if n > MAX_DOWNLOAD:
        raise InvalidInput([FieldProblem(
            "bbox", f"{n:,} features match; downloads hold at most {MAX_DOWNLOAD:,} — narrow them with bbox, "
            "province, commune or farm_code, or page through /ogc/collections/{layer}/items")])
    gdf = read_layer(engine, layer, where_sql=where, where_values=values)
    folder = Path(tempfile.mkdtemp(prefix="geomap-dl-"))
    out = write_frame(gdf, layer, format, folder / f"{layer.name}.{SUFFIXES.get(format, format)}", target=target, labels=labels)

    def cleanup() -> None:
        out.unlink(missing_ok=True)
        folder.rmdir()

    shown = crs_registry.STORAGE if format == "kml" else target
    return FileResponse(out, media_type=MEDIA_TYPES[format], filename=out.name, background=BackgroundTask(cleanup),
                        headers={"Content-Crs": crs_registry.content_crs(shown)})
