"""Photo upload and download."""

from __future__ import annotations

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from geomap.api.deps import EngineDep, LayerDep, PrincipalDep, ReadEngineDep, SettingsDep, written
from geomap.services import photos

router = APIRouter(prefix="/api/v1", tags=["photos"])


@router.post("/layers/{layer}/features/{asset_id}/photos", status_code=201, summary="Upload a JPEG or PNG photo (≤ 10 MB)")
async def upload_photo(
    layer: LayerDep, asset_id: str, engine: EngineDep, principal: PrincipalDep, settings: SettingsDep, request: Request,
    file: UploadFile = File(..., description="JPEG or PNG; the type is checked by its bytes"),
) -> Response:
    """The photo is re-encoded without EXIF (GPS removed) and gets a thumbnail."""
    data = await file.read(photos.MAX_BYTES + 1)

    def store() -> dict:
        with engine.begin() as conn:
            return photos.add_photo(conn, settings.home_dir, layer, asset_id, principal, data,
                                    max_pixels=settings.photo_max_pixels)

    stored = await run_in_threadpool(store)  # image decoding and the database stay off the event loop
    return written(request, principal, JSONResponse(stored, status_code=201))


@router.get("/layers/{layer}/features/{asset_id}/photos", summary="Photos of an asset")
def list_photos(layer: LayerDep, asset_id: str, engine: ReadEngineDep, principal: PrincipalDep) -> list[dict]:
    """Each with its URL and thumbnail URL."""
    with engine.connect() as conn:
        return photos.list_photos(conn, layer, asset_id, principal)


@router.get("/photos/{name}", summary="A photo or its thumbnail", response_class=FileResponse)
def get_photo(name: str, engine: ReadEngineDep, principal: PrincipalDep, settings: SettingsDep) -> FileResponse:
    """``<id>.jpg``/``<id>.png`` or ``<id>.thumb.jpg``."""
    with engine.connect() as conn:
        path, media_type = photos.photo_file(conn, settings.home_dir, name, principal)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
