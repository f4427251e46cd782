"""Citizen-report pages: the form behind "Báo sự cố" on an asset page (``/a/{code}/report``), the
same form for a spot of the map without an asset (``/report?lon=&lat=``) and the reporter's
follow page (``/r/{token}``). Plain HTML forms that work without scripts; every error
comes back as a message in the page's language, never as JSON."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from geomap.api.deps import EngineDep, SettingsDep, written
from geomap.api.routes.reports import client_address, follow_url, limits_of, wake_webhooks
from geomap.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from geomap.reports import queries
from geomap.reports.submission import ReportInput, check_point
from geomap.services.photos import MAX_BYTES
from geomap.web import report_views, views
from geomap.web.i18n import js_strings, pick_lang, translator
from geomap.web.orchard_pages import require_same_origin
from geomap.web.pages import PagePrincipal, PageReadEngine, PageRoute, code_path, ctx, html, kept_lang, outline_config
from geomap.web.qr import is_loopback

router = APIRouter(include_in_schema=False, route_class=PageRoute)
DEVICE_COOKIE = "geomap_device"
SPOT_STRINGS = ("locate", "locate_failed", "no_imagery", "report_place_where")
#: No length limits here: the body limit bounds them, and the service says "too long" in the page's language.
Text = Annotated[str, Form()]


def _asset(conn, code: str, principal):
    found = views.find_asset(conn, code, principal)
    if found is None:
        raise NotFound(f"no asset has code {code}")
    return found


def _device(request: Request) -> tuple[str, bool]:
    """The browser's own random id (rate limits, one "me too" per phone) and whether it is new."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    if 16 <= len(value) <= 64 and value.isalnum():
        return value, False
    return secrets.token_hex(16), True


@dataclass(frozen=True)
class Spot:
    """Where a report without an asset is: the point tapped on the map (as typed: checked on sending)."""

    lon: str
    lat: str
    valid: bool = True

    @classmethod
    def of(cls, lon: str, lat: str) -> Spot:
        """The spot as sent (checked once); a valid one written with six decimals (about 10 cm),
        as the map writes it."""
        if check_point(lon, lat) is not None:
            return cls(lon, lat, valid=False)
        return cls(f"{float(lon):.6f}", f"{float(lat):.6f}")


