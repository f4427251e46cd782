"""``crs`` and ``bbox-crs`` (OGC API – Features Part 2) on /ogc items and /api/v1 features.

tipg and the feature routes work in WGS 84 only, so this middleware stands in front of them: it
reads ``crs``/``bbox-crs`` (URIs such as ``http://www.opengis.net/def/crs/EPSG/0/9218``, or
``EPSG:9218`` on /api/v1), turns a ``bbox`` given in ``bbox-crs`` into CRS84, removes both
parameters, and reprojects the GeoJSON answer into ``crs`` (EPSG:4326/4756 as URIs are latitude
first). Every items answer carries ``Content-Crs``; collection metadata lists ``crs`` and
``storageCrs``. An unsupported CRS is a 400 naming the parameter and the supported list.
"""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urlencode

import pyproj
import shapely
from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.responses import Response

from geomap import crs as registry
from geomap.crs import CrsEntry
from geomap.errors import FieldProblem, InvalidInput
from geomap.ogc.scoped import ScopedHttpMiddleware
from geomap.problems import problem

#: Items of a collection or one item, and /api/v1 features (list or one).
FEATURES_PATH = re.compile(r"^/ogc/collections/[^/]+/items(?:/[^/]+)?/?$|^/api/v1/layers/[^/]+/features(?:/[^/]+)?/?$")
#: Collection metadata: the list and one collection.
COLLECTIONS_PATH = re.compile(r"^/ogc/collections(?:/[^/]+)?/?$")
GZIP_MIN = 500  # as the app's GZipMiddleware
JSON_TYPES = ("application/geo+json", "application/json")


def add_crs(app: FastAPI) -> None:
    """Register the middleware (after the parameter checks, so it runs first)."""
    app.add_middleware(CrsMiddleware)


def _names_crs(scope: dict) -> bool:
    return scope["method"] == "GET" and (scope["path"].startswith("/ogc/") or b"crs" in scope.get("query_string", b""))


class CrsMiddleware(ScopedHttpMiddleware):
    """``crs``/``bbox-crs`` and ``Content-Crs``: /ogc and requests naming a CRS take
    :func:`_crs_middleware`; an items answer in the storage CRS only gains its ``Content-Crs``
    header; everything else (the field app, pages, tiles) passes straight through."""

    def __init__(self, app) -> None:
        super().__init__(app, dispatch=_crs_middleware, applies=_names_crs)

    async def passed(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not FEATURES_PATH.match(scope["path"]):
            return await self.app(scope, receive, send)

        async def send_with_crs(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(raw=message["headers"])
                if headers.get("content-type", "").startswith(JSON_TYPES):
                    headers["Content-Crs"] = registry.content_crs(registry.STORAGE)
            await send(message)

        await self.app(scope, receive, send_with_crs)


async def _crs_middleware(request: Request, call_next):
    path = request.url.path
    if request.method != "GET":
        return await call_next(request)
    if COLLECTIONS_PATH.match(path):
        f = request.query_params.get("f")
        if f == "html" or (f is None and "text/html" in request.headers.get("accept", "")):
            return await call_next(request)  # the HTML page is tipg's; metadata is added to JSON only
        gzip_ok = _uncompressed(request)
        return await _with_crs_metadata(await call_next(request), gzip_ok)
    if not FEATURES_PATH.match(path):
        return await call_next(request)
    try:
        target = registry.resolve(request.query_params.get("crs"), "crs")
        bbox_crs = registry.resolve(request.query_params.get("bbox-crs"), "bbox-crs")
        bbox = _bbox_in_crs84(request.query_params.get("bbox"), bbox_crs)
    except InvalidInput as exc:
        p = exc.problems[0]
        return problem(400, "Bad request", f"{p.field}: {p.reason}", errors=[p.as_dict()])
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("crs", "bbox-crs")]
    if bbox is not None:
        params = [(k, bbox if k == "bbox" else v) for k, v in params]
    request.scope["query_string"] = urlencode(params).encode("latin-1")
    gzip_ok = _uncompressed(request) if target != registry.STORAGE else False
    response = await call_next(request)
    if not response.headers.get("content-type", "").startswith(JSON_TYPES) or response.status_code != 200:
        return response
    if target == registry.STORAGE:
        response.headers["Content-Crs"] = registry.content_crs(target)
        return response
    body = json.loads(b"".join([chunk async for chunk in response.body_iterator]))
    headers = dict(response.headers)
    headers["Content-Crs"] = registry.content_crs(target)
    return _json_response(reproject_geojson(body, target), headers, gzip_ok)


def _uncompressed(request: Request) -> bool:
    """The body is rewritten here: ask the inner app for it uncompressed and in full (no 304 for
    the inner representation's validators, which the rewritten answer does not carry). Returns
    whether the client accepts gzip (the rewritten answer is then gzipped here)."""
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "")
    dropped = (b"accept-encoding", b"if-none-match", b"if-modified-since")
    request.scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k not in dropped]
    return gzip_ok


