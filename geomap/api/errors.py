"""The one table from domain errors to HTTP statuses, and ``application/problem+json`` bodies.

Clients get a clear message naming the field and the reason; the log gets the detail. Any
unexpected exception becomes a 500 problem with no internals in the body.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from geomap.problems import internal_error, problem
from geomap.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GeomapError,
    InvalidInput,
    LoadError,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    TooManyRequests,
    Unauthorized,
    UnknownLayerError,
)

log = logging.getLogger("geomap.api")


#: Domain error → HTTP status. The most specific class wins (checked in order).
STATUS: list[tuple[type[GeomapError], int]] = [
    (UnknownLayerError, 404),
    (Unauthorized, 401),
    (Forbidden, 403),
    (PreconditionFailed, 412),
    (PreconditionRequired, 428),
    (TooManyRequests, 429),
    (BadRequest, 400),
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (LoadError, 400),
    (GeomapError, 400),
]


def status_of(exc: GeomapError) -> int:
    """HTTP status for a domain error."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


async def _domain(request: Request, exc: GeomapError) -> JSONResponse:
    if exc.log_detail:
        log.info("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc.log_detail)
    extra: dict = {}
    if isinstance(exc, InvalidInput):
        extra["errors"] = [p.as_dict() for p in exc.problems]
    if isinstance(exc, Conflict) and exc.details:
        extra.update(exc.details)
    if isinstance(exc, TooManyRequests) and exc.field:
        extra["errors"] = [{"field": exc.field, "reason": exc.message}]
    response = problem(status_of(exc), exc.title, exc.message, **extra)
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="geomap"'
    if isinstance(exc, PreconditionFailed) and exc.current_etag:
        response.headers["ETag"] = exc.current_etag
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    raw = exc.errors()
    if any(e["type"] == "json_invalid" for e in raw):
        e = next(e for e in raw if e["type"] == "json_invalid")
        reason = (e.get("ctx") or {}).get("error", "malformed JSON")
        return problem(400, "Malformed JSON", f"the body is not valid JSON: {reason}",
                       errors=[{"field": "body", "reason": str(reason)}])
    errors = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body") or "body", "reason": e["msg"]} for e in raw
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:10])
    return problem(422, "Invalid input", detail, errors=errors)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    response = problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail))
    for key, value in (getattr(exc, "headers", None) or {}).items():
        response.headers[key] = value
    return response


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database (or a replica) cannot be reached right now: the client should retry, not give up."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.__class__.__name__)
    response = problem(503, "Service unavailable", "The database cannot be reached right now; retry in a few seconds.")
    response.headers["Retry-After"] = "2"
    return response


_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 412: "Precondition failed", 413: "Payload too large", 415: "Unsupported media type",
           422: "Invalid input", 428: "Precondition required", 429: "Too many requests", 503: "Service unavailable"}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(GeomapError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(InterfaceError, _unavailable)
    app.add_exception_handler(Exception, internal_error)
