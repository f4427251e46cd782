"""The benchmark's workloads. Each returns plain numbers for the report."""

from __future__ import annotations

import collections
import http.client
import json
import math
import os
import random
import re
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mapbox_vector_tile
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.servers import wrk_median
from geomap.io.load import load_file, load_paths
from geomap.services.accounts import add_team, add_user, issue_credential
from geomap.services.tiles import render_tile, tile_of

ROOT = Path(__file__).resolve().parent.parent
# The densest durian area of the generated data (Ea Kly, former Krông Pắc district).
DENSE = (108.3105, 12.7205)
BBOX_1KM = (108.3010, 12.7110, 108.3110, 12.7210)


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(math.ceil(p / 100 * len(values))) - 1)]


def _pg_conn_string(url: str) -> str:
    u = make_url(url)
    return f"host={u.host} port={u.port} user={u.username} password={u.password} dbname={u.database}"


def load_other_layers(engine, data: Path) -> None:
    """Farms first (trees reference them), then the other layers of a generated dataset."""
    load_file(engine, data / "farms.geojson", progress=False)
    for other in ("wifi_points", "digital_libraries", "border_markers", "heritage_sites"):
        load_file(engine, data / f"{other}.geojson", progress=False)


def bulk_load(engine, url: str, data: Path) -> dict:
    """geomap's loader (validation included) vs ogr2ogr with PG_USE_COPY on the same files."""
    print("bulk load …", flush=True)
    out: dict = {}
    load_other_layers(engine, data)
    n = None
    for fmt in ("geojson", "gpkg"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM asset_history WHERE layer = 'durian_trees'"))
            conn.execute(text("TRUNCATE durian_trees"))
        holder: dict = {}
        seconds = _timed(lambda: holder.update(r=load_file(engine, data / f"durian_trees.{fmt}", progress=False)))
        n = holder["r"][0].inserted
        out[f"geomap_{fmt}"] = {"rows": n, "seconds": round(seconds, 1), "rows_per_s": round(n / seconds)}
        print(f"  geomap {fmt}: {n / seconds:,.0f} rows/s", flush=True)
    # Reload of the same file: nothing written since, so answered from the file's fingerprint ...
    seconds = _timed(lambda: load_file(engine, data / "durian_trees.gpkg", progress=False))
    out["geomap_reload_same_file"] = {"rows": n, "seconds": round(seconds, 1), "rows_per_s": round(n / seconds)}
    # ... and compared row by row (fingerprint forgotten): what a reload costs after any edit.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM loaded_files"))
    seconds = _timed(lambda: load_file(engine, data / "durian_trees.gpkg", progress=False))
    out["geomap_reload_unchanged"] = {"rows": n, "seconds": round(seconds, 1), "rows_per_s": round(n / seconds)}
    for fmt in ("geojson", "gpkg"):
        env = {**os.environ, "PG_USE_COPY": "YES"}
        cmd = ["ogr2ogr", "-f", "PostgreSQL", f"PG:{_pg_conn_string(url)}", str(data / f"durian_trees.{fmt}"),
               "-nln", f"ogr_trees_{fmt}", "-lco", "GEOMETRY_NAME=geom", "-overwrite", "-nlt", "POINT"]
        seconds = _timed(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))
        out[f"ogr2ogr_{fmt}"] = {"rows": n, "seconds": round(seconds, 1), "rows_per_s": round(n / seconds)}
        print(f"  ogr2ogr {fmt}: {n / seconds:,.0f} rows/s", flush=True)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS ogr_trees_geojson, ogr_trees_gpkg"))
    return out


def load_sample(engine) -> None:
    """The committed 10k sample data."""
    load_paths(engine, sorted((ROOT / "data" / "geojson").glob("*.geojson")), actor="bench")


def volunteer_token(engine) -> str:
    """A volunteer of a team working in Đắk Lắk, and its token."""
    with engine.begin() as conn:
        add_team(conn, "BENCH", "Tổ benchmark", ["Đắk Lắk"], [], ["durian_trees"],  # Đắk Lắk's extent, roughly
                 area_geojson={"type": "Polygon", "coordinates": [[[107.4, 12.1], [108.95, 12.1], [108.95, 13.45],
                                                                  [107.4, 13.45], [107.4, 12.1]]]})
        add_user(conn, "bench", "volunteer", team_code="BENCH")
        return issue_credential(conn, "bench")


tile_xy = tile_of


_CONNECTIONS = threading.local()


