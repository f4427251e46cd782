"""Conditional GET for /ogc items and single items: ``ETag`` and ``Last-Modified`` from the layer's
data version (``max(updated_at)``: every write, delete and review sets it), and 304 Not Modified
for a matching ``If-None-Match`` or, without one, an ``If-Modified-Since`` not older than the data.

The ETag also covers the request's parameters and the headers that choose the representation
(Accept, Accept-Language).
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request, Response

from geomap.conditional import http_date, not_modified, validators, weak_etag
from geomap.layers.base import Layer
from geomap.sql import q

VARY = "Accept, Accept-Language, Accept-Encoding"


async def data_version(request: Request, layer: Layer) -> dt.datetime | None:
    """When ``layer`` last changed (None while it has no assets), read through tipg's pool."""
    async with request.app.state.pool.acquire() as conn:
        return await conn.fetchval(f"SELECT max(updated_at) FROM public.{q(layer.table)}")


async def conditional_get(request: Request, layer: Layer, call_next) -> Response:
    """Answer 304 when the client's copy is current, else tipg's answer with validators."""
    version = await data_version(request, layer)
    tag = weak_etag(version, request.url.path, request.url.query, request.headers.get("accept", ""),
                    request.headers.get("accept-language", ""))
    last_modified = http_date(version)
    if not_modified(request, tag, last_modified):
        return Response(status_code=304, headers=validators(tag, last_modified, VARY))
    response = await call_next(request)
    if response.status_code == 200:
        response.headers.update(validators(tag, last_modified, VARY))
    return response
