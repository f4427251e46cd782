"""``POST /api/v1/admin/uploads``: administrators load asset files (Shapefile, GeoPackage, GeoJSON, CSV)."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from geomap.api.deps import EngineDep, PrincipalDep, SettingsDep, written
from geomap.layers.registry import get_layer
from geomap.services.uploads import load_upload

router = APIRouter(prefix="/api/v1/admin", tags=["uploads"])


@router.post("/uploads", summary="Bulk-load one asset file (admin); any CRS with a .prj, e.g. VN-2000 / TM-3")
def upload(
    request: Request, engine: EngineDep, principal: PrincipalDep, settings: SettingsDep,
    files: list[UploadFile] = File(..., description="One asset file, plus a .shp's .shx/.dbf/.prj/.cpg"),
    layer: str | None = Form(None, description="Layer name (default: from the file name)"),
) -> JSONResponse:
    """All or nothing, like ``geomap load``; the answer counts new, updated and unchanged assets."""
    results = load_upload(engine, principal, [(f.filename or "", f.file) for f in files], layer,
                          max_vertices=settings.geometry_max_vertices)
    body = {"results": [{"layer": r.layer, "source": r.source.rsplit("/", 1)[-1], "features": r.features,
                         "inserted": r.inserted, "updated": r.updated, "unchanged": r.unchanged} for r in results]}
    response = JSONResponse(body)
    for r in results:
        written(request, principal, response, get_layer(r.layer))
    return response
