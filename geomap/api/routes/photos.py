"""Photo upload and download."""

from __future__ import annotations

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse

from geomap.api.deps import EngineDep, LayerDep, PrincipalDep, SettingsDep
from geomap.services import photos

router = APIRouter(prefix="/api/v1", tags=["photos"])


@router.post("/layers/{layer}/features/{asset_id}/photos", status_code=201, summary="Upload a JPEG or PNG photo (≤ 10 MB)")
async def upload_photo(
    layer: LayerDep, asset_id: str, engine: EngineDep, principal: PrincipalDep, settings: SettingsDep,
    file: UploadFile = File(..., description="JPEG or PNG; the type is checked by its bytes"),
) -> dict:
    """The photo is re-encoded without EXIF (GPS removed) and gets a thumbnail."""
    data = await file.read(photos.MAX_BYTES + 1)
    with engine.begin() as conn:
        return photos.add_photo(conn, settings.home_dir, layer, asset_id, principal, data)


@router.get("/layers/{layer}/features/{asset_id}/photos", summary="Photos of an asset")
def list_photos(layer: LayerDep, asset_id: str, engine: EngineDep, principal: PrincipalDep) -> list[dict]:
    """Each with its URL and thumbnail URL."""
    with engine.connect() as conn:
        return photos.list_photos(conn, layer, asset_id, principal)


@router.get("/photos/{name}", summary="A photo or its thumbnail", response_class=FileResponse)
def get_photo(name: str, engine: EngineDep, principal: PrincipalDep, settings: SettingsDep) -> FileResponse:
    """``<id>.jpg``/``<id>.png`` or ``<id>.thumb.jpg``."""
    with engine.connect() as conn:
        path, media_type = photos.photo_file(conn, settings.home_dir, name, principal)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
