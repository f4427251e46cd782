"""Vector tiles (MVT) made by PostGIS, aggregated at low zoom so no tile is too big or truncated.

* Below ``DETAIL_ZOOM`` points are aggregated on a grid of ``CELL_PX`` pixels: one point per
  occupied cell, at the cell's centroid, with ``count``; nothing is dropped, and a cell that holds
  a single asset also carries its ``code`` and ``name``.
* From ``DETAIL_ZOOM`` individual assets appear with their public attributes. Should a tile still
  hold more than ``MAX_DETAIL`` assets it is aggregated on a finer grid instead of truncated.
* Polygons (farms) are drawn from ``POLYGON_ZOOM``; below it they are aggregated like points.

Tiles carry public attributes only and honour the same filters as the list API. A small
in-process cache keyed by the layer's data version (``max(updated_at)``) serves repeat requests.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from typing import Mapping

from sqlalchemy import Connection, text

from geomap import prepared
from geomap.auth import PUBLIC
from geomap.errors import FieldProblem, InvalidInput
from geomap.geometry import NATIONAL_VIEW
from geomap.layers.base import Layer
from geomap.services.features import filter_sql
from geomap.sql import q

MIN_ZOOM, MAX_ZOOM = 0, 20
DETAIL_ZOOM = 15
LOW_ZOOM = 10
POLYGON_ZOOM = 12
CELL_PX = 48
FINE_CELL_PX = 8
MAX_DETAIL = 15_000
EXTENT = 4096
#: Tile units per pixel of a 256 px map tile.
UNITS_PER_PX = EXTENT // 256


def edge(layer: Layer) -> int:
    """How far outside a street-level tile its assets are still carried (tile units): the layer's
    largest marker (radius + 3 px at z17+, 1 px stroke), so a marker on a tile's edge is drawn whole
    by both tiles instead of cut in half by each."""
    return (layer.style.radius + 4) * UNITS_PER_PX
TILE_PARAMS_IGNORED = {"lang", "layer", "layers", "limit", "cursor"}


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse zooms and tile numbers that do not exist."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise InvalidInput([FieldProblem("z", f"zoom must be between {MIN_ZOOM} and {MAX_ZOOM}")])
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise InvalidInput([FieldProblem("x", f"at zoom {z} x and y must be between 0 and {n - 1}")])


def tile_attributes(layer: Layer, z: int = MAX_ZOOM) -> list[str]:
    """Attributes carried by individual features in tiles: public, short ones. At the first
    street-level zoom a point carries only what the map's colours and popup need (its code and
    choice attributes; the popup names it by its code, the label on the tree): the densest z15
    tiles hold 4,000–6,500 trees 1–2 px apart, and without their ids, names and numbers the
    heaviest is 293 KB instead of 507 (62 KB gzipped)."""
    keep = ["code", "name", "status"]
    keep += [a.name for a in layer.attributes if a.public and a.filterable and a.kind != "ref" and a.name not in keep]
    if not carries_id(layer, z):
        keep = [a for a in keep if a == "code" or layer.attr(a).kind == "enum"]
    return keep


def carries_id(layer: Layer, z: int) -> bool:
    """Whether a tile's individual features carry the asset's id (not at the first street-level
    zoom of a point layer, see :func:`tile_attributes`)."""
    return z > DETAIL_ZOOM or layer.geometry != "Point"


def _filters(layer: Layer, params: Mapping[str, str]) -> tuple[str, dict]:
    clean = {k: v for k, v in params.items() if k not in TILE_PARAMS_IGNORED and v != ""}
    where, values = filter_sql(layer, clean, PUBLIC)
    return " AND ".join(where), values


#: The tile's envelope ``e`` (Web Mercator) and the box its assets are selected in, ``e4326``: the
#: envelope widened by ``:margin`` of a tile (the edge of a street-level tile, else 0).
ENV = ("WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e, "
       "ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS e4326)")


def render_tile(conn: Connection, layer: Layer, z: int, x: int, y: int, params: Mapping[str, str]) -> bytes:
    """The MVT bytes of one tile (possibly empty)."""
    check_tile(z, x, y)
    where, values = _filters(layer, params)
    values.update(z=z, x=x, y=y, extent=EXTENT, name=layer.name)
    base = f"FROM {q(layer.table)} t, env WHERE t.geom && env.e4326 AND {where}"
    detail = (z >= DETAIL_ZOOM and layer.geometry == "Point") or (z >= POLYGON_ZOOM and layer.geometry != "Point")
    if detail:
        data = _detail_tile(conn, layer, base, values)
        if data is not None:
            return data
        cell_px = FINE_CELL_PX
    else:
        cell_px = CELL_PX
    values.update(cells=EXTENT // cell_px, margin=0.0)
    point = "t.geom" if layer.geometry == "Point" else "ST_PointOnSurface(t.geom)"
    # Grid cells are computed from longitude/latitude with the Web Mercator formulas, so only one
    # point per occupied cell (its mean position) is ever transformed, not every asset.
    sql = f"""
        {ENV}, pts AS (
            SELECT ST_X({point}) AS lon, ST_Y({point}) AS lat, t.code, t.name {base}
        ), cells AS (
            SELECT count(*) AS count, avg(lon) AS lon, avg(lat) AS lat,
                   CASE WHEN count(*) = 1 THEN min(code) END AS code,
                   CASE WHEN count(*) = 1 THEN min(name) END AS name
              FROM pts
             GROUP BY floor(((lon + 180.0) / 360.0 * (1 << :z) - :x) * :cells),
                      floor(((1.0 - ln(tan(radians(lat)) + 1.0 / cos(radians(lat))) / pi()) / 2.0 * (1 << :z) - :y) * :cells)
        ), feats AS (
            SELECT cells.count, cells.code, cells.name,
                   ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(cells.lon, cells.lat), 4326), 3857), env.e, :extent, 64, true) AS geom
              FROM cells, env
        )
        SELECT ST_AsMVT(feats, :name, :extent, 'geom') FROM feats WHERE geom IS NOT NULL
    """
    return bytes(conn.execute(text(sql), values).scalar_one() or b"")


def _detail_tile(conn: Connection, layer: Layer, base: str, values: dict) -> bytes | None:
    """The tile of individual assets in one statement, or None when it holds more than ``MAX_DETAIL``.

    One pass over the tile's assets (at most ``MAX_DETAIL + 1`` of them) gives both the count and
    the MVT: two aggregates of the same rows. Counting in a separate scan first cost a second
    bitmap heap scan of the same rows (1.0 ms of a 9.5 ms tile of 1,900 trees; 0.4 of 3.2 ms
    for 870). A tile over the limit wastes that pass before it is aggregated instead; no
    street-level tile of the 1M-tree bench data comes near it. The statement is prepared with its
    generic plan, planned once per connection: a bitmap scan of the tile's box, which reads each
    page of the tile's assets once; the plain index scan a generic plan picks under the ``LIMIT``
    visits a page per asset (1,317 buffer accesses against 214 for a z15 tile of 3,756 trees; the
    same time within the noise while every page is cached).
    """
    cols = [f"t.{q(c)}" for c in tile_attributes(layer, values["z"])]
    if carries_id(layer, values["z"]):
        cols.insert(0, "t.id::text AS id")
    sql = (
        f"{ENV} SELECT count(*), ST_AsMVT(f, :name, :extent, 'geom') FILTER (WHERE f.geom IS NOT NULL) "
        f"FROM (SELECT {', '.join(cols)}, ST_AsMVTGeom(ST_Transform(t.geom, 3857), env.e, :extent, :edge, true) AS geom "
        f"{base} LIMIT :cap) f"
    )
    params = {**values, "cap": MAX_DETAIL + 1, "edge": edge(layer), "margin": edge(layer) / EXTENT}
    n, data = prepared.execute(conn, sql, params, bitmap=True).one()
    return bytes(data or b"") if n <= MAX_DETAIL else None


def data_version(conn: Connection, layer: Layer) -> str:
    """Changes whenever an asset of ``layer`` is written (every write sets ``updated_at``)."""
    return str(conn.execute(text(f"SELECT max(updated_at) FROM {q(layer.table)}")).scalar_one())


class TileCache:
    """A bounded LRU of rendered tiles; entries also expire after ``ttl`` seconds.

    Each layer's data version is remembered for ``version_ttl`` seconds, so a warm tile is served
    without touching the database; writes made through this process forget it at once (other
    workers see them within ``version_ttl``, and their ETags change with them).
    """

    def __init__(self, size: int = 4096, ttl: float = 3600.0, version_ttl: float = 1.0,
                 low_zoom_version_ttl: float = 60.0) -> None:
        self.size, self.ttl, self.version_ttl, self.low_ttl = size, ttl, version_ttl, low_zoom_version_ttl
        self._data: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._versions: dict[str, tuple[float, str]] = {}
        self._low_versions: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def version(self, layer: str, z: int = MAX_ZOOM) -> str | None:
        """The remembered data version of ``layer`` for zoom ``z``, if still fresh.

        Aggregated national and provincial zooms (≤ ``LOW_ZOOM``) cost a scan of many assets, so
        they follow the data at most once a minute (counts there may lag by up to a minute);
        street-level tiles follow within a second.
        """
        memo, ttl = (self._low_versions, self.low_ttl) if z <= LOW_ZOOM else (self._versions, self.version_ttl)
        hit = memo.get(layer)
        if hit and time.monotonic() - hit[0] <= ttl:
            return hit[1]
        return None

    def remember_version(self, layer: str, version: str, z: int = MAX_ZOOM) -> None:
        """Remember ``layer``'s data version (for low zooms separately)."""
        memo = self._low_versions if z <= LOW_ZOOM else self._versions
        if z > LOW_ZOOM or layer not in memo or time.monotonic() - memo[layer][0] > self.low_ttl:
            memo[layer] = (time.monotonic(), version)

    def forget_version(self, layer: str) -> None:
        """A write happened here: street-level tiles look the version up again on the next tile."""
        self._versions.pop(layer, None)

    def get(self, key: tuple) -> bytes | None:
        """The cached tile, or None."""
        with self._lock:
            hit = self._data.get(key)
            if hit is None or time.monotonic() - hit[0] > self.ttl:
                return None
            self._data.move_to_end(key)
            return hit[1]

    def put(self, key: tuple, value: bytes) -> None:
        """Remember a tile."""
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def tile_key(layer: Layer, z: int, x: int, y: int, params: Mapping[str, str], version: str) -> tuple[tuple, str]:
    """The cache key of a tile and its ETag."""
    filters = tuple(sorted((k, v) for k, v in params.items() if k not in TILE_PARAMS_IGNORED))
    key = (layer.name, z, x, y, filters, version)
    return key, '"' + hashlib.sha1(repr(key).encode()).hexdigest()[:20] + '"'