def _get(url: str) -> tuple[float, bytes, str]:
    """GET ``url`` on this thread's keep-alive connection to its server, as a browser fetches a
    map's tiles: (seconds, body, its ``Server-Timing`` header or ""). A new TCP connection per
    request would add 0.5–1 ms to every timing (the same for every server measured), none of it
    the server's work."""
    parts = urllib.parse.urlsplit(url)
    pool = _CONNECTIONS.__dict__.setdefault("by_host", {})
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    for attempt in (0, 1):  # a server may close an idle connection: reconnect once
        conn = pool.get(parts.netloc) or pool.setdefault(parts.netloc, http.client.HTTPConnection(parts.netloc, timeout=120))
        t = time.perf_counter()
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            pool.pop(parts.netloc)
            if attempt:
                raise
            continue
        if r.status != 200:
            raise urllib.error.HTTPError(url, r.status, r.reason, r.headers, None)
        return time.perf_counter() - t, body, r.headers.get("server-timing", "")
    raise AssertionError("unreachable")


def _count(data: bytes) -> tuple[int, int]:
    """The assets a tile holds within its own bounds (an aggregated point counts its assets; the
    edge a street-level tile carries for whole markers is left out), and how many of its points sit
    within one unit of those bounds (their tile coordinate is rounded: they may land either side)."""
    inside = on_edge = 0
    for layer in mapbox_vector_tile.decode(data).values():
        extent = layer.get("extent", 4096)
        for f in layer["features"]:
            xy = f["geometry"]["coordinates"] if f["geometry"]["type"] == "Point" else None
            if xy is not None and not all(-1 <= c <= extent + 1 for c in xy):
                continue
            if xy is not None and not all(1 <= c <= extent - 1 for c in xy):
                on_edge += 1
            if xy is None or all(0 <= c <= extent for c in xy):
                inside += int(f["properties"].get("count", 1))
    return inside, on_edge


def _render_ms(responses) -> float | None:
    """Median time geomap's server spent on these tiles (its ``Server-Timing: render;dur=``): the
    cold time without the HTTP exchange and the hop into the worker thread."""
    times = [float(m.group(1)) for *_, timing in responses if (m := re.search(r"render;dur=([\d.]+)", timing))]
    return round(statistics.median(times), 1) if times else None


def tiles(engine, geomap: str, tipg: str, zooms, seconds: float, repeats: int) -> dict:
    """Cold and warm tile latency/throughput: geomap vs tipg vs the raw ST_AsMVT query."""
    out: dict = {}
    for z in zooms:
        print(f"tiles z{z} …", flush=True)
        cx, cy = tile_xy(*DENSE, z)
        ring = [(cx + dx, cy + dy) for dx in range(-2, 3) for dy in range(-2, 3)]  # 25 distinct tiles
        g_url = lambda x, y: f"{geomap}/tiles/durian_trees/{z}/{x}/{y}.mvt"  # noqa: E731
        t_url = lambda x, y: f"{tipg}/collections/public.durian_trees/tiles/WebMercatorQuad/{z}/{x}/{y}"  # noqa: E731
        raw = []
        with engine.connect() as conn:
            from geomap.layers.registry import get_layer

            layer = get_layer("durian_trees")
            for x, y in ring:
                t = time.perf_counter()
                render_tile(conn, layer, z, x, y, {})
                raw.append(time.perf_counter() - t)
        cold = [_get(g_url(x, y)) for x, y in ring]  # first request of each tile: a cache miss
        tipg_cold = [_get(t_url(x, y)) for x, y in ring]
        g_bytes, t_bytes = _get(g_url(cx, cy))[1], _get(t_url(cx, cy))[1]
        with engine.connect() as conn:
            truth = conn.execute(text(
                "SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL AND geom && ST_Transform(ST_TileEnvelope(:z,:x,:y), 4326)"
            ), {"z": z, "x": cx, "y": cy}).scalar_one()
        # Cold throughput at 16 clients: 16 threads over distinct tiles not requested before.
        far = [(cx + dx, cy + dy) for dx in range(3, 7) for dy in range(-2, 2)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda xy: _get(g_url(*xy)), far))
        cold16 = len(far) / (time.perf_counter() - t0)
        out[z] = {
            "raw_ms": {"median": round(statistics.median(raw) * 1000, 1), "p95": round(_pct(raw, 95) * 1000, 1)},
            "geomap_cold_ms": {"median": round(statistics.median(c[0] for c in cold) * 1000, 1),
                               "p95": round(_pct([c[0] for c in cold], 95) * 1000, 1)},
            "geomap_cold_render_ms": _render_ms(cold),
            "geomap_cold_rps_1": round(1 / statistics.median(c[0] for c in cold), 1),
            "geomap_cold_rps_16": round(cold16, 1),
            "tipg_cold_ms": {"median": round(statistics.median(c[0] for c in tipg_cold) * 1000, 1),
                             "p95": round(_pct([c[0] for c in tipg_cold], 95) * 1000, 1)},
            "geomap_warm_1": wrk_median(g_url(cx, cy), 1, seconds, repeats),
            "geomap_warm_16": wrk_median(g_url(cx, cy), 16, seconds, repeats),
            "tipg_1": wrk_median(t_url(cx, cy), 1, seconds, repeats),
            "tipg_16": wrk_median(t_url(cx, cy), 16, seconds, repeats),
            "bytes": {"geomap": len(g_bytes), "tipg": len(t_bytes),
                      "geomap_max_cold": max(len(c[1]) for c in cold)},
            "features": {"in_tile": truth, "geomap_counted": _count(g_bytes)[0], "geomap_on_edge": _count(g_bytes)[1],
                         "tipg_counted": _count(t_bytes)[0]},
        }
    return out


