"""Routes of /ogc that geomap answers itself instead of tipg: the collections list (titles in the
reader's language), queryables (``geometry``, titles, ``enum``), and the TileJSON and style.json of
WebMercatorQuad, which describe geomap's own aggregated tiles (source layer = the layer's name).

They are added before tipg's router, so they win; tipg still renders the HTML pages.
"""

from __future__ import annotations

from typing import Annotated, Callable, Optional

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from tipg.collections import Collection
from tipg.dependencies import OutputType, QueryablesOutputType
from tipg.model import Collection as CollectionModel, Collections, Link
from tipg.resources.enums import MediaType

from geomap.layers.registry import get_layer
from geomap.geometry import NATIONAL_VIEW
from geomap.ogc import schema
from geomap.ogc.views import GEOMETRY_COLUMN, SCHEMA
from geomap.sql import q
from geomap.web.i18n import pick_lang

VIETNAM = list(NATIONAL_VIEW)  # an empty layer's extent: the national first view
JSON_OR_HTML = {200: {"content": {"application/json": {}, "text/html": {}}}}


def ogc_router(collection_dependency: Callable[..., Collection], html: Callable, prefix: str) -> APIRouter:
    """The routes; ``html(request, data, template_name, title)`` renders tipg's templates."""
    router = APIRouter(prefix=prefix, tags=["OGC API"])
    ByName = Depends(collection_dependency)

    @router.get("/collections", summary="The layers as OGC API collections", responses=JSON_OR_HTML)
    def collections(request: Request, output: Annotated[Optional[MediaType], Depends(OutputType)] = None):
        """Every layer, titled in Vietnamese (``?lang=en`` or an English ``Accept-Language``: English)."""
        data = collections_document(request, prefix)
        if output == MediaType.html:
            return html(request, data, "collections", "Collections list")
        return _vary(JSONResponse(data))

    @router.get("/collections/{collectionId}/queryables", summary="The properties a filter may use",
                responses={200: {"content": {"application/schema+json": {}, "text/html": {}}}})
    def queryables(request: Request, collection: Collection = ByName,
                   output: Annotated[Optional[MediaType], Depends(QueryablesOutputType)] = None):
        """JSON Schema: the geometry as ``geometry`` (primary geometry), enum values, titles."""
        url = str(request.url.remove_query_params(["f", "lang"]))
        data = schema.queryables(collection, pick_lang(request), url)
        if output == MediaType.html:
            return html(request, data, "queryables", f"{collection.id} queryables")
        return _vary(JSONResponse(data, media_type="application/schema+json"))

    @router.get("/collections/{collectionId}/tiles/WebMercatorQuad/tilejson.json", summary="TileJSON of geomap's tiles")
    async def tilejson(request: Request, collection: Collection = ByName) -> JSONResponse:
        """TileJSON 3.0 of the collection's WebMercatorQuad tiles (the map's own, aggregated at low zoom)."""
        layer = get_layer(collection.id)
        bounds = await _bounds(request, collection)
        fields = {c.name: c.json_type for c in collection.properties if not c.geometry_type}
        return JSONResponse({
            "tilejson": "3.0.0", "name": layer.label(pick_lang(request)), "scheme": "xyz",
            "tiles": [_tiles_url(request, prefix, collection.id)], "minzoom": 0, "maxzoom": 20, "bounds": bounds,
            "vector_layers": [{"id": layer.name, "fields": {**fields, "count": "number"}, "minzoom": 0, "maxzoom": 20}],
        })

    @router.get("/collections/{collectionId}/tiles/WebMercatorQuad/style.json", summary="MapLibre style of the tiles")
    async def stylejson(request: Request, collection: Collection = ByName) -> JSONResponse:
        """A MapLibre GL style (v8) that draws the collection from geomap's WebMercatorQuad tiles."""
        layer = get_layer(collection.id)
        bounds = await _bounds(request, collection)
        return JSONResponse(schema.style(layer, _tiles_url(request, prefix, collection.id), bounds, pick_lang(request)))

    return router


def collections_document(request: Request, prefix: str) -> dict:
    """The /collections document: geomap's layers in registry order, titled in the reader's language."""
    lang = pick_lang(request)
    base = str(request.base_url).rstrip("/") + prefix
    catalog = getattr(request.app.state, "collection_catalog", None) or {"collections": {}}
    items = []
    for name, collection in catalog["collections"].items():
        here = f"{base}/collections/{name}"
        items.append(CollectionModel(
            id=name, title=schema.collection_title(name, lang), description=collection.description,
            extent=collection.extent,
            links=[Link(href=here, rel="collection", type=MediaType.json),
                   Link(href=f"{here}/items", rel="items", type=MediaType.geojson),
                   Link(href=f"{here}/queryables", rel="queryables", type=MediaType.schemajson),
                   Link(href=f"{here}/tiles", rel="data", type=MediaType.json, title="Collection TileSets")],
        ))
    return Collections(
        links=[Link(href=f"{base}/collections", rel="self", type=MediaType.json)],
        numberMatched=len(items), numberReturned=len(items), collections=items,
    ).model_dump(exclude_none=True, mode="json")


def _vary(response: JSONResponse) -> JSONResponse:
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


def _tiles_url(request: Request, prefix: str, name: str) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{str(request.base_url).rstrip('/')}{prefix}/collections/{name}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}{query}"


async def _bounds(request: Request, collection: Collection) -> list[float]:
    """The collection's data bounds now (tipg's catalog keeps those of start-up)."""
    sql = (f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
           f"(SELECT ST_Extent({q(GEOMETRY_COLUMN)}) AS e FROM {SCHEMA}.{q(collection.table)}) s")
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(sql)
    return [round(v, 6) for v in row] if row[0] is not None else VIETNAM
