"""HTTP validators shared by every cacheable read (OGC items, downloads, single features):
``ETag``/``Last-Modified`` from a data version and the 304 rules of RFC 9110 (13.1, 13.2.2)."""

from __future__ import annotations

import datetime as dt
import hashlib
from email.utils import format_datetime, parsedate_to_datetime

from sqlalchemy import Connection, text
from starlette.requests import Request

from geomap.layers.base import Layer
from geomap.layers.registry import get_layer
from geomap.sql import q

CACHE_CONTROL = "public, max-age=0, must-revalidate"


def weak_etag(*parts: object) -> str:
    """A weak ETag (``W/``: the same representation may travel gzipped or not) over ``parts``."""
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode() + b"\0")
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


def not_modified(request: Request, tag: str, last_modified: str | None = None) -> bool:
    """True when the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, tag)
    since = request.headers.get("if-modified-since")
    if not since or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):  # an unreadable date is ignored, as RFC 9110 says
        return False


def validators(tag: str, last_modified: str, vary: str = "Accept-Encoding") -> dict[str, str]:
    """The headers a cacheable answer (and its 304) carries."""
    return {"ETag": tag, "Last-Modified": last_modified, "Cache-Control": CACHE_CONTROL, "Vary": vary}


def data_version(conn: Connection, layer: Layer) -> dt.datetime | None:
    """When ``layer`` or a layer it references (a tree's farm) last changed: every write, delete,
    restore and review sets ``updated_at``. None while they hold no assets."""
    tables = [layer.table] + [get_layer(a.ref_layer).table for a in layer.ref_attributes if a.ref_layer]
    sql = " UNION ALL ".join(f"SELECT max(updated_at) AS m FROM {q(t)}" for t in tables)
    return conn.execute(text(f"SELECT max(m) FROM ({sql}) v")).scalar_one()
