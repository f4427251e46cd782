"""OGC API – Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0, CQL2 filter) and OGC API – Tiles
at ``/ogc``, served by tipg's router over the public views of :mod:`geomap.ogc.views`.

tipg is used as a library: its module-level app (``tipg.main``) reads settings at import time,
so geomap includes tipg's ``Endpoints`` router under ``/ogc`` (tipg's ``router_prefix``) and
opens tipg's asyncpg pool in geomap's lifespan. Collections are renamed from ``ogc.<view>`` to
the layer names and get Vietnamese titles and descriptions from the registry.
"""

from __future__ import annotations

import json
from typing import Annotated

import asyncpg
import cql2
import jinja2
from fastapi import FastAPI, Path, Request
from morecantile.errors import MorecantileError
from starlette.templating import Jinja2Templates
from tipg.collections import Catalog, Collection, register_collection_catalog
from tipg.database import close_db_connection, connect_to_db
from tipg.errors import DEFAULT_STATUS_CODES, MissingDatetimeColumn, MissingGeometryColumn, TiPgError
from tipg.factory import Endpoints
from tipg.settings import DatabaseSettings, PostgresSettings

from geomap.errors import UnknownLayerError
from geomap.layers.registry import LAYERS
from geomap.ogc.views import SCHEMA

PREFIX = "/ogc"
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


class LocalAssetsLoader(jinja2.PackageLoader):
    """tipg's templates, with CDN links swapped for the app's own copies (pages work offline)."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        for cdn, local in LOCAL_ASSETS.items():
            source = source.replace(cdn, local)
        return source, filename, uptodate


def add_ogc(app: FastAPI) -> None:
    """Include tipg's OGC API router under ``/ogc`` (the pool is opened by :func:`open_ogc`)."""
    templates = Jinja2Templates(env=jinja2.Environment(loader=LocalAssetsLoader("tipg", "templates"), autoescape=True))
    endpoints = Endpoints(
        title=TITLE, templates=templates, with_tiles_viewer=False, router_prefix=PREFIX,
        collection_dependency=layer_collection,
    )
    app.include_router(endpoints.router, prefix=PREFIX, tags=["OGC API"])
    # tipg's own error classes, answered as problem+json. (tipg's defaults also map Exception and
    # PostgresError to 500 with str(exc) in the body; geomap keeps its own handler for those.)
    for exc_type, status in DEFAULT_STATUS_CODES.items():
        if issubclass(exc_type, TiPgError):
            # A geometry/datetime column that does not exist is named by the client (geom-column=…).
            if exc_type in (MissingGeometryColumn, MissingDatetimeColumn):
                status = 400
            app.add_exception_handler(exc_type, _tipg_problem(status))
    app.middleware("http")(_check_cql2_filter)
    # A CQL2 filter or sort naming a column that does not exist (or a value of the wrong type)
    # is the client's mistake: 400 with the database's reason, not a 500.
    for exc_type in (asyncpg.exceptions.SyntaxOrAccessError, asyncpg.exceptions.DataError):
        app.add_exception_handler(exc_type, _bad_query)
    # tipg parses some parameters (bbox, datetime, zoom) without catching what bad values raise.
    for exc_type in (ValueError, OverflowError, MorecantileError, cql2.ParseError, cql2.ValidationError,
                     asyncpg.exceptions.InternalServerError):
        app.add_exception_handler(exc_type, _bad_ogc_parameter)


async def _check_cql2_filter(request: Request, call_next):
    """Refuse an unparsable CQL2 filter with a 400 before tipg (whose parser raises bare Exception)."""
    if request.url.path.startswith(PREFIX) and "filter" in request.query_params:
        text = request.query_params["filter"]
        try:
            if request.query_params.get("filter-lang") == "cql2-json":
                cql2.Expr(json.loads(text))
            else:
                cql2.Expr(text)
        except Exception as exc:  # cql2 raises plain Exception for parse errors
            from geomap.api.errors import problem

            reason = " ".join(str(exc).split())[:200]
            return problem(400, "Bad request", f"filter is not valid CQL2: {reason}",
                           errors=[{"field": "filter", "reason": reason}])
    return await call_next(request)


def _tipg_problem(status: int):
    async def handler(request: Request, exc: Exception):
        from geomap.api.errors import _unexpected, problem

        if status >= 500:
            return await _unexpected(request, exc)
        return problem(status, "Bad request" if status < 404 else ("Not found" if status == 404 else "Invalid input"),
                       str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)

    return handler


async def _bad_query(request: Request, exc: Exception):
    from geomap.api.errors import problem

    return problem(400, "Bad request", f"the query cannot be run: {str(exc).splitlines()[0][:200]}")


async def _bad_ogc_parameter(request: Request, exc: Exception):
    """Under /ogc a parse error of a client's parameter is a 400; anywhere else it is our bug (500)."""
    from geomap.api.errors import _unexpected, problem

    if request.url.path.startswith(PREFIX):
        return problem(400, "Bad request", f"invalid parameter: {str(exc).splitlines()[0][:200]}")
    return await _unexpected(request, exc)


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
