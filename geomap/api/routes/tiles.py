"""Vector tiles: ``/tiles/{layer}/{z}/{x}/{y}.mvt`` and the TileJSON ``/tiles/{layer}.json``."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from sqlalchemy import text

from geomap.api.deps import PublicReadEngineDep, LayerDep, SettingsDep
from geomap.geometry import NATIONAL_VIEW
from geomap.layers.base import Layer
from geomap.services import tiles
from geomap.sql import q

router = APIRouter(tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"


@router.get("/tiles/{layer}/{z}/{x}/{y}.mvt", summary="A vector tile (public attributes, aggregated at low zoom)",
            response_class=Response, responses={200: {"content": {MVT: {}}}})
async def tile(layer: LayerDep, z: int, x: int, y: int, request: Request, engine: PublicReadEngineDep) -> Response:
    """Filters are the list API's (``health=sau_benh``, ``q=…``). ETag changes when the layer's data does."""
    cache: tiles.TileCache = request.app.state.tile_cache
    params = dict(request.query_params)
    hit = tiles.cached_tile(cache, layer, z, x, y, params)  # warm: no database, no thread hop

    def render() -> tuple[bytes, str, str]:
        # Reads only, each statement on its own snapshot as in READ COMMITTED anyway: autocommit
        # saves the BEGIN and ROLLBACK round trips a pooled transaction costs (~0.1 ms a tile).
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            data, tag = tiles.get_tile(conn, cache, layer, z, x, y, params)
        return data, tag, f"render;dur={(time.perf_counter() - started) * 1000:.2f}"

    data, tag, timing = (*hit, 'cache;desc="hit"') if hit is not None else await run_in_threadpool(render)
    # Server-Timing (W3C): how long the tile took inside the server (the connection, the SQL,
    # the cache), shown by a browser's developer tools and read by the benchmarks.
    headers = {"ETag": tag, "Cache-Control": "public, max-age=60", "Vary": "Accept-Encoding", "Server-Timing": timing}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/ogc/collections/{layer}/tiles/WebMercatorQuad/{z}/{x}/{y}", tags=["OGC API"], response_class=Response,
            summary="OGC API – Tiles: the same aggregated tiles as /tiles (WebMercatorQuad)",
            responses={200: {"content": {MVT: {}}}})
async def ogc_tile(layer: LayerDep, z: int, x: int, y: int, request: Request, engine: PublicReadEngineDep) -> Response:
    """OGC API – Tiles in WebMercatorQuad answered by geomap's tiles, so /ogc and the map agree
    (aggregated at low zoom, nothing silently dropped). Other tile matrix sets are tipg's."""
    return await tile(layer, z, x, y, request, engine)


@router.get("/tiles/{layer}.json", summary="TileJSON 3.0 of a layer's vector tiles")
def tilejson(layer: LayerDep, request: Request, engine: PublicReadEngineDep, settings: SettingsDep) -> dict:
    """Where the tiles are, their zoom range, fields and the data's bounds."""
    with engine.connect() as conn:
        box = conn.execute(text(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                f"(SELECT ST_Extent(geom) AS e FROM {q(layer.table)} WHERE deleted_at IS NULL) s")).one()
    query = f"?{request.url.query}" if request.url.query else ""
    base = settings.public_url.rstrip("/")
    return {
        "tilejson": "3.0.0",
        "name": layer.vi,
        "description": layer.description_vi,
        "tiles": [f"{base}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt{query}"],
        "minzoom": tiles.MIN_ZOOM,
        "maxzoom": tiles.MAX_ZOOM,
        "bounds": [round(v, 6) for v in box] if box[0] is not None else list(NATIONAL_VIEW),
        "vector_layers": [{
            "id": layer.name,
            "description": layer.vi,
            "fields": _fields(layer),
        }],
    }


def _fields(layer: Layer) -> dict[str, str]:
    """TileJSON's field descriptions; those a point layer's first street-level zoom leaves out say
    from which zoom they come."""
    first = set(tiles.tile_attributes(layer, tiles.DETAIL_ZOOM))
    later = f" (từ mức {tiles.DETAIL_ZOOM + 1})"
    fields = {a: layer.attr(a).vi + ("" if a in first else later) for a in tiles.tile_attributes(layer)}
    return {**fields, "id": "UUID" + ("" if tiles.carries_id(layer, tiles.DETAIL_ZOOM) else later),
            "count": "Số tài sản (ở mức thu phóng thấp)"}
