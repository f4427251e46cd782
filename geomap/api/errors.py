"""The one table from domain errors to HTTP statuses, and ``application/problem+json`` bodies.

Clients get a clear message naming the field and the reason; the log gets the detail. Any
unexpected exception becomes a 500 problem with no internals in the body.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geomap.errors import Conflict, GeomapError, InvalidInput, LoadError, NotFound, UnknownLayerError

log = logging.getLogger("geomap.api")

PROBLEM = "application/problem+json"

#: Domain error → HTTP status. The most specific class wins (checked in order).
STATUS: list[tuple[type[GeomapError], int]] = [
    (UnknownLayerError, 404),
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (LoadError, 400),
    (GeomapError, 400),
]


def problem(status: int, title: str, detail: str, **extra) -> JSONResponse:
    """An RFC 9457 problem response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def status_of(exc: GeomapError) -> int:
    """HTTP status for a domain error."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


async def _domain(request: Request, exc: GeomapError) -> JSONResponse:
    extra: dict = {}
    if isinstance(exc, InvalidInput):
        extra["errors"] = [p.as_dict() for p in exc.problems]
    if isinstance(exc, Conflict) and exc.details:
        extra.update(exc.details)
    return problem(status_of(exc), exc.title, exc.message, **extra)


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "reason": e["msg"]} for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:10])
    return problem(422, "Invalid input", detail, errors=errors)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    response = problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail))
    for key, value in (getattr(exc, "headers", None) or {}).items():
        response.headers[key] = value
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "Something went wrong on our side; it has been logged.")


_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 412: "Precondition failed", 413: "Payload too large", 415: "Unsupported media type",
           422: "Invalid input", 428: "Precondition required", 429: "Too many requests"}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(GeomapError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
