"""The ``/open311`` sub-application: its routes, and errors in Open311's own format
(``[{"code": 404, "description": "…"}]``, or ``<errors><error>…`` for ``.xml`` paths) with the
HTTP status geomap gives the same error elsewhere. Mounted by :func:`geomap.api.app.create_app`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from geomap.api.errors import status_of
from geomap.errors import GeomapError, TooManyRequests
from geomap.open311 import posting, routes
from geomap.open311.formats import errors_of, format_of, render

log = logging.getLogger("geomap.open311")


def _errors(request: Request, status: int, errors: list[dict]) -> Response:
    return render("errors", errors, format_of(request.url.path), status=status)


async def _domain(request: Request, exc: GeomapError) -> Response:
    if exc.log_detail:
        log.info("%s on %s: %s", type(exc).__name__, request.url.path, exc.log_detail)
    status = status_of(exc)
    response = _errors(request, status, errors_of(exc, status))
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation(request: Request, exc: RequestValidationError) -> Response:
    errors = [{"code": 400, "description": f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"} for e in exc.errors()]
    return _errors(request, 400, errors)


async def _http(request: Request, exc: StarletteHTTPException) -> Response:
    return _errors(request, exc.status_code, [{"code": exc.status_code, "description": str(exc.detail)}])


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
    response = _errors(request, 503, [{"code": 503, "description": "The database cannot be reached; retry shortly."}])
    response.headers["Retry-After"] = "2"
    return response


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s", request.url.path, exc_info=exc)
    return _errors(request, 500, [{"code": 500, "description": "Internal error; it has been logged."}])


def build_open311(parent: FastAPI) -> FastAPI:
    """The Open311 app, reading the engine and settings from ``parent``'s state."""
    app = FastAPI(title="geomap Open311 GeoReport v2", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.parent = parent
    app.include_router(routes.router)
    app.include_router(posting.router)
    app.add_exception_handler(GeomapError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(InterfaceError, _unavailable)
    app.add_exception_handler(Exception, _internal)
    return app