def _form_page(request: Request, principal, place: tuple | Spot, values: report_views.FormValues,
               status: int = 200) -> Response:
    """The form for an asset (``place`` = its layer and row) or for a spot on the map."""
    lang = pick_lang(request)
    context = ctx(request, principal, values=values, max_photos=report_views.MAX_PHOTOS)
    if isinstance(place, Spot):
        context.update(asset=None, spot=place, action="/report" + context["q_lang"], groups=report_views.place_categories(lang),
                       map_config={"lon": place.lon, "lat": place.lat, "basemap": request.app.state.settings.basemap_url,
                                   "outline": outline_config(request, lang), "strings": js_strings(lang, SPOT_STRINGS)})
    else:
        layer, row = place
        context.update(layer=layer, asset=row, base_path=code_path(row["code"]),
                       action=code_path(row["code"]) + "/report" + context["q_lang"],
                       categories=report_views.form_categories(layer, lang))
    response = html(request, "report_form.html", context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return _keep_device(request, response, _device(request))


def _keep_device(request: Request, response: Response, device: tuple[str, bool]) -> Response:
    if device[1]:
        secure = request.app.state.settings.public_url.startswith("https://")
        response.set_cookie(DEVICE_COOKIE, device[0], max_age=365 * 86400, httponly=True, samesite="lax", path="/",
                            secure=secure)
    return response


@router.get("/a/{code}/report", response_class=HTMLResponse)
def report_form(code: str, request: Request, engine: PageReadEngine, principal: PagePrincipal) -> Response:
    """The report form of an asset: category, description, photos, optional private contact."""
    with engine.connect() as conn:
        place = _asset(conn, code, principal)
    return _form_page(request, principal, place, report_views.FormValues(client_id=str(uuid.uuid4())))


@router.get("/report", response_class=HTMLResponse)
def spot_form(request: Request, principal: PagePrincipal, lon: str = "", lat: str = "") -> Response:
    """The report form for a spot of the map that has no asset ("report at this very spot")."""
    spot = Spot.of(lon, lat)
    if not spot.valid:  # a tap at sea, or a link typed wrong: say so, and lead back to the map
        message = translator(pick_lang(request))("err_location")
        return html(request, "error.html", ctx(request, principal, status=422, message=message, sign_in=False), status=422)
    return _form_page(request, principal, spot, report_views.FormValues(client_id=str(uuid.uuid4())))


async def _pictures(photos: list[UploadFile]) -> list[bytes]:
    """The chosen photos' bytes (an empty file input sends one nameless, empty part)."""
    out = []
    for upload in photos[: report_views.MAX_PHOTOS + 1]:
        data = await upload.read(MAX_BYTES + 1)
        if data or upload.filename:
            out.append(data)
    return out


@router.post("/a/{code}/report", response_class=HTMLResponse)
async def report_submit(code: str, request: Request, engine: EngineDep, settings: SettingsDep, principal: PagePrincipal,
                        category: Text = "", description: Text = "", reporter_name: Text = "", reporter_phone: Text = "",
                        reporter_email: Text = "", client_id: Text = "",
                        photos: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006 (FastAPI copies it)
    """Send the report (and its photos, all or nothing), then go to its follow page."""
    values = report_views.FormValues(category, description, reporter_name, reporter_phone, reporter_email, client_id)
    return await _send(request, engine, settings, principal, code, values, photos)


@router.post("/report", response_class=HTMLResponse)
async def spot_submit(request: Request, engine: EngineDep, settings: SettingsDep, principal: PagePrincipal,
                      lon: Text = "", lat: Text = "", category: Text = "", description: Text = "", reporter_name: Text = "",
                      reporter_phone: Text = "", reporter_email: Text = "", client_id: Text = "",
                      photos: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006 (FastAPI copies it)
    """Send a report at a spot (category ``<layer>.<code>``), then go to its follow page."""
    values = report_views.FormValues(category, description, reporter_name, reporter_phone, reporter_email, client_id)
    return await _send(request, engine, settings, principal, Spot.of(lon, lat), values, photos)


async def _send(request: Request, engine, settings, principal, place: str | Spot, values: report_views.FormValues,
                photos: list[UploadFile]) -> Response:
    """Check the origin, create the report and its photos (all or nothing), and go to its follow
    page; or show the form again with what was typed and a message per field."""
    require_same_origin(request, settings.public_url)
    values.client_id = values.client_id or str(uuid.uuid4())
    pictures = await _pictures(photos)
    device = _device(request)
    spot = place if isinstance(place, Spot) else None
    data = ReportInput(category=values.category or None, description=values.description or None,
                       asset_code=None if spot else place, lon=spot.lon if spot else None,  # type: ignore[arg-type]
                       lat=spot.lat if spot else None,  # type: ignore[arg-type]  (checked as numbers by the service)
                       reporter_name=values.reporter_name or None, reporter_phone=values.reporter_phone or None,
                       reporter_email=values.reporter_email or None, client_id=values.client_id, device_id=device[0],
                       client_addr=client_address(request, settings), source="web")

    def send():
        with engine.begin() as conn:
            return report_views.submit_report(conn, settings.home_dir, data, pictures, limits_of(settings),
                                              settings.photo_max_pixels)

    try:
        done = await run_in_threadpool(send)
    except (InvalidInput, TooManyRequests, Conflict) as exc:
        values.photos_dropped = bool(pictures)
        return await run_in_threadpool(_refused, request, engine, principal, place, values, exc)
    wake_webhooks(request)
    params = {"sent": done.outcome, **kept_lang(request)}
    target = f"/r/{quote(done.follow_token, safe='')}?{urlencode(params)}"
    response = await run_in_threadpool(written, request, principal, RedirectResponse(target, status_code=303))
    return _keep_device(request, response, device)


def _refused(request: Request, engine, principal, place: str | Spot, values: report_views.FormValues, exc) -> Response:
    """The form again, with what was typed and a message per field (photos must be chosen again)."""
    t = translator(pick_lang(request))
    if isinstance(exc, InvalidInput):
        values.errors = report_views.field_messages(exc, pick_lang(request))
        values.message, status = t("report_fix_below"), 422
    elif isinstance(exc, TooManyRequests):
        values.message, status = t("report_too_many", minutes=max(1, -(-exc.retry_after // 60))), 429
    else:
        values.message, status, values.client_id = t("report_conflict"), 409, str(uuid.uuid4())
    if not isinstance(place, Spot):
        with engine.connect() as conn:
            place = _asset(conn, place, principal)
    response = _form_page(request, principal, place, values, status=status)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


@router.get("/r/{token}", response_class=HTMLResponse)
def follow_page(token: str, request: Request, engine: PageReadEngine, settings: SettingsDep, principal: PagePrincipal,
                sent: str = "") -> Response:
    """The reporter's follow page: state, history with times, the team's public answer."""
    lang = pick_lang(request)
    with engine.connect() as conn:
        report = queries.get_report_by_follow_token(conn, token)
        public = report_views.is_public(conn, report["id"])
    context = ctx(request, principal, report=report_views.report_page_view(report, lang, token=token), public=public,
                  follow_link=follow_url(settings, token), sent=sent if sent in ("created", "me_too", "replayed") else "",
                  loopback=is_loopback(settings.public_url),
                  asset_path=code_path(report["asset"]["code"]) if report["asset"] and report["asset"]["code"] else None)
    response = html(request, "report_follow.html", context)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is the key: never send it elsewhere
    response.headers["X-Robots-Tag"] = "noindex"
    return response
