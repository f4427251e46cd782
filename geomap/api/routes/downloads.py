"""``GET /api/v1/layers/{layer}/download``: a layer as GeoJSON, GeoPackage, CSV, KML or zipped Shapefile,
in a chosen CRS (``crs=EPSG:9218`` — VN-2000 TM-3 — or any of :mod:`geomap.crs`), for everyone.

Its ``ETag`` comes from the data's version (``max(updated_at)`` of the layer and the layers it
references) and the request, so the same bytes keep the same tag and ``If-None-Match`` gets a 304
without exporting anything."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import text
from starlette.background import BackgroundTask

from geomap.api.deps import PublicReadEngineDep, LayerDep
from geomap.auth import PUBLIC
from geomap.conditional import data_version, http_date, not_modified, validators, weak_etag
from geomap.errors import FieldProblem, InvalidInput
from geomap import crs as crs_registry
from geomap.io.export import MEDIA_TYPES, SUFFIXES, read_layer, write_frame
from geomap.problems import problem
from geomap.services.features import filter_sql

router = APIRouter(prefix="/api/v1", tags=["downloads"])
DOWNLOAD_IGNORED = {"format", "limit", "cursor", "lang", "crs", "labels"}
MAX_DOWNLOAD = 200_000


@router.get("/layers/{layer}/download", summary="Download a layer (public attributes), filtered like the map",
            response_class=FileResponse, responses={304: {"description": "Not modified (If-None-Match)"}})
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
    target = crs_registry.STORAGE if format == "kml" else target
    params = {k: v for k, v in request.query_params.items() if k not in DOWNLOAD_IGNORED}
    where, values = filter_sql(layer, params, PUBLIC)
    with engine.connect() as conn:
        version = data_version(conn, layer)
        tag = weak_etag(version, layer.name, format, target.uri, labels, sorted(params.items()))
        headers = {**validators(tag, http_date(version)), "Content-Crs": crs_registry.content_crs(target)}
        if not_modified(request, tag, headers["Last-Modified"]):
            return Response(status_code=304, headers=headers)
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

    return FileResponse(out, media_type=MEDIA_TYPES[format], filename=out.name, headers=headers,
                        background=BackgroundTask(cleanup))
