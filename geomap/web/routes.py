"""Page routes: public map, asset page with QR, sign-in. Thin over views and services.

The orchard pages live in :mod:`geomap.web.orchard_pages` and are included here.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from geomap.api.deps import SESSION_COOKIE, EngineDep, PublicReadEngineDep, SettingsDep
from geomap.auth import PUBLIC
from geomap.errors import NotFound, Unauthorized
from geomap.services import accounts, orchard
from geomap.services.extents import ExtentCache
from geomap.web import orchard_pages, public_map, report_pages, report_queue, report_views, views
from geomap.web.i18n import js_strings, pick_lang, translator
from geomap.web.pages import (
    PagePrincipal, PageReadEngine, PageRoute, code_path, ctx, html, lang_param, outline_config, same_site_path,
)
from geomap.web.qr import asset_url, is_loopback, qr_png, qr_svg

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.include_router(orchard_pages.router)
router.include_router(report_pages.router)
router.include_router(report_queue.router)
MAP_STRINGS = ("zoom_in", "details", "results", "no_results", "searching", "search_failed", "locate",
               "locate_failed", "map_failed", "legend", "no_imagery", "report_here", "report_here_pick", "report_here_none",
               "report_here_place", "report_here_other", "report_here_zoom",
               "state_open", "state_acknowledged", "state_in_progress")
ASSET_STRINGS = ("locate", "locate_failed", "no_imagery", "saving", "saved", "save_offline", "save_412", "save_401",
                 "save_403", "save_422", "save_429", "save_error")


@router.get("/favicon.ico")
def favicon() -> Response:
    """A tiny icon, so browsers do not log a failed request."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2e7d32"/></svg>'
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs", response_class=HTMLResponse, name="swagger_ui_html")  # tipg links its landing page here
def api_docs(request: Request) -> HTMLResponse:
    """Interactive API documentation (Swagger UI from npm, served here)."""
    return html(request, "docs.html", {"request": request})


@router.get("/redoc")
def api_redoc() -> Response:
    """The API documentation lives at /docs."""
    return RedirectResponse("/docs", status_code=307)


@router.get("/", response_class=HTMLResponse)
def public_map_page(request: Request, settings: SettingsDep, engine: EngineDep, principal: PagePrincipal) -> HTMLResponse:
    """The national map: vector tiles per layer, filters and position in the URL, a legend."""
    lang = pick_lang(request)
    extents = getattr(request.app.state, "extents", None)
    if extents is None:
        extents = request.app.state.extents = ExtentCache()
    data = public_map.page_data(request.query_params, lang, settings.basemap_url, js_strings(lang, MAP_STRINGS),
                                bounds=lambda layer: extents.bounds(engine, layer))
    data["config"]["outline"] = outline_config(request, lang)
    data["config"]["langParam"] = lang_param(request)
    with engine.connect() as conn:
        my_farm = orchard.my_farm_code(conn, principal)
    return html(request, "map.html", ctx(request, principal, my_farm=my_farm, **data))


@router.get("/a/{code}", response_class=HTMLResponse)
def asset_page(code: str, request: Request, engine: PageReadEngine, settings: SettingsDep, principal: PagePrincipal) -> Response:
    """An asset's page (what its QR code opens); a printed but unregistered code gets a helpful page."""
    with engine.connect() as conn:
        found = views.find_asset(conn, code, principal)
        if found is None:
            context = ctx(request, principal, code=code, issued=views.is_issued(conn, code))
            return html(request, "not_registered.html", context, status=404)
        layer, row = found
        if row["code"] != code:  # an id, or another letter case: the canonical page (may change, so not permanent)
            suffix = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(code_path(row["code"]) + suffix, status_code=307)
        context = ctx(request, principal, layer=layer, **views.detail(conn, layer, row, principal, pick_lang(request)))
        context["reports"] = report_views.asset_reports(conn, row["code"], pick_lang(request))
    url = asset_url(settings.public_url, row["code"])
    lang = pick_lang(request)
    context.update(qr_svg=qr_svg(url), qr_url=url, base_path=code_path(row["code"]), loopback=is_loopback(settings.public_url),
                   health_edit=orchard.health_choices_for(principal, layer, row, lang),
                   map_config={"geometry": context["feature"]["geometry"], "color": layer.style.color,
                               "basemap": settings.basemap_url, "outline": outline_config(request, lang),
                               "strings": js_strings(lang, ASSET_STRINGS)})
    return html(request, "detail.html", context)


def _asset_or_404(engine, code: str):
    with engine.connect() as conn:
        found = views.find_asset(conn, code, PUBLIC)
    if found is None:
        raise NotFound(f"no asset has code {code}")
    return found


@router.get("/a/{code}/qr.svg")
def asset_qr_svg(code: str, engine: PublicReadEngineDep, settings: SettingsDep) -> Response:
    """The QR code as SVG (for printing signs and labels)."""
    _, row = _asset_or_404(engine, code)
    svg = qr_svg(asset_url(settings.public_url, row["code"]), scale=10, inline=False)
    return Response(svg, media_type="image/svg+xml", headers={"Content-Disposition": f'inline; filename="{row["code"]}.svg"'})


@router.get("/a/{code}/qr.png")
def asset_qr_png(code: str, engine: PublicReadEngineDep, settings: SettingsDep) -> Response:
    """The QR code as PNG."""
    _, row = _asset_or_404(engine, code)
    return Response(qr_png(asset_url(settings.public_url, row["code"])), media_type="image/png")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: PagePrincipal, next: str = "/") -> HTMLResponse:
    """The sign-in form; ``next`` is where to go afterwards (a path on this site)."""
    return html(request, "login.html", ctx(request, principal, next=same_site_path(next), error=None))


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, engine: EngineDep, settings: SettingsDep,
                 username: str = Form(..., max_length=100), password: str = Form(..., max_length=200),
                 next: str = Form("/", max_length=2000)) -> Response:
    """Check the password, set the session cookie, go back to where the user was."""
    target = same_site_path(next)
    try:
        with engine.begin() as conn:
            secret = accounts.sign_in(conn, username, password)
    except Unauthorized:
        t = translator(pick_lang(request))
        return html(request, "login.html", ctx(request, PUBLIC, next=target, error=t("login_failed")), status=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=14 * 86400, httponly=True, samesite="lax",
                        secure=settings.public_url.startswith("https://"), path="/")
    return response


@router.post("/logout")
def logout_submit(request: Request, engine: EngineDep, next: str = Form("/", max_length=2000)) -> Response:
    """End the session and go back (or to the map)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with engine.begin() as conn:
            accounts.revoke_secret(conn, secret)
    response = RedirectResponse(same_site_path(next), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