def get_tile(conn: Connection, cache: TileCache, layer: Layer, z: int, x: int, y: int,
             params: Mapping[str, str]) -> tuple[bytes, str]:
    """A tile and its ETag, from the cache when the layer has not changed."""
    hit = cached_tile(cache, layer, z, x, y, params)
    if hit is not None:
        return hit
    version = cache.version(layer.name, z)  # still fresh: a cold tile costs one query, its own
    if version is None:
        version = data_version(conn, layer)
        cache.remember_version(layer.name, version, z)
    key, tag = tile_key(layer, z, x, y, params, version)
    data = cache.get(key)
    if data is None:
        data = render_tile(conn, layer, z, x, y, params)
        cache.put(key, data)
    return data, tag


def cached_tile(cache: TileCache, layer: Layer, z: int, x: int, y: int,
                params: Mapping[str, str]) -> tuple[bytes, str] | None:
    """A warm tile and its ETag straight from memory (no database), or None."""
    check_tile(z, x, y)
    version = cache.version(layer.name, z)
    if version is None:
        return None
    key, tag = tile_key(layer, z, x, y, params, version)
    data = cache.get(key)
    return None if data is None else (data, tag)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the Web Mercator tile at zoom ``z`` that holds the point (lon, lat)."""
    n = 1 << z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def prewarm(engine, cache: TileCache, layers, zooms=(5, 6, 7), bbox=NATIONAL_VIEW) -> int:
    """Render the national-view tiles of every layer into ``cache`` (run in a background thread
    at start-up, so the first visitor of the national map does not wait for the aggregation)."""
    done = 0
    with engine.connect() as conn:
        for z in zooms:
            (x0, y1), (x1, y0) = tile_of(bbox[0], bbox[1], z), tile_of(bbox[2], bbox[3], z)
            for layer in layers:
                for x in range(x0, x1 + 1):
                    for y in range(y0, y1 + 1):
                        get_tile(conn, cache, layer, z, x, y, {})
                        done += 1
    return done
