"""Micro-benchmark: in-process cold render of the busiest durian-tree tiles vs the raw ST_AsMVT query.

    .venv/bin/python -m bench.tile_cold_micro --zooms 14,15,16 --tiles 5 --repeats 7

Uses the worktree's embedded PostGIS (``GEOMAP_HOME``) with whatever data is loaded. No cache is
involved: every timing is one ``render_tile`` call (the statements a cold tile runs).
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import text

from geomap.database import Database, make_engine
from geomap.layers.registry import get_layer
from geomap.services import tiles
from geomap.settings import Settings

RAW = """SELECT ST_AsMVT(f, 'durian_trees', 4096, 'geom') FROM (
  SELECT t.id::text AS id, t.code, t.name, ST_AsMVTGeom(ST_Transform(t.geom, 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom
    FROM durian_trees t WHERE t.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AND t.deleted_at IS NULL) f"""
BUSIEST = """SELECT floor((ST_X(geom) + 180) / 360 * (1 << :z))::int AS x,
  floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * (1 << :z))::int AS y, count(*)
  FROM durian_trees WHERE deleted_at IS NULL GROUP BY 1, 2 ORDER BY 3 DESC LIMIT :n"""


def _ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print, per zoom, the median cold render time against the raw query on the same tiles."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--zooms", default="12,13,14,15,16")
    parser.add_argument("--tiles", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    db = Database(Settings())
    engine = make_engine(db.open())
    layer = get_layer("durian_trees")
    try:
        with engine.connect() as conn:
            for z in (int(v) for v in args.zooms.split(",")):
                found = conn.execute(text(BUSIEST), {"z": z, "n": args.tiles}).all()
                ours = [_ms(lambda: tiles.render_tile(conn, layer, z, x, y, {}), args.repeats) for x, y, _ in found]
                raw = [_ms(lambda: conn.execute(text(RAW), {"z": z, "x": x, "y": y}).scalar_one(), args.repeats)
                       for x, y, _ in found]
                most = max(n for _, _, n in found)
                print(f"z{z}: cold {statistics.median(ours):.1f} ms, raw {statistics.median(raw):.1f} ms, "
                      f"ratio {statistics.median(ours) / statistics.median(raw):.2f} (busiest tile {most} trees)")
    finally:
        engine.dispose()
        db.close()


if __name__ == "__main__":
    main()