def _json_response(body: dict, headers: dict, gzip_ok: bool) -> Response:
    """``body`` as JSON with the inner answer's headers (its length and validators dropped), gzipped when accepted."""
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "etag", "last-modified")}
    if gzip_ok and len(data) >= GZIP_MIN:
        data = gzip.compress(data, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = ", ".join(v for v in (headers.pop("vary", ""), "Accept-Encoding") if v)
    return Response(data, status_code=200, headers=headers)


def _bbox_in_crs84(value: str | None, source: CrsEntry) -> str | None:
    """``bbox`` given in ``source`` as a CRS84 bbox string (None when nothing to change)."""
    if value is None or source == registry.STORAGE:
        return None
    try:
        a, b, c, d = (float(v) for v in value.split(","))
    except ValueError:
        raise InvalidInput([FieldProblem("bbox", "needs four numbers: minx,miny,maxx,maxy")]) from None
    if source.lat_first:
        a, b, c, d = b, a, d, c
    t = registry.transformer(source.epsg, 4326)
    try:
        x0, y0, x1, y1 = t.transform_bounds(a, b, c, d, errcheck=True)
    except pyproj.exceptions.ProjError:
        raise InvalidInput([FieldProblem("bbox", f"is outside the area of {source.name}")]) from None
    return ",".join(f"{v:.9f}" for v in (x0, y0, x1, y1))


def reproject_geojson(body: dict, target: CrsEntry) -> dict:
    """A Feature or FeatureCollection with every geometry (and a ``bbox``) in ``target``."""
    features = body.get("features") if body.get("type") == "FeatureCollection" else [body]
    with_geometry = [f for f in features or [] if isinstance(f, dict) and f.get("geometry")]
    if with_geometry:
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in with_geometry])
        moved = registry.reproject(geoms, 4326, target.epsg)
        if target.lat_first:
            moved = registry.swap_axes(moved)
        for feature, geom in zip(with_geometry, shapely.to_geojson(moved)):
            feature["geometry"] = json.loads(geom)
            feature.pop("bbox", None)
    body.pop("bbox", None)
    return body


async def _with_crs_metadata(response: Response, gzip_ok: bool) -> Response:
    """Add ``crs`` (every supported URI) and ``storageCrs`` to collection metadata in JSON."""
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith("application/json"):
        return response
    body = json.loads(b"".join([chunk async for chunk in response.body_iterator]))
    for collection in body.get("collections", [body]) if isinstance(body, dict) else []:
        if isinstance(collection, dict) and "id" in collection:
            collection["crs"] = registry.supported_uris()
            collection["storageCrs"] = registry.CRS84_URI
    if isinstance(body, dict) and "collections" in body:
        body["crs"] = registry.supported_uris()
    return _json_response(body, dict(response.headers), gzip_ok)
