"""``/field``: the page, its web app manifest, its service worker and its files (gzip when asked)."""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image, ImageDraw

from geomap.errors import NotFound
from geomap.field.assets import FieldAssets
from geomap.web.i18n import pick_lang

router = APIRouter(include_in_schema=False)
_env = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                   autoescape=select_autoescape(["html"]))
#: Geolocation and the camera (QR labels, photos) are what this page is for.
PERMISSIONS = "geolocation=(self), camera=(self), microphone=()"
TITLES = {"vi": "Sổ thực địa", "en": "Field book"}
ICON_SIZES = (192, 512)  # what Android's "Add to Home screen" asks for


def _assets(request: Request) -> FieldAssets:
    state = request.app.state
    if getattr(state, "field_assets", None) is None:
        state.field_assets = FieldAssets(state.settings.assets_dir)
    return state.field_assets


#: The language switch's words: each language named in itself.
LANG_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def _lang(request: Request) -> str:
    """As the public pages choose (?lang=, the cookie, the browser); the app's script chooses again
    the same way, since the service worker may answer from its cache."""
    return pick_lang(request)


@router.get("/field", response_class=HTMLResponse)
def field_page(request: Request) -> Response:
    """The app's one page; everything else happens in its scripts."""
    lang = _lang(request)
    assets = _assets(request)
    other = "vi" if lang == "en" else "en"
    html = _env.get_template("field.html").render(lang=lang, title=TITLES[lang], version=assets.version,
                                                  other=other, other_name=LANG_NAMES[other],
                                                  basemap=request.app.state.settings.basemap_url, modules=assets.modules())
    return HTMLResponse(html, headers={"Permissions-Policy": PERMISSIONS, "Cache-Control": "no-cache",
                                       "Vary": "Cookie, Accept-Language, Accept-Encoding"})


@router.get("/field/")
def field_slash() -> Response:
    """``/field/`` is ``/field``."""
    return RedirectResponse("/field", status_code=308)


@router.get("/field/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """What makes the page installable (Add to Home screen)."""
    lang = _lang(request)
    body = {
        "name": "geomap — " + TITLES[lang], "short_name": TITLES[lang], "lang": lang,
        "start_url": "/field" + ("?lang=en" if lang == "en" else ""), "scope": "/field", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#1b5e20",
        "icons": [{"src": "/field/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
                  *({"src": f"/field/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png"} for n in ICON_SIZES)],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


@router.get("/field/sw.js")
def service_worker(request: Request) -> Response:
    """The service worker, versioned by the content of every file it caches."""
    assets = _assets(request)
    urls = ["/field", "/field?lang=vi", "/field?lang=en", "/field/manifest.webmanifest", *assets.urls(),
            *(f"/field/icon-{n}.png" for n in ICON_SIZES)]
    tiles = tile_origins(request.app.state.settings.basemap_url)
    body = _env.get_template("sw.js").render(version=assets.version, urls=json.dumps(urls), tile_origins=json.dumps(tiles))
    # The worker fetches basemap tiles itself (to keep them): its own policy lets it reach the tile server.
    csp = "default-src 'self'; connect-src 'self' " + " ".join(tiles)
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/field", "Content-Security-Policy": csp})


def tile_origins(basemap_url: str) -> list[str]:
    """The origins basemap tiles come from (``{s}`` stands for the subdomains a, b and c)."""
    origins = []
    for sub in ("a", "b", "c") if "{s}" in basemap_url else ("",):
        parts = urlsplit(basemap_url.replace("{s}", sub))
        if parts.scheme in ("http", "https") and parts.netloc and f"{parts.scheme}://{parts.netloc}" not in origins:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


@router.get("/field/static/{name:path}")
def static_file(name: str, request: Request) -> Response:
    """One of the app's files or of its npm packages, gzip-compressed when the client accepts it."""
    asset = _assets(request).get(name)
    etag = f'"{asset.digest}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(asset.gzipped, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@lru_cache(maxsize=len(ICON_SIZES))
def _icon(size: int) -> bytes:
    """The app's icon as a PNG: a white map pin on the app's green."""
    image = Image.new("RGB", (size, size), "#1b5e20")
    draw = ImageDraw.Draw(image)
    u = size / 512
    draw.ellipse([128 * u, 80 * u, 384 * u, 336 * u], fill="white")
    draw.polygon([(150 * u, 260 * u), (362 * u, 260 * u), (256 * u, 432 * u)], fill="white")
    draw.ellipse([204 * u, 154 * u, 308 * u, 258 * u], fill="#1b5e20")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@router.get("/field/icon-{size}.png")
def icon_png(size: int) -> Response:
    """The home-screen icon in the sizes phones ask for."""
    if size not in ICON_SIZES:
        raise NotFound("no icon of that size")
    return Response(_icon(size), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
