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
import threading
import time
from collections import OrderedDict
from typing import Mapping

from sqlalchemy import Connection, text

from geomap.auth import PUBLIC
from geomap.errors import FieldProblem, InvalidInput
from geomap.layers.base import Layer
from geomap.services.features import filter_sql, q

MIN_ZOOM, MAX_ZOOM = 0, 20
DETAIL_ZOOM = 15
POLYGON_ZOOM = 12
CELL_PX = 48
FINE_CELL_PX = 8
MAX_DETAIL = 15_000
EXTENT = 4096
TILE_PARAMS_IGNORED = {"lang", "layer", "layers", "limit", "cursor"}


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse zooms and tile numbers that do not exist."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise InvalidInput([FieldProblem("z", f"zoom must be between {MIN_ZOOM} and {MAX_ZOOM}")])
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise InvalidInput([FieldProblem("x", f"at zoom {z} x and y must be between 0 and {n - 1}")])


def tile_attributes(layer: Layer) -> list[str]:
    """Attributes carried by individual features in tiles: public, short ones."""
    keep = ["code", "name", "status"]
    keep += [a.name for a in layer.attributes if a.public and a.filterable and a.kind != "ref" and a.name not in keep]
    return keep


def _filters(layer: Layer, params: Mapping[str, str]) -> tuple[str, dict]:
    clean = {k: v for k, v in params.items() if k not in TILE_PARAMS_IGNORED and v != ""}
    where, values = filter_sql(layer, clean, PUBLIC)
    return " AND ".join(where), values


def render_tile(conn: Connection, layer: Layer, z: int, x: int, y: int, params: Mapping[str, str]) -> bytes:
    """The MVT bytes of one tile (possibly empty)."""
    check_tile(z, x, y)
    where, values = _filters(layer, params)
    values.update(z=z, x=x, y=y, extent=EXTENT, name=layer.name)
    base = (
        f"FROM {q(layer.table)} t, env WHERE t.geom && env.e4326 AND {where}"
    )
    env = "WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e, ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS e4326)"
    detail = (z >= DETAIL_ZOOM and layer.geometry == "Point") or (z >= POLYGON_ZOOM and layer.geometry != "Point")
    if detail:
        n = conn.execute(text(f"{env} SELECT count(*) {base}"), values).scalar_one()
        if n <= MAX_DETAIL:
            cols = ", ".join(f"t.{q(c)}" for c in tile_attributes(layer))
            sql = (
                f"{env}, feats AS (SELECT t.id::text AS id, {cols}, "
                f"ST_AsMVTGeom(ST_Transform(t.geom, 3857), env.e, :extent, 64, true) AS geom {base}) "
                f"SELECT ST_AsMVT(feats, :name, :extent, 'geom') FROM feats WHERE geom IS NOT NULL"
            )
            return bytes(conn.execute(text(sql), values).scalar_one() or b"")
        cell_px = FINE_CELL_PX
    else:
        cell_px = CELL_PX
    values["cells"] = EXTENT // cell_px
    point = "t.geom" if layer.geometry == "Point" else "ST_PointOnSurface(t.geom)"
    sql = f"""
        {env}, pts AS (
            SELECT ST_Transform({point}, 3857) AS g, t.code, t.name {base}
        ), cells AS (
            SELECT count(*) AS count, ST_Centroid(ST_Collect(pts.g)) AS c,
                   CASE WHEN count(*) = 1 THEN min(pts.code) END AS code,
                   CASE WHEN count(*) = 1 THEN min(pts.name) END AS name
              FROM pts, env
             GROUP BY floor((ST_X(pts.g) - ST_XMin(env.e)) / (ST_XMax(env.e) - ST_XMin(env.e)) * :cells),
                      floor((ST_Y(pts.g) - ST_YMin(env.e)) / (ST_YMax(env.e) - ST_YMin(env.e)) * :cells)
        ), feats AS (
            SELECT cells.count, cells.code, cells.name, ST_AsMVTGeom(cells.c, env.e, :extent, 64, true) AS geom
              FROM cells, env
        )
        SELECT ST_AsMVT(feats, :name, :extent, 'geom') FROM feats WHERE geom IS NOT NULL
    """
    return bytes(conn.execute(text(sql), values).scalar_one() or b"")


def data_version(conn: Connection, layer: Layer) -> str:
    """Changes whenever an asset of ``layer`` is written (every write sets ``updated_at``)."""
    return str(conn.execute(text(f"SELECT max(updated_at) FROM {q(layer.table)}")).scalar_one())


class TileCache:
    """A bounded LRU of rendered tiles; entries also expire after ``ttl`` seconds.

    Each layer's data version is remembered for ``version_ttl`` seconds, so a warm tile is served
    without touching the database; writes made through this process forget it at once (other
    workers see them within ``version_ttl``, and their ETags change with them).
    """

    def __init__(self, size: int = 4096, ttl: float = 60.0, version_ttl: float = 1.0) -> None:
        self.size, self.ttl, self.version_ttl = size, ttl, version_ttl
        self._data: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._versions: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def version(self, layer: str) -> str | None:
        """The remembered data version of ``layer``, if still fresh."""
        hit = self._versions.get(layer)
        if hit and time.monotonic() - hit[0] <= self.version_ttl:
            return hit[1]
        return None

    def remember_version(self, layer: str, version: str) -> None:
        """Remember ``layer``'s data version for ``version_ttl`` seconds."""
        self._versions[layer] = (time.monotonic(), version)

    def forget_version(self, layer: str) -> None:
        """A write happened here: look the version up again on the next tile."""
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
    check_tile(z, x, y)
    version = cache.version(layer.name)
    if version is None:
        version = data_version(conn, layer)
        cache.remember_version(layer.name, version)
    key, tag = tile_key(layer, z, x, y, params, version)
    data = cache.get(key)
    if data is None:
        data = render_tile(conn, layer, z, x, y, params)
        cache.put(key, data)
    return data, tag
