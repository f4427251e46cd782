"""Citizen report routes under ``/api/v1/reports``: thin wrappers over :mod:`geomap.reports`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from geomap.api.deps import EngineDep, PrincipalDep, ReadEngineDep, SettingsDep, written
from geomap.api.proxies import TrustedProxies
from geomap.api.report_schemas import ReportCreated, ReportPhoto, ReportPublic, ReportTeam, SimilarOut
from geomap.errors import FieldProblem, InvalidInput
from geomap.reports import categories, create, export, handling, photos, queries
from geomap.reports.submission import ReportInput
from geomap.services.features import parse_bbox
from geomap.services.photos import MAX_BYTES
from geomap.settings import Settings

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, description="Makes a retried POST safe")]
DeviceId = Annotated[str | None, Header(alias="X-Device-Id", max_length=200, description="The phone's own random id")]
FollowToken = Annotated[str | None, Header(alias="X-Follow-Token", max_length=200, description="The report's follow token")]


class ReportIn(BaseModel):
    """A citizen's report. The place: ``asset_code`` (the QR code) and/or ``lon``/``lat``."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(..., max_length=200, description="<layer>.<category>, e.g. wifi_points.mat_ket_noi "
                          "(or just mat_ket_noi with asset_code)")
    description: str | None = Field(None, max_length=20_000)
    asset_code: str | None = Field(None, max_length=200)
    asset_id: str | None = Field(None, max_length=64)
    lon: float | None = None
    lat: float | None = None
    reporter_name: str | None = Field(None, max_length=1000, description="Private: never shown publicly")
    reporter_phone: str | None = Field(None, max_length=1000, description="Private: never shown publicly")
    reporter_email: str | None = Field(None, max_length=1000, description="Private: never shown publicly")
    media_url: str | None = Field(None, max_length=2000, description="A link to a photo elsewhere (http/https)")
    client_id: str | None = Field(None, max_length=200, description="Your id for this report: a retry answers the same report")
    device_id: str | None = Field(None, max_length=200)


class TransitionIn(BaseModel):
    """A new state, with the reason everyone will read (required to close or reject)."""

    model_config = ConfigDict(extra="forbid")
    state: str = Field(..., max_length=40)
    public_reason: str | None = Field(None, max_length=5000)


class VisibilityIn(BaseModel):
    """Publish (``true``) or hide a report."""

    model_config = ConfigDict(extra="forbid")
    visible: bool


def client_address(request: Request, settings: Settings) -> str:
    """The caller's address as the rate limits see it (a trusted proxy's X-Forwarded-For honoured)."""
    return TrustedProxies(settings.trusted_proxies).client(request.scope).address


def limits_of(settings: Settings) -> create.Limits:
    """The report rate limits configured in ``settings``."""
    return create.Limits(settings.report_rate_per_ip_per_hour, settings.report_rate_per_device_per_hour)


def follow_url(settings: Settings, token: str) -> str:
    """The reporter's follow link (the page ``/r/<token>``)."""
    return f"{settings.public_url.rstrip('/')}/r/{token}"


def wake_webhooks(request: Request) -> None:
    """After a committed change: let the webhook worker send what was queued at once."""
    worker = getattr(request.app.state, "webhooks", None)
    if worker is not None:
        worker.wake()


@router.get("/categories", summary="Report categories of every layer")
def list_categories(layer: str | None = Query(None, max_length=64, description="Only this layer's")) -> list[dict]:
    """``code`` (``<layer>.<category>``) with Vietnamese and English labels."""
    return [categories.describe(c) for c in categories.all_categories() if layer is None or c.layer.name == layer]


@router.post("", status_code=201, summary="Report a problem (no account needed)", response_model=ReportCreated,
             responses={200: {"description": "A retry of the same client_id, or 'me too' on an open report of the same problem"}})
def create_report(body: ReportIn, request: Request, engine: EngineDep, settings: SettingsDep, principal: PrincipalDep,
                  idempotency_key: IdemKey = None, device: DeviceId = None) -> Response:
    """201 with the report and its follow link; 200 for a retry of the same ``client_id``
    (``Idempotency-Key``) or when an open report of the same problem exists ("me too")."""
    data = ReportInput(**{**body.model_dump(), "client_id": body.client_id or idempotency_key,
                          "device_id": body.device_id or device}, client_addr=client_address(request, settings))
    with engine.begin() as conn:
        done = create.create_report(conn, data, limits_of(settings))
    wake_webhooks(request)
    out = {"outcome": done.outcome, "follow_token": done.follow_token, "follow_url": follow_url(settings, done.follow_token),
           "report": done.report}
    return written(request, principal, JSONResponse(out, status_code=201 if done.outcome == "created" else 200))


def _date(value: str | None, field: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput([FieldProblem(field, "is not an ISO 8601 date or date-time")]) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def public_filters(category: str | None = Query(None, max_length=200), layer: str | None = Query(None, max_length=64),
                   state: str | None = Query(None, max_length=200), asset_code: str | None = Query(None, max_length=200),
                   bbox: str | None = Query(None, max_length=200), start_date: str | None = Query(None, max_length=40),
                   end_date: str | None = Query(None, max_length=40), updated_since: str | None = Query(None, max_length=40),
                   limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)) -> queries.ReportFilters:
    """The public list's filters: ``state=open,acknowledged``; ``bbox=x0,y0,x1,y1``; dates in ISO 8601."""
    return queries.ReportFilters(
        category=category, layer=layer, states=tuple(s for s in (state or "").split(",") if s), asset_code=asset_code,
        bbox=parse_bbox(bbox) if bbox else None, start=_date(start_date, "start_date"), end=_date(end_date, "end_date"),
        updated_since=_date(updated_since, "updated_since"), limit=limit, offset=offset)


