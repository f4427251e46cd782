"""Page routes: public map, asset detail with QR, orchard, labels, sign-in. Thin over views."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from geomap.api.deps import SESSION_COOKIE, EngineDep, PublicReadEngineDep, SettingsDep, get_principal, read_engine
from geomap.auth import PUBLIC, Principal
from geomap.errors import NotFound, Unauthorized
from geomap.layers.common import COMMON_ATTRIBUTES
from geomap.layers.registry import LAYERS
from geomap.services import accounts
from geomap.web import maps, views
from geomap.web.i18n import pick_lang, translator
from geomap.web.qr import asset_url, qr_png, qr_svg

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
COMMON_FILTERS = ("province", "commune", "status", "q")


def page_principal(request: Request) -> Principal:
    """The signed-in user, or the public (a stale cookie on a page just means signed out)."""
    try:
        return get_principal(request)
    except Unauthorized:
        return PUBLIC


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def page_read_engine(request: Request, principal: PagePrincipal) -> Engine:
    """Read engine for a page (a replica that has the signed-in user's last write, else the primary)."""
    return read_engine(request, principal)


PageReadEngine = Annotated[Engine, Depends(page_read_engine)]


def _ctx(request: Request, principal: Principal, **extra) -> dict:
    lang = pick_lang(request)
    return {"request": request, "lang": lang, "t": translator(lang), "principal": principal, **extra}


def _html(request: Request, template: str, ctx: dict, status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, template, ctx, status_code=status)


def map_filters(params) -> tuple[list[str], dict[str, str]]:
    """Selected layers and non-empty filters from the page's query string."""
    chosen = [v for v in params.getlist("layer") if v] or [layer.name for layer in LAYERS]
    filters = {k: v for k, v in params.items() if k not in ("layer", "lang") and v}
    return chosen, filters


def _panel(lang: str, t, shown: list, filters: dict[str, str]) -> str:
    """The filter form (GET, so a filtered map is a shareable URL) and the legend, as HTML."""
    from html import escape

    def opt(value: str, label: str, selected: bool) -> str:
        return f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(label)}</option>'

    chosen = [layer.name for layer, _ in shown]
    layer_opts = [opt("", t("all"), len(chosen) == len(LAYERS))] + [
        opt(layer.name, layer.label(lang), len(chosen) == 1 and chosen[0] == layer.name) for layer in LAYERS
    ]
    fields = [f'<label>{t("layer")}<select name="layer">{"".join(layer_opts)}</select></label>']
    status = next(a for a in COMMON_ATTRIBUTES if a.name == "status")
    seen = set()
    for layer in LAYERS:
        for attr in (status, *layer.attributes) if layer is LAYERS[0] else layer.attributes:
            if attr.kind != "enum" or not attr.filterable or (attr.name in seen and attr is not status):
                continue
            seen.add(attr.name)
            title = attr.label(lang) if attr is status else f"{layer.label(lang)}: {attr.label(lang)}"
            options = [opt("", t("all"), not filters.get(attr.name))] + [
                opt(c.value, c.vi if lang == "vi" else c.en, filters.get(attr.name) == c.value) for c in attr.choices
            ]
            fields.append(f'<label>{escape(title)}<select name="{attr.name}">{"".join(options)}</select></label>')
    fields.append(f'<label>{escape(t("farm_code"))}<input type="search" name="farm_code" value="{escape(filters.get("farm_code", ""))}"></label>')
    for name in ("province", "commune"):
        attr = next(a for a in COMMON_ATTRIBUTES if a.name == name)
        fields.append(f'<label>{escape(attr.label(lang))}<input type="search" name="{name}" value="{escape(filters.get(name, ""))}"></label>')
    fields.append(f'<label>{t("search")}<input type="search" name="q" value="{escape(filters.get("q", ""))}"></label>')
    hidden = '<input type="hidden" name="lang" value="en">' if lang == "en" else ""
    from urllib.parse import urlencode

    downloads = "".join(
        f'<li>{escape(layer.label(lang))}: ' + " ".join(
            f'<a href="/api/v1/layers/{layer.name}/download?{escape(urlencode({**layer_filters, "format": fmt}))}">{fmt.upper()}</a>'
            for fmt in ("geojson", "gpkg", "csv", "kml")) + "</li>"
        for layer, layer_filters in shown
    )
    legend = "".join(
        f'<div><i style="background:{layer.style.color}"></i>{escape(layer.label(lang))}</div>' for layer in LAYERS
        if layer.name in chosen
    )
    other = "vi" if lang == "en" else "en"
    return (
        f'<div class="geomap-panel"><h1>{t("title")}</h1>'
        f'<details open><summary>{t("filters")}</summary><form id="filters" method="get" action="/">{"".join(fields)}{hidden}'
        f'<button type="submit">{t("apply")}</button> <a href="/{"?lang=en" if lang == "en" else ""}">{t("clear")}</a></form></details>'
        f'<details><summary>{t("download_data")}</summary><ul class="downloads">{downloads}</ul></details>'
        f'<p class="links"><a href="?lang={other}">{t("language")}</a><a href="/docs">API</a></p></div>'
        f'<div class="geomap-legend"><b>{t("legend")}</b>{legend}</div>'
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    """A tiny icon, so browsers do not log a failed request."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2e7d32"/></svg>'
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/", response_class=HTMLResponse)
def public_map(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The national map: vector tiles per layer, filters in the URL, a legend."""
    from branca.element import Element

    lang = pick_lang(request)
    t = translator(lang)
    chosen, filters = map_filters(request.query_params)
    shown = []
    for layer in LAYERS:
        own = {a.name for a in layer.all_attributes if a.filterable}
        own |= {f"{a.name.removesuffix('_id')}_code" for a in layer.ref_attributes}
        specific = {k for k in filters if k not in COMMON_FILTERS}
        if layer.name not in chosen or not specific <= own:
            continue  # this layer cannot satisfy the filters: leave it off the map
        shown.append((layer, {k: v for k, v in filters.items() if k in own or k in COMMON_FILTERS}, True))
    m = maps.public_map(shown, settings.basemap_url, lang, {"zoom_in": t("zoom_in"), "details": t("details")})
    root = m.get_root()
    root.header.add_child(Element(f"<title>{t('title')}</title>"), name="title")
    root.html.add_child(Element(_panel(lang, t, [(layer, f) for layer, f, _ in shown], filters)))
    html = root.render().replace("<html>", f'<html lang="{lang}">', 1)
    return HTMLResponse(html)


@router.get("/a/{code}", response_class=HTMLResponse)
def asset_page(code: str, request: Request, engine: PageReadEngine, settings: SettingsDep, principal: PagePrincipal) -> Response:
    """An asset's page (what its QR code opens); a printed but unregistered code gets a helpful page."""
    with engine.connect() as conn:
        found = views.find_asset(conn, code, principal)
        if found is None:
            ctx = _ctx(request, principal, code=code, issued=views.is_issued(conn, code))
            return _html(request, "not_registered.html", ctx)
        layer, row = found
        if row["code"] != code:
            suffix = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/a/{quote(row['code'], safe='')}{suffix}", status_code=308)
        ctx = _ctx(request, principal, layer=layer, **views.detail(conn, layer, row, principal, pick_lang(request)))
    url = asset_url(settings.public_url, row["code"])
    ctx.update(qr_svg=qr_svg(url), qr_url=url, base_path=f"/a/{quote(row['code'], safe='')}")
    return _html(request, "detail.html", ctx)


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


@router.get("/a/{code}/map", response_class=HTMLResponse)
def asset_map(code: str, request: Request, engine: PublicReadEngineDep, settings: SettingsDep) -> HTMLResponse:
    """The small map embedded in an asset's page."""
    import json

    layer, row = _asset_or_404(engine, code)
    m = maps.small_map(json.loads(row["geometry"]), layer.style.color, pick_lang(request), settings.basemap_url)
    return HTMLResponse(m.get_root().render())


@router.get("/farms/{code}", response_class=HTMLResponse)
def orchard_page(code: str, request: Request, engine: PageReadEngine, principal: PagePrincipal, color: str = "health") -> HTMLResponse:
    """A farm: its trees coloured by health/variety/age, counts, and (for its owner) private details."""
    color = color if color in ("health", "variety", "age") else "health"
    with engine.connect() as conn:
        ctx = _ctx(request, principal, color=color, **views.orchard(conn, code, principal, pick_lang(request)))
    return _html(request, "orchard.html", ctx)


@router.get("/farms/{code}/map", response_class=HTMLResponse)
def orchard_map(code: str, request: Request, engine: PublicReadEngineDep, settings: SettingsDep, color: str = "health") -> HTMLResponse:
    """The orchard map embedded in the farm page (public attributes only)."""
    from html import escape

    color = color if color in ("health", "variety", "age") else "health"
    lang = pick_lang(request)
    with engine.connect() as conn:
        data = views.orchard(conn, code, PUBLIC, lang)
    items = "".join(f'<div><i style="background:{c}"></i>{escape(label)}</div>' for c, label in views.legend(color, lang))
    legend_html = f'<div class="geomap-legend">{items}</div>'
    m = maps.orchard_map(data["farm"], data["trees"], views.color_of(color), settings.basemap_url, legend_html)
    return HTMLResponse(m.get_root().render())


@router.get("/farms/{code}/labels", response_class=HTMLResponse)
def labels_page(code: str, request: Request, engine: EngineDep, settings: SettingsDep, principal: PagePrincipal,
                new: int = 0) -> HTMLResponse:
    """An A4 sheet of QR labels for a farm's trees; ``?new=N`` issues N fresh codes to label before tagging."""
    with engine.begin() as conn:
        farm, codes = views.labels(conn, code, principal, new)
    labels = [{"code": c, "svg": qr_svg(asset_url(settings.public_url, c), scale=3)} for c in codes]
    return _html(request, "labels.html", _ctx(request, principal, farm=farm, labels=labels))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: PagePrincipal, next: str = "/") -> HTMLResponse:
    """The sign-in form."""
    return _html(request, "login.html", _ctx(request, principal, next=next if next.startswith("/") else "/", error=None))


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, engine: EngineDep, settings: SettingsDep,
                 username: str = Form(..., max_length=100), password: str = Form(..., max_length=200),
                 next: str = Form("/")) -> Response:
    """Check the password, set the session cookie, go back."""
    try:
        with engine.begin() as conn:
            secret = accounts.sign_in(conn, username, password)
    except Unauthorized as exc:
        ctx = _ctx(request, PUBLIC, next=next, error=exc.message)
        return _html(request, "login.html", ctx, status=401)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=14 * 86400, httponly=True, samesite="lax",
                        secure=settings.public_url.startswith("https://"), path="/")
    return response


@router.post("/logout")
def logout_submit(request: Request, engine: EngineDep) -> Response:
    """End the session and go to the map."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with engine.begin() as conn:
            accounts.revoke_secret(conn, secret)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
