"""What the field app (``/field``) adds to the API: the signed-in person's profile (team, working
area, layers they may write) and photo uploads under a client-chosen id, so a retried upload is
stored once."""

from __future__ import annotations

from fastapi import APIRouter, File, Path, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from geomap.api.deps import EngineDep, LayerDep, PrincipalDep, ReadEngineDep, SettingsDep, written
from geomap.services import field_profile, photos

router = APIRouter(prefix="/api/v1", tags=["field app"])


@router.get("/field/me", summary="The signed-in person's team, working area and writable layers")
def field_me(principal: PrincipalDep, engine: ReadEngineDep, settings: SettingsDep) -> dict:
    """Username, role, team (code, name, provinces, communes, layers, area as GeoJSON), farms,
    the layers this person may capture in, and the GPS accuracy limit in metres."""
    with engine.connect() as conn:
        return field_profile.profile(conn, principal, gps_accuracy_max_m=settings.gps_accuracy_max_m)


@router.put("/layers/{layer}/features/{asset_id}/photos/{photo_id}", status_code=201,
            summary="Upload a photo under a client-chosen id (a retry is stored once)",
            responses={200: {"description": "This photo id was already stored: the stored photo"}})
async def put_photo(
    layer: LayerDep, asset_id: str, engine: EngineDep, principal: PrincipalDep, settings: SettingsDep, request: Request,
    photo_id: str = Path(description="A UUID the client chose for this photo", max_length=64),
    file: UploadFile = File(..., description="JPEG or PNG; the type is checked by its bytes"),
) -> Response:
    """Like ``POST …/photos`` but idempotent: the same id again returns the stored photo with 200."""
    data = await file.read(photos.MAX_BYTES + 1)

    def store() -> tuple[dict, bool]:
        with engine.begin() as conn:
            return photos.put_photo(conn, settings.home_dir, layer, asset_id, principal, data, photo_id=photo_id,
                                    max_pixels=settings.photo_max_pixels)

    stored, created = await run_in_threadpool(store)
    return written(request, principal, JSONResponse(stored, status_code=201 if created else 200))