FiltersDep = Annotated[queries.ReportFilters, Depends(public_filters)]


@router.get("", summary="Published reports", response_model=list[ReportPublic])
def list_reports(engine: ReadEngineDep, filters: FiltersDep) -> list[dict]:
    """Newest first; ``state=open,acknowledged``; ``bbox=x0,y0,x1,y1``; dates in ISO 8601."""
    with engine.connect() as conn:
        return queries.list_reports(conn, filters)


@router.get("/download", summary="Published reports as CSV", response_class=PlainTextResponse)
def download(engine: ReadEngineDep, filters: FiltersDep) -> Response:
    """The same filters as the list; public columns only; formulas neutralised."""
    with engine.connect() as conn:
        body = export.reports_csv(queries.list_reports(conn, filters))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="reports.csv"'})


@router.get("/similar", summary="Would this report join an open one? (ask before sending)", response_model=SimilarOut)
def similar(engine: ReadEngineDep, category: str = Query(..., max_length=200), asset_code: str | None = Query(None, max_length=200),
            lon: float | None = None, lat: float | None = None) -> dict:
    """``{"similar": null}`` or a short summary of the open report of the same problem ("me too")."""
    data = ReportInput(category=category, asset_code=asset_code, lon=lon, lat=lat, description="?")
    with engine.connect() as conn:
        return {"similar": create.similar_open_report(conn, data)}


@router.get("/queue", summary="The reports of my team (or all, for an administrator)", response_model=list[ReportTeam])
def team_queue(engine: ReadEngineDep, principal: PrincipalDep, all_states: bool = False) -> list[dict]:
    """Active reports first (oldest first), with the reporters' contacts; ``all_states=true`` adds finished ones."""
    with engine.connect() as conn:
        return queries.team_queue(conn, principal, active_only=not all_states)


@router.get("/follow/{token}", summary="A report by its follow link", response_model=ReportPublic)
def follow(token: str, engine: ReadEngineDep) -> dict:
    """The report's public view, published or not."""
    with engine.connect() as conn:
        return queries.get_report_by_follow_token(conn, token)


@router.get("/{report_id}", summary="One report", response_model=ReportTeam | ReportPublic)
def get_report(report_id: str, engine: ReadEngineDep, principal: PrincipalDep) -> dict:
    """Public view; the owning team and administrators also get the reporter's contact."""
    with engine.connect() as conn:
        return queries.get_report_for(conn, report_id, principal)


@router.post("/{report_id}/transition", summary="Change a report's state (its team, administrators)",
             response_model=ReportTeam)
def transition(report_id: str, body: TransitionIn, request: Request, engine: EngineDep, principal: PrincipalDep) -> Response:
    """open → acknowledged → in_progress → fixed / closed / rejected; closing and rejecting need ``public_reason``."""
    with engine.begin() as conn:
        done = handling.transition(conn, report_id, body.state, principal, body.public_reason)
    wake_webhooks(request)
    if done.changed_layer:
        request.app.state.tile_cache.forget_version(done.changed_layer)
    return written(request, principal, JSONResponse(done.report))


@router.post("/{report_id}/visibility", summary="Publish or hide a report (its team, administrators)",
             response_model=ReportTeam)
def visibility(report_id: str, body: VisibilityIn, request: Request, engine: EngineDep, principal: PrincipalDep) -> Response:
    """The light check: a team member or an administrator publishes a report."""
    with engine.begin() as conn:
        done = handling.set_visible(conn, report_id, body.visible, principal)
    wake_webhooks(request)
    return written(request, principal, JSONResponse(done.report))


@router.post("/{report_id}/photos", status_code=201, summary="Add a photo (≤ 3 per report)", response_model=ReportPhoto)
async def add_photo(report_id: str, request: Request, engine: EngineDep, settings: SettingsDep, principal: PrincipalDep,
                    file: UploadFile = File(..., description="JPEG or PNG ≤ 10 MB"), token: str | None = Form(None),
                    follow_token: FollowToken = None) -> Response:
    """With the follow token (``X-Follow-Token`` or form field ``token``), or as the report's team."""
    data = await file.read(MAX_BYTES + 1)

    def store() -> dict:
        with engine.begin() as conn:
            return photos.add_report_photo(conn, settings.home_dir, report_id, data, token=follow_token or token,
                                           principal=principal, max_pixels=settings.photo_max_pixels)

    return written(request, principal, JSONResponse(await run_in_threadpool(store), status_code=201))


@router.get("/{report_id}/photos/{name}", summary="A report's photo or thumbnail", response_class=FileResponse)
def get_photo(report_id: str, name: str, engine: ReadEngineDep, settings: SettingsDep, principal: PrincipalDep,
              token: str | None = Query(None, max_length=200)) -> FileResponse:
    """``<id>.jpg|png`` or ``<id>.thumb.jpg``; an unpublished report's photos need ``?token=`` or its team."""
    with engine.connect() as conn:
        path, media_type = photos.report_photo_file(conn, settings.home_dir, report_id, name, token=token,
                                                    principal=principal)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
