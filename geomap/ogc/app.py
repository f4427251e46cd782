"""OGC API – Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0, CQL2 filter) and OGC API – Tiles
at ``/ogc``, served by tipg's router over the public views of :mod:`geomap.ogc.views`.

tipg is used as a library: its module-level app (``tipg.main``) reads settings at import time,
so geomap includes tipg's ``Endpoints`` router under ``/ogc`` (tipg's ``router_prefix``) and
opens tipg's asyncpg pool in geomap's lifespan. Collections are renamed from ``ogc.<view>`` to
the layer names and get Vietnamese titles and descriptions from the registry.

Around tipg: :mod:`geomap.ogc.parameters` checks every request's parameters first,
:mod:`geomap.ogc.collection` adds geomap's filter rules to tipg's queries,
:mod:`geomap.ogc.conditional` answers conditional GETs of items, and :mod:`geomap.ogc.routes`
answers the collections list, queryables, TileJSON and style.json itself.
"""

from __future__ import annotations

import copy
import logging
import re
from urllib.parse import urlencode
from typing import Annotated

import asyncpg
import cql2
import jinja2
import morecantile
from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from morecantile.defaults import TileMatrixSets
from morecantile.errors import MorecantileError
from starlette.templating import Jinja2Templates
from tipg.collections import Catalog, Collection, register_collection_catalog
from tipg.database import close_db_connection, connect_to_db
from tipg.errors import DEFAULT_STATUS_CODES, MissingDatetimeColumn, MissingGeometryColumn, NotFound, TiPgError
from tipg.factory import FEATURES_CONFORMS, Endpoints
from tipg.settings import DatabaseSettings, PostgresSettings

from geomap.errors import UnknownLayerError
from geomap.problems import internal_error, problem
from geomap.layers.registry import LAYERS, get_layer
from geomap.ogc.collection import LayerCollection
from geomap.ogc.conditional import conditional_get
from geomap.ogc.crs import add_crs
from geomap.ogc.parameters import ITEMS_PATH, PREFIX, item_id_missing, parameter_problem
from geomap.ogc.routes import ogc_router
from geomap.ogc.scoped import ScopedHttpMiddleware
from geomap.ogc.views import SCHEMA
from geomap.web.i18n import pick_lang

log = logging.getLogger(__name__)

#: tipg's maximum page size (its ``limit`` is ``le=10000``).
MAX_LIMIT = 10000
#: CQL2 classes tipg implements (through the cql2 library) but does not declare; GDAL and QGIS only
#: send a filter to the server when these are listed (OGC API – Features Part 3, CQL2 1.0).
CQL2_CONFORMS = [
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
]
#: Only WebMercatorQuad is offered: its tiles are geomap's (aggregated, never cut). tipg's tiles in
#: other grids would stop at 10,000 features per tile without aggregation.
TILE_MATRIX_SETS = TileMatrixSets({"WebMercatorQuad": morecantile.tms.get("WebMercatorQuad")})
TITLE = "geomap — Bản đồ tài sản số cộng đồng (OGC API)"


def layer_collection(
    request: Request, collectionId: Annotated[str, Path(description="Layer name, e.g. durian_trees", max_length=64)]
) -> Collection:
    """The collection of a layer, by its plain name (tipg's default wants ``schema.table``), titled
    in the reader's language (Vietnamese; English for ``?lang=en`` or an English Accept-Language)."""
    catalog = getattr(request.app.state, "collection_catalog", None) or {"collections": {}}
    collection = catalog["collections"].get(collectionId)
    if collection is None:
        raise UnknownLayerError(f"no collection '{collectionId}'; collections: {', '.join(catalog['collections'])}")
    lang = pick_lang(request)
    return collection if lang == "vi" else collection.model_copy(update={"title": get_layer(collectionId).label(lang)})


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
    """Include tipg's OGC API router under ``/ogc`` (the pool is opened by :func:`open_ogc`),
    after geomap's own /ogc routes (:mod:`geomap.ogc.routes`), which take precedence."""
    templates = Jinja2Templates(env=jinja2.Environment(loader=LocalAssetsLoader("tipg", "templates"), autoescape=True))
    FEATURES_CONFORMS.extend(c for c in CQL2_CONFORMS if c not in FEATURES_CONFORMS)
    endpoints = Endpoints(
        title=TITLE, templates=templates, with_tiles_viewer=False, router_prefix=PREFIX,
        collection_dependency=layer_collection, supported_tms=TILE_MATRIX_SETS,
    )
    html = endpoints.ogc_features._create_html_response
    ours = ogc_router(layer_collection, lambda r, d, t, title: html(r, d, t, title), PREFIX)
    _hide_shadowed_routes(endpoints, ours)
    app.include_router(ours)
    app.include_router(endpoints.router, prefix=PREFIX, tags=["OGC API"])
    # The landing page's service-desc is ``url_for("openapi")``: name /ogc/api so and put it first.
    app.router.add_api_route(PREFIX + "/api", _ogc_openapi, name="openapi", include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())
    _add_error_handlers(app)
    app.add_middleware(ScopedHttpMiddleware, dispatch=_ogc_request, applies=lambda scope: scope["path"].startswith(PREFIX))
    add_crs(app)  # crs / bbox-crs / Content-Crs (geomap/ogc/crs.py); registered last so it runs first