def features(engine, geomap: str, tipg: str, seconds: float, repeats: int) -> dict:
    """bbox + filter queries, limit 100 and 1000: geomap API, geomap /ogc, tipg, raw SQL."""
    out: dict = {}
    bbox = ",".join(map(str, BBOX_1KM))
    for limit in (100, 1000):
        print(f"features limit={limit} …", flush=True)
        urls = {
            "geomap_api": f"{geomap}/api/v1/layers/durian_trees/features?bbox={bbox}&health=khoe&limit={limit}",
            "geomap_ogc": f"{geomap}/ogc/collections/durian_trees/items?bbox={bbox}&health=khoe&limit={limit}",
            "tipg": f"{tipg}/collections/public.durian_trees/items?bbox={bbox}&health=khoe&limit={limit}",
        }
        row: dict = {}
        for name, url in urls.items():
            body = _get(url)[1]
            row[name] = {"returned": len(json.loads(body)["features"]), "c1": wrk_median(url, 1, seconds, repeats),
                         "c16": wrk_median(url, 16, seconds, repeats)}
        raw = []
        with engine.connect() as conn:
            for _ in range(20):
                t = time.perf_counter()
                conn.execute(text(
                    "SELECT id, code, name, variety, health, planting_year, ST_AsGeoJSON(geom) FROM durian_trees "
                    "WHERE deleted_at IS NULL AND health = 'khoe' AND geom && ST_MakeEnvelope(:a,:b,:c,:d,4326) "
                    "ORDER BY id LIMIT :n"), dict(zip("abcd", BBOX_1KM), n=limit)).all()
                raw.append(time.perf_counter() - t)
        row["raw_sql_ms"] = round(statistics.median(raw) * 1000, 2)
        out[limit] = row
    return out


def _connections_per_worker(port: int) -> list[int]:
    """How many established connections each server process holds on ``port``, most first: the
    kernel hands each keep-alive connection to one worker for its life."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True).stdout
    except OSError:  # no iproute2: the report leaves the line out
        return []
    return sorted(collections.Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)


def _wrk_writes(geomap: str, token: str, points: Path, mode: str, run: int, clients: int, seconds: float) -> dict:
    """One wrk run of bench/field_writes.lua; returns its RESULT line."""
    out = subprocess.run(
        ["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{max(1, round(seconds))}s", "--timeout", "30s",
         "-s", str(ROOT / "bench" / "field_writes.lua"), geomap, "--", token, str(points), mode, str(run), str(clients)],
        capture_output=True, text=True, timeout=seconds + 120,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    return json.loads(line.removeprefix("RESULT "))


WARM_UP_S = 3


def _write_points(engine, name: str, run: int, offset: int) -> Path:
    """Spots inside 400 farms (from the ``offset``-th by code) for the volunteers, fresh each run
    (seeded by the run), never on an earlier run's trees; the file wrk reads them from."""
    with engine.connect() as conn:
        points = conn.execute(text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM (SELECT geom FROM farms ORDER BY code OFFSET :offset LIMIT 400) f, "
            "ST_Dump(ST_GeneratePoints(ST_Buffer(f.geom, -0.00005), 60, :seed)) p"
        ), {"seed": run % 1_000_000 + 1, "offset": offset}).all()
    path = ROOT / ".geomap" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    # fixed width (28 bytes a line, as bench/field_writes.lua expects): each wrk thread seeks to its slice
    lines = [f"{x:013.9f} {y:013.9f}\n" for x, y in points]
    assert {len(line) for line in lines} == {28}, "a coordinate wider than 13 characters"
    path.write_text("".join(lines))
    return path


