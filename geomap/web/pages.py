"""What every page shares: templates, the caller, the language, versioned static URLs, and
error pages in the page's language instead of problem+json.

Routes declared with ``route_class=PageRoute`` turn domain errors into an HTML page with the
status of the error table (404 unknown farm, 401 sign-in needed, 403 not allowed, 422 bad input).
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Callable
from urllib.parse import quote, urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from geomap.api.deps import lookup_principal, read_engine
from geomap.api.errors import status_of
from geomap.auth import PUBLIC, Principal
from geomap.errors import GeomapError, Unauthorized
from geomap.web.i18n import LANG_COOKIE, error_text, pick_lang, translator

log = logging.getLogger("geomap.web")
PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE / "static"
templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
STATIC_MAX_AGE = 365 * 86400


@lru_cache(maxsize=256)
def _digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(request: Request, name: str) -> str:
    """``/static/geomap/<name>?v=<content hash>`` — safe to cache for a year."""
    return f"/static/geomap/{name}?v={_digest(str(STATIC_DIR / name))}"


def vendor_url(request: Request, name: str) -> str:
    """``/static/vendor/<name>?v=<content hash>`` for a file installed from npm."""
    assets = request.app.state.settings.assets_dir
    return f"/static/vendor/{name}?v={_digest(str(Path(assets) / name))}"


#: The offline outline basemap: Natural Earth's countries (npm ``world-atlas``, decoded in the browser
#: by ``topojson-client``), drawn only when basemap imagery cannot load (geomap/static/basemap.js).
OUTLINE_WORLD = "world-atlas/countries-110m.json"
OUTLINE_DECODER = "topojson-client/dist/topojson-client.min.js"


def outline_config(request: Request, lang: str) -> dict:
    """What a map page's script needs to draw the outline basemap, with the archipelagos' labels."""
    t = translator(lang)
    return {"world": vendor_url(request, OUTLINE_WORLD), "decoder": vendor_url(request, OUTLINE_DECODER),
            "labels": {"hoang_sa": t("hoang_sa"), "truong_sa": t("truong_sa")}}


templates.env.globals.update(static_url=static_url, vendor_url=vendor_url)


def page_principal(request: Request) -> Principal:
    """The signed-in user, or the public (a stale cookie on a page just means signed out)."""
    try:
        return lookup_principal(request)
    except Unauthorized:
        return PUBLIC


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def page_read_engine(request: Request, principal: PagePrincipal) -> Engine:
    """Read engine for a page (a replica that has the signed-in user's last write, else the primary)."""
    return read_engine(request, principal)


PageReadEngine = Annotated[Engine, Depends(page_read_engine)]


def same_site_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site (``/farms/X?color=age``), else ``default``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\r\n\\"):
        return default
    return target


def lang_switch_url(request: Request, lang: str) -> str:
    """The current URL in the other language, every other parameter kept."""
    other = "vi" if lang == "en" else "en"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang" and v != ""]
    params.append(("lang", other))
    return f"{request.url.path}?{urlencode(params)}"


def here(request: Request) -> str:
    """The current path and query (for ``/login?next=``)."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def ctx(request: Request, principal: Principal, **extra) -> dict:
    """The template context every page gets."""
    lang = pick_lang(request)
    login = "/login?" + urlencode({"next": here(request), **kept_lang(request)})
    q_lang = lang_param(request)
    return {"request": request, "lang": lang, "t": translator(lang), "principal": principal,
            "lang_url": lang_switch_url(request, lang), "login_url": login,
            "q_lang": q_lang, "amp_lang": q_lang.replace("?", "&", 1), **extra}


def lang_param(request: Request) -> str:
    """``?lang=…`` for links a page's script builds, when the page keeps its language (:func:`kept_lang`)."""
    keep = kept_lang(request)
    return f"?lang={keep['lang']}" if keep else ""


def kept_lang(request: Request) -> dict[str, str]:
    """The ``lang`` parameter that links and redirects from this page carry: English always,
    Vietnamese when chosen (a phone preferring English would otherwise switch the next page back)."""
    lang = pick_lang(request)
    return {"lang": lang} if lang == "en" or request.query_params.get("lang") == lang else {}


def html(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    """Render ``template`` with ``context``. A page differs by who is signed in (a farm's owner
    reads their name and phone on it): it varies by cookie, and a signed-in page is never kept
    by a shared cache."""
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Vary"] = "Cookie, Accept-Language, Accept-Encoding"
    chosen = request.query_params.get("lang")
    if chosen in ("vi", "en") and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    principal = context.get("principal")
    if principal is not None and principal.role != "public" and "cache-control" not in response.headers:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def error_page(request: Request, exc: GeomapError) -> HTMLResponse:
    """An error as a page in the page's language (the log keeps the English detail)."""
    status = status_of(exc)
    lang = pick_lang(request)
    log.info("page %s answered %s: %s", request.url.path, status, exc.message)
    context = ctx(request, page_principal(request), status=status, message=error_text(status, lang),
                  sign_in=status == 401)
    return html(request, "error.html", context, status=status)


class PageRoute(APIRoute):
    """A page route: domain errors become an HTML page in the page's language."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except GeomapError as exc:
                return error_page(request, exc)

        return page_handler


def code_path(code: str) -> str:
    """``/a/<code>`` with the code escaped."""
    return f"/a/{quote(code, safe='')}"
