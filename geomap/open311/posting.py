"""``POST /open311/v2/requests.{fmt}``: an Open311 client creates a report (form or JSON body)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from geomap.api.routes.reports import client_address, limits_of
from geomap.errors import BadRequest
from geomap.open311.formats import field_error, render
from geomap.open311.routes import checked_format, parent_state
from geomap.reports import create, photos
from geomap.reports.submission import ReportInput
from geomap.services.photos import MAX_BYTES

router = APIRouter(prefix="/v2")
NOTICES = {
    "created": "Đã nhận phản ánh; tổ công nghệ số phụ trách sẽ xem xét. (Received; the team in charge will review it.)",
    "me_too": "Sự cố này đã được báo; đã ghi nhận bạn cũng gặp. (Already reported; your 'me too' was counted.)",
    "replayed": "Phản ánh này đã được nhận trước đó. (This request was already received.)",
}


async def _params(request: Request) -> dict:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise BadRequest("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the JSON body must be an object")
        attributes = body.pop("attribute", None)
        if isinstance(attributes, dict):  # {"attribute": {"asset_code": …}} as well as "attribute[asset_code]"
            body.update({f"attribute[{k}]": v for k, v in attributes.items()})
        return {**request.query_params, **body}
    form = await request.form(max_files=1, max_fields=100)
    return {**request.query_params, **{k: v for k, v in form.multi_items()}}


def _number(params: dict, name: str) -> float | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise field_error(name, "must be a number (decimal degrees, WGS 84)") from None


def _text(params: dict, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return str(value)


def _input(params: dict, address: str) -> ReportInput:
    if not params.get("service_code"):
        raise field_error("service_code", "is required")
    name = " ".join(p for p in (_text(params, "first_name"), _text(params, "last_name")) if p) or None
    return ReportInput(
        category=_text(params, "service_code"), description=_text(params, "description"),
        asset_code=_text(params, "attribute[asset_code]") or _text(params, "address_id"),
        lon=_number(params, "long"), lat=_number(params, "lat"), reporter_name=name,
        reporter_phone=_text(params, "phone"), reporter_email=_text(params, "email"),
        media_url=_text(params, "media_url"), device_id=_text(params, "device_id"),
        client_id=_text(params, "client_id"), client_addr=address, source="open311")


@router.post("/requests.{fmt}", status_code=201)
async def post_request(request: Request, fmt: str) -> Response:
    """Create a request; 201 with its id and the follow token (``token``), or 200 when it was
    already reported (the existing request's id)."""
    fmt = checked_format(fmt)
    params = await _params(request)
    state = parent_state(request)
    data = _input(params, client_address(request, state.settings))
    media = params.get("media")
    image = await media.read(MAX_BYTES + 1) if isinstance(media, UploadFile) else None

    def store() -> create.Created:
        with state.engine.begin() as conn:
            done = create.create_report(conn, data, limits_of(state.settings))
            if image is not None and done.outcome == "created":
                photos.add_report_photo(conn, state.settings.home_dir, done.report["id"], image, token=done.follow_token,
                                        max_pixels=state.settings.photo_max_pixels)
            return done

    done = await run_in_threadpool(store)
    if getattr(state, "webhooks", None) is not None:
        state.webhooks.wake()
    body = [{"service_request_id": done.report["id"], "token": done.follow_token, "service_notice": NOTICES[done.outcome],
             "account_id": None}]
    return render("requests", body, fmt, status=201 if done.outcome == "created" else 200)
