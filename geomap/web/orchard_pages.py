"""The orchard pages: a farm's map and figures, its trees as compact JSON, and QR label sheets.

Orchard facts (age classes, colours, who may issue codes) come from :mod:`geomap.services.orchard`.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from geomap.api.deps import EngineDep, SettingsDep
from geomap.errors import Forbidden
from geomap.services import orchard
from geomap.web.i18n import js_strings, pick_lang
from geomap.web.pages import PagePrincipal, PageReadEngine, PageRoute, ctx, html, kept_lang, lang_param, outline_config
from geomap.web.qr import asset_url, is_loopback, qr_svg

router = APIRouter(include_in_schema=False, route_class=PageRoute)
data_router = APIRouter(include_in_schema=False)
ORCHARD_STRINGS = ("saving", "saved", "save_offline", "save_412", "save_401", "save_403", "save_422", "save_429",
                   "save_error", "details", "show_more", "update_health", "map_failed", "locate", "locate_failed",
                   "legend", "age_unknown", "code", "no_imagery")


def _canonical(request: Request, code: str, actual: str, suffix: str = "") -> Response | None:
    """A redirect to the farm's own spelling of its code, when the URL used another letter case."""
    if code == actual:
        return None
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/farms/{quote(actual, safe='')}{suffix}{query}", status_code=307)


@router.get("/farms/{code}", response_class=HTMLResponse)
def orchard_page(code: str, request: Request, engine: PageReadEngine, principal: PagePrincipal,
                 color: str = "health") -> Response:
    """A farm: its trees on a map coloured by health/variety/age, counts, and (for its owner) private details."""
    color = color if color in orchard.COLOR_MODES else "health"
    lang = pick_lang(request)
    with engine.connect() as conn:
        data = orchard.orchard(conn, code, principal, lang)
    farm_code = data["farm"]["properties"]["code"]
    redirect = _canonical(request, code, farm_code)
    if redirect:
        return redirect
    settings = request.app.state.settings
    # The trees' labels and legends follow the page's language, whatever the browser prefers.
    config = {"trees": f"/farms/{quote(farm_code, safe='')}/trees.json?lang={lang}",
              "langParam": lang_param(request),
              "color": color, "basemap": settings.basemap_url, "outline": outline_config(request, lang),
              "lang": lang, "editable": data["can_edit"],
              "farm": data["farm"]["geometry"], "strings": js_strings(lang, ORCHARD_STRINGS),
              "healthChoices": [[c.value, c.label(lang)] for c in data["trees_layer"].attr("health").choices]}
    return html(request, "orchard.html", ctx(request, principal, color=color, config=config, **data))


@data_router.get("/farms/{code}/trees.json")
def orchard_trees(code: str, request: Request, engine: PageReadEngine, principal: PagePrincipal) -> JSONResponse:
    """The farm's trees as compact rows (what the orchard map draws); ids only for those who may edit."""
    with engine.connect() as conn:
        data = orchard.orchard_trees(conn, code, principal, pick_lang(request))
    return JSONResponse(data, headers={"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Encoding"})


@router.get("/farms/{code}/labels", response_class=HTMLResponse)
def labels_page(code: str, request: Request, engine: PageReadEngine, settings: SettingsDep, principal: PagePrincipal,
                first: str | None = None, last: str | None = None) -> Response:
    """An A4 sheet of QR labels for a farm's trees and its issued codes; ``?first=&last=`` prints a range
    (e.g. the codes just issued). Issuing is a POST to the same address."""
    with engine.connect() as conn:
        farm, codes = orchard.label_codes(conn, code, principal)
        farm_row = orchard.farm_by_code(conn, code, principal)
        can_issue = orchard.can_issue_labels(conn, principal, farm_row)
    if first and last:
        codes = [c for c in codes if first <= c <= last]
    labels = [{"code": c, "svg": qr_svg(asset_url(settings.public_url, c), scale=3)} for c in codes]
    context = ctx(request, principal, farm=farm, labels=labels, can_issue=can_issue, only_new=bool(first and last),
                  max_new=orchard.MAX_NEW_LABELS, loopback=is_loopback(settings.public_url), public_url=settings.public_url)
    return html(request, "labels.html", context)


def require_same_origin(request: Request, public_url: str) -> None:
    """A form post must come from one of this site's pages (Origin, else Referer) — no cross-site forgery."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    parts = urlsplit(source)
    allowed = {f"{request.url.scheme}://{request.url.netloc}", public_url.rstrip("/")}
    if f"{parts.scheme}://{parts.netloc}" not in allowed:
        raise Forbidden("label codes are issued from the labels page of this site only")


@router.post("/farms/{code}/labels")
def issue_labels(code: str, request: Request, engine: EngineDep, settings: SettingsDep, principal: PagePrincipal,
                 count: str = Form("", max_length=10)) -> Response:
    """Issue ``count`` new label codes, then show the sheet of just those codes."""
    require_same_origin(request, settings.public_url)
    n = int(count) if count.strip().isdigit() else 0  # anything else is refused by the service, in the page's language
    with engine.begin() as conn:
        codes = orchard.issue_codes(conn, code, principal, n)
        farm_code = orchard.farm_by_code(conn, code, principal)["code"]
    params = {"first": codes[0], "last": codes[-1], **kept_lang(request)}
    return RedirectResponse(f"/farms/{quote(farm_code, safe='')}/labels?{urlencode(params)}", status_code=303)


router.include_router(data_router)
