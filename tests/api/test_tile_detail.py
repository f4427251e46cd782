"""Street-level tiles: individual assets up to ``MAX_DETAIL``, aggregated (never truncated) beyond it."""

from __future__ import annotations


import mapbox_vector_tile
import pytest
from sqlalchemy import Engine, text

from geomap.layers.registry import get_layer
from geomap.services import tiles


def _busiest_tile(conn, z: int) -> tuple[int, int, int]:
    """The z-tile holding the most durian trees, and how many it holds."""
    rows = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM durian_trees WHERE deleted_at IS NULL")).all()
    counts: dict[tuple[int, int], int] = {}
    for lon, lat in rows:
        key = tiles.tile_of(lon, lat, z)
        counts[key] = counts.get(key, 0) + 1
    (x, y), most = max(counts.items(), key=lambda kv: kv[1])
    return x, y, most


def _features(data: bytes) -> list[dict]:
    return mapbox_vector_tile.decode(data).get("durian_trees", {}).get("features", [])


def _inside(feature: dict, slack: int = 0) -> bool:
    """Whether a point feature lies in its tile (not in the edge carried for whole markers); tile
    coordinates are rounded to whole units, so a point on the edge may land a unit either side."""
    x, y = feature["geometry"]["coordinates"]
    return -slack <= x <= tiles.EXTENT + slack and -slack <= y <= tiles.EXTENT + slack


def _in_tile(conn, z: int, x: int, y: int) -> int:
    """Public trees whose point is in the tile's box (the test the aggregated tiles use)."""
    return conn.execute(text("SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL AND review_state <> 'rejected' "
                             "AND geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326)"), {"z": z, "x": x, "y": y}).scalar_one()


def test_detail_tile_has_every_asset_or_aggregates_them(loaded: Engine, monkeypatch: pytest.MonkeyPatch):
    layer, z = get_layer("durian_trees"), tiles.DETAIL_ZOOM + 1
    with loaded.connect() as conn:
        x, y, most = _busiest_tile(conn, z)
        assert most >= 2
        detail = _features(tiles.render_tile(conn, layer, z, x, y, {}))
        assert len(detail) >= most
        assert all("code" in f["properties"] and "count" not in f["properties"] for f in detail)
        monkeypatch.setattr(tiles, "MAX_DETAIL", most - 1)
        grouped = _features(tiles.render_tile(conn, layer, z, x, y, {}))
        inside = _in_tile(conn, z, x, y)
    assert grouped and all("count" in f["properties"] for f in grouped)
    assert sum(f["properties"]["count"] for f in grouped) == inside


def test_a_street_level_tile_carries_the_markers_on_its_edges(loaded: Engine):
    """A tree just outside a tile comes with it, so a marker on the edge is drawn whole by both tiles
    (each tile's canvas cut it in half); every tree inside the tile is there, and nothing further out."""
    layer, z = get_layer("durian_trees"), tiles.DETAIL_ZOOM + 1
    n, edge = 1 << z, tiles.edge(layer)
    with loaded.connect() as conn:
        trees = conn.execute(text("SELECT code, ST_X(geom), ST_Y(geom) FROM durian_trees WHERE deleted_at IS NULL "
                                  "AND review_state <> 'rejected' ORDER BY code")).all()
        # a tree in the first few units of its tile: the tile to its left carries it past its right edge
        code, lon, lat = next((c, lon, lat) for c, lon, lat in trees if 2 / tiles.EXTENT < (lon + 180) / 360 * n % 1 < edge / 2 / tiles.EXTENT)
        x, y = tiles.tile_of(lon, lat, z)
        x -= 1
        inside = _in_tile(conn, z, x, y)
        features = _features(tiles.render_tile(conn, layer, z, x, y, {}))
    carried = [f for f in features if f["properties"]["code"] == code]
    assert len(carried) == 1 and tiles.EXTENT < carried[0]["geometry"]["coordinates"][0] < tiles.EXTENT + edge
    assert sum(_inside(f, slack=-1) for f in features) <= inside <= sum(_inside(f, slack=1) for f in features)
    assert all(-edge <= c <= tiles.EXTENT + edge for f in features for c in f["geometry"]["coordinates"])


def test_the_first_street_level_zoom_carries_what_the_popup_shows(loaded: Engine):
    """At z15 a tree carries its code and choices (popup and colours), not its id, name and numbers,
    which weighed most of the densest tiles; from z16 every tile attribute and the id."""
    layer = get_layer("durian_trees")
    with loaded.connect() as conn:
        x, y, _ = _busiest_tile(conn, tiles.DETAIL_ZOOM)
        first = _features(tiles.render_tile(conn, layer, tiles.DETAIL_ZOOM, x, y, {}))
        x, y, _ = _busiest_tile(conn, tiles.DETAIL_ZOOM + 1)
        closer = _features(tiles.render_tile(conn, layer, tiles.DETAIL_ZOOM + 1, x, y, {}))
    assert first and all({"code", "health", "variety"} <= set(f["properties"]) for f in first)
    assert not any({"id", "name", "planting_year"} & set(f["properties"]) for f in first)
    assert closer and all({"id", "code", "name", "health"} <= set(f["properties"]) for f in closer)


def test_prewarm_covers_the_whole_first_view_archipelagos_included(loaded: Engine):
    """The national first view reaches Trường Sa (to 114.6°E); its tiles are rendered at start-up
    like the mainland's, so the first visitor waits for none of them."""
    layer = get_layer("border_markers")
    cache = tiles.TileCache()
    assert tiles.prewarm(loaded, cache, [layer]) > 0
    for lon, lat in ((105.8, 21.0), (112.3, 16.5), (114.3, 10.4), (102.2, 8.0)):  # Hà Nội, Hoàng Sa, Trường Sa, SW corner
        for z in (5, 6, 7):
            assert tiles.cached_tile(cache, layer, z, *tiles.tile_of(lon, lat, z), {}) is not None, (lon, lat, z)
