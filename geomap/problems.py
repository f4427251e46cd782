"""``application/problem+json`` responses (RFC 9457), shared by the API, the pages' middleware
and the OGC router: the one place that knows the body's shape.

The client reads ``detail`` (clear, safe to show); exception texts go to the log only.
"""

from __future__ import annotations

import json
import logging

from fastapi import Request
from fastapi.responses import JSONResponse

log = logging.getLogger("geomap.api")

PROBLEM = "application/problem+json"

def problem(status: int, title: str, detail: str, **extra) -> JSONResponse:
    """An RFC 9457 problem response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)

async def send_problem(send, status: int, title: str, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    """The same problem body as :func:`problem`, sent from ASGI middleware (before any route runs)."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})

async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A 500 for what nobody planned: the traceback to the log, a plain sentence to the client."""
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "Something went wrong on our side; it has been logged.")

