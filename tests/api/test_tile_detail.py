"""Street-level tiles: individual assets up to ``MAX_DETAIL``, aggregated (never truncated) beyond it."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
from sqlalchemy import Engine, text

from geomap.layers.registry import get_layer
from geomap.services import tiles


def _busiest_tile(conn, z: int) -> tuple[int, int, int]:
    """The z-tile holding the most durian trees, and how many it holds."""
    n = 1 << z
    rows = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM durian_trees WHERE deleted_at IS NULL")).all()
    counts: dict[tuple[int, int], int] = {}
    for lon, lat in rows:
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        counts[(x, y)] = counts.get((x, y), 0) + 1
    (x, y), most = max(counts.items(), key=lambda kv: kv[1])
    return x, y, most


def _features(data: bytes) -> list[dict]:
    return mapbox_vector_tile.decode(data).get("durian_trees", {}).get("features", [])


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
    assert grouped and all("count" in f["properties"] for f in grouped)
    assert sum(f["properties"]["count"] for f in grouped) == len(detail)
