"""Conditional GET for /ogc items and single items: ``ETag`` and ``Last-Modified`` from the layer's
data version (``max(updated_at)``: every write, delete and review sets it), and 304 Not Modified
for a matching ``If-None-Match`` or, without one, an ``If-Modified-Since`` not older than the data.

The ETag is weak (``W/``): the same representation may travel gzipped or not. It also covers the
request's parameters and the headers that choose the representation (Accept, Accept-Language).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request, Response

from geomap.layers.base import Layer
from geomap.sql import q

VARY = "Accept, Accept-Language, Accept-Encoding"
CACHE_CONTROL = "public, max-age=0, must-revalidate"


async def data_version(request: Request, layer: Layer) -> dt.datetime | None:
    """When ``layer`` last changed (None while it has no assets), read through tipg's pool."""
    async with request.app.state.pool.acquire() as conn:
        return await conn.fetchval(f"SELECT max(updated_at) FROM public.{q(layer.table)}")


def weak_etag(version: dt.datetime | None, request: Request) -> str:
    """The ETag of this request's answer at ``version`` of the data."""
    h = hashlib.sha256()
    for part in (str(version), request.url.path, request.url.query,
                 request.headers.get("accept", ""), request.headers.get("accept-language", "")):
        h.update(part.encode() + b"\0")
    return f'W/"{h.hexdigest()[:32]}"'


def http_date(version: dt.datetime | None) -> str:
    """``Last-Modified`` of the data (whole seconds, as HTTP dates are)."""
    moment = version or dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    return format_datetime(moment.astimezone(dt.timezone.utc).replace(microsecond=0), usegmt=True)


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """Weak comparison of ``If-None-Match`` (a list, or ``*``) with ``tag``."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == ours for t in if_none_match.split(","))


def not_modified(request: Request, tag: str, last_modified: str) -> bool:
    """True when the client's copy is current (If-None-Match wins over If-Modified-Since, RFC 9110 13.2.2)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, tag)
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):  # an unreadable date is ignored, as RFC 9110 says
        return False


def validators(tag: str, last_modified: str) -> dict[str, str]:
    """The headers a cacheable answer (and its 304) carries."""
    return {"ETag": tag, "Last-Modified": last_modified, "Cache-Control": CACHE_CONTROL, "Vary": VARY}


async def conditional_get(request: Request, layer: Layer, call_next) -> Response:
    """Answer 304 when the client's copy is current, else tipg's answer with validators."""
    version = await data_version(request, layer)
    tag, last_modified = weak_etag(version, request), http_date(version)
    if not_modified(request, tag, last_modified):
        return Response(status_code=304, headers=validators(tag, last_modified))
    response = await call_next(request)
    if response.status_code == 200:
        response.headers.update(validators(tag, last_modified))
    return response
