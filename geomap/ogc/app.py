"""OGC API – Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0, CQL2 filter) and OGC API – Tiles
at ``/ogc``, served by tipg's router over the public views of :mod:`geomap.ogc.views`.

tipg is used as a library: its module-level app (``tipg.main``) reads settings at import time,
so geomap includes tipg's ``Endpoints`` router under ``/ogc`` (tipg's ``router_prefix``) and
opens tipg's asyncpg pool in geomap's lifespan. Collections are renamed from ``ogc.<view>`` to
the layer names and get Vietnamese titles and descriptions from the registry.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from urllib.parse import urlencode
from typing import Annotated

import asyncpg
import cql2
import jinja2
import morecantile
from fastapi import FastAPI, Path, Request
from fastapi.responses import JSONResponse
from morecantile.errors import MorecantileError
from starlette.templating import Jinja2Templates
from tipg.collections import Catalog, Collection, register_collection_catalog
from tipg.database import close_db_connection, connect_to_db
from tipg.errors import DEFAULT_STATUS_CODES, MissingDatetimeColumn, MissingGeometryColumn, TiPgError
from tipg.factory import FEATURES_CONFORMS, Endpoints
from tipg.settings import DatabaseSettings, PostgresSettings

from geomap.errors import UnknownLayerError
from geomap.problems import internal_error, problem
from geomap.layers.registry import LAYERS
from geomap.ogc.crs import add_crs
from geomap.ogc.views import SCHEMA

log = logging.getLogger(__name__)

PREFIX = "/ogc"
#: A tile of a tile matrix set that tipg serves (WebMercatorQuad tiles are geomap's own route).
TILE_PATH = re.compile(r"^/ogc/collections/[^/]+/tiles/(?P<tms>[^/]+)/(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)(?:\.\w+)?$")
#: One ``sortby`` term: an optional direction and a column name (tipg's own parser breaks on control characters).
SORT_TERM = re.compile(r"^[+-]?[A-Za-z_][A-Za-z0-9_]*$")
#: The items of a collection, or one item (``f=json`` there means GeoJSON, not tipg's plain array).
ITEMS_PATH = re.compile(r"^/ogc/collections/[^/]+/items(?:/[^/]+)?/?$")
MAX_ZOOM = 30
#: tipg's maximum page size (its ``limit`` is ``le=10000``).
MAX_LIMIT = 10000
#: CQL2 classes tipg implements (through the cql2 library) but does not declare; GDAL and QGIS only
#: send a filter to the server when these are listed (OGC API – Features Part 3, CQL2 1.0).
CQL2_CONFORMS = [
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
]
TITLE = "geomap — Bản đồ tài sản số cộng đồng (OGC API)"


def layer_collection(
    request: Request, collectionId: Annotated[str, Path(description="Layer name, e.g. durian_trees", max_length=64)]
) -> Collection:
    """The collection of a layer, by its plain name (tipg's default wants ``schema.table``)."""
    catalog = getattr(request.app.state, "collection_catalog", None) or {"collections": {}}
    collection = catalog["collections"].get(collectionId)
    if collection is None:
        raise UnknownLayerError(f"no collection '{collectionId}'; collections: {', '.join(catalog['collections'])}")
    return collection


#: tipg's HTML pages name CDNs; geomap serves the same files from its own npm install instead.
LOCAL_ASSETS = {
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.6.0/jquery.min.js": "/static/vendor/jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet/1.9.4/leaflet.css": "/static/vendor/leaflet/dist/leaflet.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet/1.9.4/leaflet.js": "/static/vendor/leaflet/dist/leaflet.js",
    "https://cdnjs.cloudflare.com/ajax/libs/twitter-bootstrap/4.5.3/css/bootstrap.min.css": "/static/vendor/bootstrap/dist/css/bootstrap.min.css",
    "https://files.dnr.state.mn.us/lib/bootstrap4/javascripts/bootstrap.min.js": "/static/vendor/bootstrap/dist/js/bootstrap.min.js",
}


#: tipg's inline scripts get the request's CSP nonce (geomap/api/security.py sets it in the scope).
NONCED_SCRIPT = "<script nonce=\"{{ request.scope.get('state', {}).get('csp_nonce', '') }}\">"


class LocalAssetsLoader(jinja2.PackageLoader):
    """tipg's templates, with CDN links swapped for the app's own copies (pages work offline) and
    their inline scripts marked with the request's CSP nonce (no 'unsafe-inline' anywhere)."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        for cdn, local in LOCAL_ASSETS.items():
            source = source.replace(cdn, local)
        return source.replace("<script>", NONCED_SCRIPT), filename, uptodate


def add_ogc(app: FastAPI) -> None:
    """Include tipg's OGC API router under ``/ogc`` (the pool is opened by :func:`open_ogc`)."""
    templates = Jinja2Templates(env=jinja2.Environment(loader=LocalAssetsLoader("tipg", "templates"), autoescape=True))
    FEATURES_CONFORMS.extend(c for c in CQL2_CONFORMS if c not in FEATURES_CONFORMS)
    endpoints = Endpoints(
        title=TITLE, templates=templates, with_tiles_viewer=False, router_prefix=PREFIX,
        collection_dependency=layer_collection,
    )
    app.include_router(endpoints.router, prefix=PREFIX, tags=["OGC API"])
    # The landing page's service-desc is ``url_for("openapi")``: name /ogc/api so and put it first.
    app.router.add_api_route(PREFIX + "/api", _ogc_openapi, name="openapi", include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())
    # tipg's own error classes, answered as problem+json. (tipg's defaults also map Exception and
    # PostgresError to 500 with str(exc) in the body; geomap keeps its own handler for those.)
    for exc_type, status in DEFAULT_STATUS_CODES.items():
        if issubclass(exc_type, TiPgError):
            # A geometry/datetime column that does not exist is named by the client (geom-column=…).
            if exc_type in (MissingGeometryColumn, MissingDatetimeColumn):
                status = 400
            app.add_exception_handler(exc_type, _tipg_problem(status))
    app.middleware("http")(_check_parameters)
    add_crs(app)  # crs / bbox-crs / Content-Crs (geomap/ogc/crs.py); registered last so it runs first
    # A CQL2 filter or sort naming a column that does not exist (or a value of the wrong type)
    # is the client's mistake: 400 with the database's reason, not a 500.
    for exc_type in (asyncpg.exceptions.SyntaxOrAccessError, asyncpg.exceptions.DataError):
        app.add_exception_handler(exc_type, _bad_query)
    # tipg parses some parameters (bbox, datetime, zoom) without catching what bad values raise.
    for exc_type in (ValueError, OverflowError, MorecantileError, cql2.ParseError, cql2.ValidationError,
                     asyncpg.exceptions.InternalServerError):
        app.add_exception_handler(exc_type, _bad_ogc_parameter)


#: ``limit`` as OGC API – Features Part 1 defines it (GDAL reads the maximum from here).
LIMIT_PARAMETER = {
    "name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
    "description": "The number of features in one page (at most 10000).",
    "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
}


async def _ogc_openapi(request: Request) -> JSONResponse:
    """The OpenAPI document of the OGC API alone, its paths relative to the server ``…/ogc`` as
    OGC API clients (GDAL, QGIS) look them up: ``/collections/{collectionId}/items``."""
    spec = copy.deepcopy(request.app.openapi())
    spec["paths"] = {path[len(PREFIX):] or "/": item for path, item in spec["paths"].items() if path.startswith(PREFIX)}
    spec["servers"] = [{"url": str(request.base_url).rstrip("/") + PREFIX}]
    spec.setdefault("components", {}).setdefault("parameters", {})["limit"] = LIMIT_PARAMETER
    generic = spec["paths"].get("/collections/{collectionId}/items", {}).get("get")
    catalog = getattr(request.app.state, "collection_catalog", None) or {"collections": {}}
    for name, collection in catalog["collections"].items() if generic else ():
        spec["paths"][f"/collections/{name}/items"] = {"get": _items_operation(generic, collection)}
    return JSONResponse(spec, media_type="application/vnd.oai.openapi+json;version=3.0")


def _items_operation(generic: dict, collection: Collection) -> dict:
    """The items operation of one collection, each property a query parameter (``health=sau_benh``):
    GDAL 3.6 sends an attribute filter to the server only for parameters listed here."""
    operation = copy.deepcopy(generic)
    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") != "collectionId"]
    operation["parameters"] += [
        {"name": column.name, "in": "query", "required": False, "schema": {"type": column.json_type}}
        for column in collection.properties if not column.geometry_type
    ]
    return operation


async def _check_parameters(request: Request, call_next):
    """Refuse what tipg would answer with a 500: an unparsable CQL2 filter (its parser raises bare
    Exception), a tile outside its tile matrix, a zoom that does not fit 64 bits, a ``sortby``
    term with control characters. Each is a 400 naming the parameter."""
    if request.url.path.startswith(PREFIX):
        found = _filter_problem(request) or _tile_problem(request.url.path) or _zoom_problem(request) or _sort_problem(request)
        if found:
            field, reason = found
            return problem(400, "Bad request", f"{field}: {reason}", errors=[{"field": field, "reason": reason}])
        if ITEMS_PATH.match(request.url.path):
            _json_means_geojson(request)
    return await call_next(request)


def _json_means_geojson(request: Request) -> None:
    """On items, ``f=json`` and ``Accept: application/json`` ask for GeoJSON (OGC API – Features
    Part 1, 7.16): tipg would answer a plain array with EWKT geometries, so ask it for GeoJSON."""
    scope = request.scope
    params = [(k, v) for k, v in request.query_params.multi_items()]
    # A limit above the maximum is capped (Part 1, 7.15.3), not refused with a 422.
    capped = [(k, str(MAX_LIMIT) if k == "limit" and v.strip().isdigit() and int(v) > MAX_LIMIT else v) for k, v in params]
    if any(k == "f" and v == "json" for k, v in params) or capped != params:
        params = [(k, "geojson" if k == "f" and v == "json" else v) for k, v in capped]
        scope["query_string"] = urlencode(params).encode("latin-1")
    elif "f" not in request.query_params:
        accept = request.headers.get("accept", "")
        if "application/json" in accept and "application/geo+json" not in accept:
            headers = [(k, v) for k, v in scope["headers"] if k != b"accept"]
            scope["headers"] = headers + [(b"accept", b"application/geo+json")]


def _filter_problem(request: Request) -> tuple[str, str] | None:
    if "filter" not in request.query_params:
        return None
    text = request.query_params["filter"]
    try:
        if request.query_params.get("filter-lang") == "cql2-json":
            cql2.Expr(json.loads(text))
        else:
            cql2.Expr(text)
    except Exception as exc:  # cql2 raises plain Exception for parse errors
        log.info("CQL2 filter refused: %s", " ".join(str(exc).split())[:500])
        return "filter", ("is not valid CQL2 text (for CQL2 JSON add filter-lang=cql2-json); "
                          "property names are listed at /ogc/collections/{collectionId}/queryables")
    return None


def _tile_problem(path: str) -> tuple[str, str] | None:
    """z, x and y must name a tile of the tile matrix set (tipg's tile query breaks on others)."""
    match = TILE_PATH.match(path)
    if match is None or match["tms"] == "WebMercatorQuad" or match["tms"] not in morecantile.tms.list():
        return None
    tms = morecantile.tms.get(match["tms"])
    z, x, y = int(match["z"]), int(match["x"]), int(match["y"])
    if not tms.minzoom <= z <= tms.maxzoom:
        return "z", f"must be between {tms.minzoom} and {tms.maxzoom} in {tms.id}"
    matrix = tms.matrix(z)
    if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
        return "x", (f"tile {z}/{x}/{y} is outside {tms.id}: at zoom {z} x is 0–{matrix.matrixWidth - 1} "
                     f"and y is 0–{matrix.matrixHeight - 1}")
    return None


def _zoom_problem(request: Request) -> tuple[str, str] | None:
    for name in ("minzoom", "maxzoom"):
        value = request.query_params.get(name)
        if value is not None and not (value.strip().isdigit() and int(value) <= MAX_ZOOM):
            return name, f"must be a whole number from 0 to {MAX_ZOOM}"
    return None


def _sort_problem(request: Request) -> tuple[str, str] | None:
    value = request.query_params.get("sortby")
    if value is None:
        return None
    for term in value.split(","):
        if not SORT_TERM.fullmatch(term.strip(" ")):
            return "sortby", f"{term.strip(' ')[:64]!r} is not a property name with an optional + or - in front"
    return None


def _words(name: str) -> str:
    """``InvalidPropertyName`` → ``invalid property name`` (tipg's error classes say what went wrong)."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _tipg_problem(status: int):
    async def handler(request: Request, exc: Exception):
        if status >= 500:
            return await internal_error(request, exc)
        log.info("OGC request refused (%s): %s", type(exc).__name__, exc)
        title = "Bad request" if status < 404 else ("Not found" if status == 404 else "Invalid input")
        return problem(status, title, f"{_words(type(exc).__name__)}: check the parameters against "
                                      "/ogc/collections/{collectionId}/queryables and the OpenAPI document at /ogc/api")

    return handler


async def _bad_query(request: Request, exc: Exception):
    log.info("OGC query refused by the database: %s", exc)
    return problem(400, "Bad request", "the query cannot be run: a filter or sortby names a property this collection "
                                       "does not have, or compares it with a value of the wrong type "
                                       "(see /ogc/collections/{collectionId}/queryables)")


async def _bad_ogc_parameter(request: Request, exc: Exception):
    """Under /ogc a parse error of a client's parameter is a 400; anywhere else it is our bug (500)."""
    if request.url.path.startswith(PREFIX):
        log.info("OGC parameter refused (%s): %s", type(exc).__name__, exc)
        return problem(400, "Bad request", "a parameter has a value that cannot be read (bbox, datetime, limit, "
                                           "zoom or a filter value); see the OpenAPI document at /ogc/api")
    return await internal_error(request, exc)


async def open_ogc(app: FastAPI, sqlalchemy_url: str) -> None:
    """Open tipg's pool and read the ``ogc`` views into its catalog, named after the layers."""
    url = sqlalchemy_url.replace("postgresql+psycopg2://", "postgresql://")
    await connect_to_db(app, schemas=[SCHEMA], settings=PostgresSettings(database_url=url, db_min_conn_size=1, db_max_conn_size=10))
    await register_collection_catalog(app, db_settings=DatabaseSettings(schemas=[SCHEMA], functions=[]))
    found = app.state.collection_catalog["collections"]
    renamed = {}
    for layer in LAYERS:
        collection = found.get(f"{SCHEMA}.{layer.name}")
        if collection is not None:
            renamed[layer.name] = collection.model_copy(update={
                "id": layer.name,
                "title": f"{layer.vi} ({layer.en})",
                "description": f"{layer.description_vi} — {layer.description_en}",
            })
    app.state.collection_catalog = Catalog(collections=renamed, last_updated=app.state.collection_catalog["last_updated"])


async def close_ogc(app: FastAPI) -> None:
    """Close tipg's pool."""
    await close_db_connection(app)
