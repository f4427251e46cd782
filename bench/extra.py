"""Workloads added for issue 17: identical retries in flight, and how costs grow with the data."""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import urllib.error
import urllib.request

from sqlalchemy import text

from bench.servers import wrk_median
from bench.workloads import BBOX_1KM, DENSE, _get, load_other_layers, tile_xy
from geomap.layers.registry import get_layer
from geomap.services.tiles import carries_id, edge, tile_attributes


def _post(url: str, token: str, body: bytes) -> tuple[int, str | None]:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read()).get("id")
    except urllib.error.HTTPError as e:
        return e.code, None


def retries_in_flight(engine, geomap: str, token: str, pairs: int = 64) -> dict:
    """``pairs`` creates, each sent twice at the same instant (a phone retrying before the first
    answer arrived). Both copies must succeed with the same tree: the second waits for the first
    and replays its answer, instead of being refused with 409."""
    print(f"identical retries in flight: {pairs} pairs …", flush=True)
    run = random.SystemRandom().randrange(1 << 31)
    with engine.connect() as conn:
        points = conn.execute(text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM (SELECT geom FROM farms ORDER BY code DESC LIMIT 40) f, "
            "ST_Dump(ST_GeneratePoints(ST_Buffer(f.geom, -0.00005), 4, :seed)) p"), {"seed": run % 1_000_000 + 1}).all()
    url = f"{geomap}/api/v1/layers/durian_trees/features?confirm_nearby=true"
    outcomes = {"replayed": 0, "conflict_409": 0, "other": 0}
    for i, (x, y) in enumerate(points[:pairs]):
        body = json.dumps({"type": "Feature", "id": f"{run:08x}-{i:04x}-4000-8000-{i:012x}",
                           "geometry": {"type": "Point", "coordinates": [x, y]},
                           "properties": {"code": f"R-{run:08x}-{i}", "name": "Cây thử", "province": "Đắk Lắk",
                                          "commune": "xã Ea Kly", "variety": "ri6", "gps_accuracy_m": 5}}).encode()
        barrier, answers = threading.Barrier(2), [None, None]

        def send(k: int) -> None:
            barrier.wait()
            answers[k] = _post(url, token, body)

        threads = [threading.Thread(target=send, args=(k,)) for k in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(a[0] for a in answers)
        if codes in ([200, 201], [201, 201], [200, 200]) and answers[0][1] == answers[1][1]:
            outcomes["replayed"] += 1
        elif 409 in codes:
            outcomes["conflict_409"] += 1
        else:
            outcomes["other"] += 1
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT count(*) FROM durian_trees WHERE code LIKE :p"), {"p": f"R-{run:08x}-%"}).scalar_one()
        conn.execute(text("DELETE FROM durian_trees WHERE code LIKE 'R-%'"))
    return {"pairs": min(pairs, len(points)), **outcomes, "stored": stored}


def _raw_mvt(z: int) -> str:
    """The plain full-detail ``ST_AsMVT`` query of a trees' tile: every tree in the tile and in the
    edge geomap's tile carries for whole markers (:func:`~geomap.services.tiles.edge`), with the
    attributes geomap's tile carries, so both queries build the same tile; no cap, no count, no
    prepared plan."""
    layer = get_layer("durian_trees")
    cols = ", ".join((["d.id"] if carries_id(layer, z) else []) + [f"d.{c}" for c in tile_attributes(layer, z)])
    return f"""
    WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e, ST_TileEnvelope(:z, :x, :y, margin => {edge(layer) / 4096}) AS m)
    SELECT ST_AsMVT(t, 'durian_trees', 4096, 'geom') FROM (
        SELECT {cols},
               ST_AsMVTGeom(ST_Transform(d.geom, 3857), env.e, 4096, {edge(layer)}, true) AS geom
          FROM durian_trees d, env
         WHERE d.deleted_at IS NULL AND d.geom && ST_Transform(env.m, 4326)
    ) t
"""


def raw_tile_ms(engine, z: int, tiles: list[tuple[int, int]]) -> dict:
    """The plain full-detail ST_AsMVT query (what tipg sends, without its feature cap), per tile:
    the faster of PostgreSQL's default plan and the same query with neither parallel workers nor
    JIT compilation, so the floor is the database's best for each tile. (On dense tiles the
    default starts a parallel worker and JIT-compiles the query: ~10 ms of a 10–30 ms tile.)"""
    times, sql = [], _raw_mvt(z)
    with engine.connect() as conn:
        for x, y in tiles:
            best = []
            for workers, jit in ((2, "on"), (0, "off")):
                # undone with the transaction when the connection goes back to the pool
                conn.execute(text(f"SET max_parallel_workers_per_gather = {workers}; SET jit = {jit}"))
                t = time.perf_counter()
                conn.execute(text(sql), {"z": z, "x": x, "y": y}).scalar_one()
                best.append(time.perf_counter() - t)
            times.append(min(best))
    return {"median": round(statistics.median(times) * 1000, 1), "max": round(max(times) * 1000, 1)}


def growth_point(engine, geomap: str, trees: int, load_seconds: float, seconds: float) -> dict:
    """At one data size: the load's rate, cold tiles at z8/z12/z16 and items (1 km bbox, limit 100) at c1."""
    print(f"growth at {trees:,} trees …", flush=True)
    out: dict = {"trees": trees, "load_s": round(load_seconds, 1), "load_rows_per_s": round(trees / load_seconds)}
    for z in (8, 12, 16):
        cx, cy = tile_xy(*DENSE, z)
        ring = [(cx + dx, cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        cold = [_get(f"{geomap}/tiles/durian_trees/{z}/{x}/{y}.mvt")[0] for x, y in ring]  # a fresh server: all misses
        out[f"tile_z{z}_cold_ms"] = round(statistics.median(cold) * 1000, 1)
    bbox = ",".join(map(str, BBOX_1KM))
    items = wrk_median(f"{geomap}/api/v1/layers/durian_trees/features?bbox={bbox}&health=khoe&limit=100", 1, seconds, 1)
    out["items_c1_p50_ms"], out["items_c1_rps"] = items["p50_ms"], items["rps"]
    return out


def load_dataset(engine, data) -> float:
    """The layers of ``data`` into a fresh database; returns the seconds of the trees' GeoPackage."""
    from geomap.io.load import load_file

    load_other_layers(engine, data)
    t = time.perf_counter()
    load_file(engine, data / "durian_trees.gpkg", progress=False)
    return time.perf_counter() - t