def _hide_shadowed_routes(endpoints: Endpoints, ours: APIRouter) -> None:
    """tipg's routes that geomap answers itself (same path and method) never run: keep them only
    for tipg's ``url_for`` links, out of the OpenAPI document."""
    answered = {(route.path, m) for route in ours.routes for m in getattr(route, "methods", None) or ()}
    for router in (endpoints.ogc_features.router, endpoints.ogc_tiles.router):
        for route in router.routes:
            if {(PREFIX + getattr(route, "path", ""), m) for m in getattr(route, "methods", None) or ()} & answered:
                route.include_in_schema = False


def _add_error_handlers(app: FastAPI) -> None:
    """Under /ogc a client's mistake is a 400 naming the parameter (OGC API – Features Part 1, 7.5),
    a missing thing a 404; tipg's own texts go to the log only."""
    # tipg's error classes, answered as problem+json. (tipg's defaults also map Exception and
    # PostgresError to 500 with str(exc) in the body; geomap keeps its own handler for those.)
    for exc_type, status in DEFAULT_STATUS_CODES.items():
        if issubclass(exc_type, TiPgError):
            # A geometry/datetime column that does not exist is named by the client (geom-column=…).
            client = exc_type in (MissingGeometryColumn, MissingDatetimeColumn) or status < 500
            app.add_exception_handler(exc_type, _tipg_problem(404 if exc_type is NotFound else 400 if client else status))
    validation = app.exception_handlers.get(RequestValidationError)
    app.add_exception_handler(RequestValidationError, _bad_value(validation))
    # A CQL2 filter or sort naming a column that does not exist (or a value of the wrong type)
    # is the client's mistake: 400 with the database's reason, not a 500.
    for exc_type in (asyncpg.exceptions.SyntaxOrAccessError, asyncpg.exceptions.DataError):
        app.add_exception_handler(exc_type, _bad_query)
    # tipg parses some parameters (bbox, datetime, zoom) without catching what bad values raise.
    for exc_type in (ValueError, OverflowError, MorecantileError, cql2.ParseError, cql2.ValidationError,
                     asyncpg.exceptions.InternalServerError):
        app.add_exception_handler(exc_type, _bad_ogc_parameter)


def _bad_value(elsewhere):
    """A parameter of the wrong type under /ogc is a 400 naming it; elsewhere the API's own answer."""
    async def handler(request: Request, exc: RequestValidationError):
        if not request.url.path.startswith(PREFIX):
            return await elsewhere(request, exc)
        errors = [{"field": str(e["loc"][-1]) if e.get("loc") else "query", "reason": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:10])
        return problem(400, "Bad request", detail, errors=errors)

    return handler


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


async def _ogc_request(request: Request, call_next):
    """Every /ogc request: parameters checked (400 naming the one at fault), ids that cannot exist
    are 404, ``f=json`` means GeoJSON on items, and items answer conditional GETs (ETag, 304)."""
    found = parameter_problem(request)
    if found:
        field, reason = found
        return problem(400, "Bad request", f"{field}: {reason}", errors=[{"field": field, "reason": reason}])
    match = ITEMS_PATH.match(request.url.path)
    if match is None:
        return await call_next(request)
    if item_id_missing(request):
        return problem(404, "Not found", f"no feature with id {match['item'][:64]!r} (ids are UUIDs)")
    _json_means_geojson(request)
    catalog = getattr(request.app.state, "collection_catalog", None) or {"collections": {}}
    if request.method != "GET" or match["collection"] not in catalog["collections"]:
        return await call_next(request)
    return await conditional_get(request, get_layer(match["collection"]), call_next)


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


def _words(name: str) -> str:
    """``InvalidPropertyName`` → ``invalid property name`` (tipg's error classes say what went wrong)."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


#: The parameter each of tipg's refusals is about.
TIPG_FIELDS = {"InvalidBBox": "bbox", "InvalidDatetime": "datetime", "InvalidLimit": "limit",
               "InvalidGeometryColumnName": "geom-column", "MissingGeometryColumn": "geom-column",
               "InvalidDatetimeColumnName": "datetime-column", "MissingDatetimeColumn": "datetime"}


def _tipg_field(request: Request, exc: Exception) -> str:
    name = type(exc).__name__
    if name == "InvalidPropertyName":
        return "sortby" if "sortby" in request.query_params else "properties"
    return TIPG_FIELDS.get(name, "query")


def _tipg_problem(status: int):
    async def handler(request: Request, exc: Exception):
        if status >= 500:
            return await internal_error(request, exc)
        log.info("OGC request refused (%s): %s", type(exc).__name__, exc)
        if status == 404:
            return problem(404, "Not found", "no such feature in this collection")
        field = _tipg_field(request, exc)
        reason = f"{_words(type(exc).__name__)}: see /ogc/collections/{{collectionId}}/queryables and /ogc/api"
        return problem(400, "Bad request", f"{field}: {reason}", errors=[{"field": field, "reason": reason}])

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
            renamed[layer.name] = LayerCollection.model_validate({
                **dict(collection), "schema": collection.dbschema,
                "id": layer.name, "title": layer.vi,
                "description": f"{layer.description_vi} — {layer.description_en}",
            })
    app.state.collection_catalog = Catalog(collections=renamed, last_updated=app.state.collection_catalog["last_updated"])


async def close_ogc(app: FastAPI) -> None:
    """Close tipg's pool."""
    await close_db_connection(app)