def field_writes(engine, geomap: str, token: str, clients: int, seconds: float) -> dict:
    """``clients`` volunteers (one wrk connection each) creating, then creating-and-patching trees.

    After a short warm-up, two wrk runs against the same server: creates alone (their latency is
    what wrk reports) and the create → patch flow (patches under If-Match). Afterwards the
    database is checked: every acknowledged create is there once, no spot holds two of this run's
    trees, and every acknowledged patch was applied exactly once (version 2, never 3).
    """
    print(f"field writes: {clients} volunteers (wrk), {WARM_UP_S} s warm-up + 2 × {seconds:.0f} s …", flush=True)
    run = random.SystemRandom().randrange(1 << 31)
    path = _write_points(engine, "bench-points.txt", run, offset=0)
    # Warm-up, not counted: a fresh server opens its pooled connections (a server process, the
    # staging table and the prepared statements each) during its first second under load. It tags
    # other farms, so the measured runs never land on its trees.
    _wrk_writes(geomap, token, _write_points(engine, "bench-points-warm-up.txt", run, offset=400), "create",
                run + 2, clients, WARM_UP_S)
    seen: list[list[int]] = []  # the connections each worker holds halfway through the creates run
    probe = threading.Timer(seconds / 2, lambda: seen.append(_connections_per_worker(urllib.parse.urlsplit(geomap).port)))
    probe.start()
    creates = _wrk_writes(geomap, token, path, "create", run, clients, seconds)
    probe.join()
    flow = _wrk_writes(geomap, token, path, "flow", run + 1, clients, seconds)
    with engine.connect() as conn:
        def stats(r: int):
            return conn.execute(text(
                "SELECT count(*) AS n, count(*) FILTER (WHERE version = 2) AS v2, count(*) FILTER (WHERE version > 2) AS over, "
                "count(*) - count(DISTINCT geom) AS same_spot FROM durian_trees WHERE code LIKE :p"
            ), {"p": f"W-{r:08x}-%"}).one()
        a, b = stats(run), stats(run + 1)
    with engine.begin() as conn:  # leave the database as the other workloads expect it
        conn.execute(text("DELETE FROM durian_trees WHERE code LIKE 'W-%'"))
    acked = creates["created"] + flow["created"]
    stored = a.n + b.n  # at most `clients` more than acked: requests in flight when wrk stopped
    return {
        "clients": clients, "seconds": round(creates["seconds"], 1), "generator": "wrk + bench/field_writes.lua",
        "warm_up_s": WARM_UP_S, "connections_per_worker": seen[0] if seen else [],
        "creates": creates["created"], "creates_per_s": round(creates["created"] / creates["seconds"], 1),
        "create_ms": {"p50": round(creates["p50_ms"], 1), "p99": round(creates["p99_ms"], 1)},
        "create_retries_ok": creates["create_retries_ok"] + flow["create_retries_ok"],
        "flow_creates": flow["created"], "patches": flow["patched"],
        "flow_ms": {"p50": round(flow["p50_ms"], 1), "p99": round(flow["p99_ms"], 1)},
        "patch_retries_412": flow["patch_retries_412"],
        "conflicts": creates["refused"] + flow["refused"], "errors": creates["failed"] + flow["failed"],
        "duplicates": a.same_spot + b.same_spot,
        "acknowledged_missing": max(0, acked - stored),
        "lost_updates": max(0, flow["patched"] - b.v2) + b.over,
    }


def map_page(base: str) -> dict:
    """HTML size and time until the first layer is drawn, in Debian's headless Chromium."""
    from playwright.sync_api import sync_playwright

    print(f"map page {base} …", flush=True)
    size = len(_get(base + "/")[1])
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        for _ in range(3):
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.route("**/*", lambda route: route.abort() if not route.request.url.startswith(base) else route.continue_())
            t = time.perf_counter()
            page.goto(base + "/?layer=durian_trees")
            page.wait_for_selector(".leaflet-tile-container svg path", state="attached", timeout=60_000)
            times.append(time.perf_counter() - t)
            page.close()
        browser.close()
    return {"html_bytes": size, "first_layer_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times]}
