"""Read-only CORS, so a web map on another site can use geomap's open data: vector tiles and their
TileJSON, the OGC API (``/ogc``, its TileJSON and style.json) and the downloads.

Only GET and HEAD (and their preflight) on those paths get ``Access-Control-Allow-*`` headers;
write endpoints, sign-in and cookie-authenticated pages get none, and credentials are never
allowed. Origins come from ``GEOMAP_CORS_ORIGINS`` (default ``*``).
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers

#: Paths whose GET answers are public, read-only data.
OPEN_DATA = re.compile(r"^/(?:tiles/|ogc(?:/|$)|api/v1/layers/[^/]+/download$)")
READ_METHODS = {"GET", "HEAD"}
ALLOW_HEADERS = b"Accept, Accept-Language, If-None-Match, If-Modified-Since, Range"
EXPOSE_HEADERS = b"ETag, Last-Modified, Content-Disposition, Content-Crs, Link"
PREFLIGHT_MAX_AGE = b"86400"


class ReadOnlyCors:
    """ASGI middleware adding CORS headers to GET/HEAD of open data, and answering their preflight."""

    def __init__(self, app, origins: list[str]) -> None:
        self.app = app
        self.any = "*" in origins
        self.origins = set(origins)

    def _allowed(self, origin: str | None) -> bytes | None:
        if not origin:
            return None
        if self.any:
            return b"*"
        return origin.encode("latin-1") if origin in self.origins else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not OPEN_DATA.match(scope["path"]):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        allowed = self._allowed(headers.get("origin"))
        method = scope["method"]
        if method == "OPTIONS" and allowed and headers.get("access-control-request-method") in READ_METHODS:
            return await self._preflight(send, allowed)
        if method not in READ_METHODS or (allowed is None and self.any):
            return await self.app(scope, receive, send)
        # With a list of origins, every answer here depends on Origin (allowed or not): caches must know.
        cors = [] if allowed is None else [(b"access-control-allow-origin", allowed),
                                           (b"access-control-expose-headers", EXPOSE_HEADERS)]

        async def with_cors(message):
            if message["type"] == "http.response.start":
                message["headers"] = _vary_origin(list(message.get("headers", [])) + cors, self.any)
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(self, send, allowed: bytes) -> None:
        headers = _vary_origin([
            (b"access-control-allow-origin", allowed), (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
            (b"access-control-allow-headers", ALLOW_HEADERS), (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            (b"content-length", b"0"),
        ], self.any)
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _vary_origin(headers: list[tuple[bytes, bytes]], any_origin: bool) -> list[tuple[bytes, bytes]]:
    """With a list of origins the answer depends on ``Origin``: say so to caches."""
    if any_origin:
        return headers
    for i, (k, v) in enumerate(headers):
        if k.lower() == b"vary":
            headers[i] = (k, v + b", Origin")
            return headers
    return headers + [(b"vary", b"Origin")]
