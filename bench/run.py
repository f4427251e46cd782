"""geomap's benchmark suite: every workload in one go, against one database, peers side by side.

    make bench                                  # 1,000,000 trees (about 30-40 minutes on 2 cores)
    .venv/bin/python -m bench.run --trees 100000 --seconds 5

Writes ``docs/BENCHMARKS.md`` (and ``bench/results.json``). Peers: ``ogr2ogr`` with
``PG_USE_COPY=YES`` (bulk load), tipg (tiles, items) and the raw SQL run directly in PostgreSQL
(the physical floor). Load is generated with ``wrk`` (throughput, latency percentiles) and with
Python threads where each request must differ (cold tiles) or carry logic (field writes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
from sqlalchemy import text

from bench import extra, pages_slowlink, workloads
from bench.servers import Server, free_port, wait_http
from geomap.database import make_engine
from geomap.embedded import EmbeddedPostgres
from geomap.migrate import upgrade
from geomap.sampledata import generate

ROOT = Path(__file__).resolve().parent.parent
ZOOMS = (8, 10, 12, 14, 15, 16)


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    pg = subprocess.run(["/usr/lib/postgresql/15/bin/postgres", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 1024 / 1024, 1), "os": platform.platform(),
            "python": platform.python_version(), "postgres": pg,
            "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0][:40]}


def dataset(n: int, seed: int) -> Path:
    """GeoJSON (and GeoPackage) files for ``n`` trees, made once per (n, seed)."""
    out = ROOT / "bench" / "data" / f"{n}-{seed}"
    if not (out / "durian_trees.gpkg").exists():
        print(f"generating {n:,} trees …", flush=True)
        generate(out, seed=seed, n_trees=n)
        import pyogrio

        for name in ("farms", "durian_trees"):
            df = pyogrio.read_dataframe(out / f"{name}.geojson", use_arrow=True)
            pyogrio.write_dataframe(df, out / f"{name}.gpkg", layer=name, driver="GPKG")
    return out


def fresh_database(pg: EmbeddedPostgres, name: str) -> str:
    url = pg.url("postgres")
    conn = psycopg2.connect(url.replace("+psycopg2", ""))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    db = url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(db)
    return db


def _geomap(env: dict, url: str, prewarm: bool = True) -> tuple[Server, str]:
    """A geomap server (two workers, one per core) on ``url``."""
    port = free_port()
    server_env = {**env, "GEOMAP_DATABASE_URL": url, **({} if prewarm else {"GEOMAP_PREWARM_TILES": "false"})}
    server = Server.start([sys.executable, "-m", "geomap.cli", "serve", "--workers", "2", "--port", str(port)], server_env, ROOT)
    wait_http(f"http://127.0.0.1:{port}/health")
    return server, f"http://127.0.0.1:{port}"


def _ring(z: int, r: int = 1) -> list[tuple[int, int]]:
    cx, cy = workloads.tile_xy(*workloads.DENSE, z)
    return [(cx + dx, cy + dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1)]


def growth(pg: EmbeddedPostgres, env: dict, sizes: list[int], seed: int, seconds: float) -> list[dict]:
    """Load, cold tiles and items at each size, each on its own database and a fresh server."""
    points = []
    for n in sizes:
        url = fresh_database(pg, f"geomap_bench_{n}")
        engine = make_engine(url)
        load_s = extra.load_dataset(engine, dataset(n, seed))
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        server, base = _geomap(env, url, prewarm=False)
        try:
            points.append(extra.growth_point(engine, base, n, load_s, seconds))
        finally:
            server.stop()
            engine.dispose()
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per measurement (median reported)")
    parser.add_argument("--growth", default="100000", help="other data sizes for the growth table (comma-separated; '' for none)")
    parser.add_argument("--growth-only", action="store_true",
                        help="measure only --growth sizes and add them to the last run's growth table (e.g. --growth 5000000)")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--only-writes", action="store_true",
                        help="re-run only the field-writes workload on the last run's database and update the report")
    args = parser.parse_args()
    sizes = [int(n) for n in args.growth.split(",") if n.strip()]
    if args.only_writes:
        return rerun_writes(args)
    if args.growth_only:
        return rerun_growth(args, sizes)

    started = time.time()
    results: dict = {"machine": machine(), "trees": args.trees, "seed": args.seed, "seconds": args.seconds,
                     "repeats": args.repeats, "command": " ".join(["python -m bench.run", *sys.argv[1:]])}
    data = dataset(args.trees, args.seed)
    pg = EmbeddedPostgres(ROOT / ".geomap" / "bench", dbname="postgres")
    pg.acquire()
    servers: list[Server] = []
    try:
        url = fresh_database(pg, "geomap_bench")
        engine = make_engine(url)
        results["load"] = workloads.bulk_load(engine, url, data)
        with engine.connect() as conn:
            results["dataset"] = {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                                  for name in ("farms", "durian_trees", "wifi_points", "border_markers")}
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        token = workloads.volunteer_token(engine)
        env = {"GEOMAP_WRITE_RATE_PER_TOKEN": "10000000", "GEOMAP_WRITE_RATE_PER_IP": "10000000",
               "GEOMAP_LOG_LEVEL": "warning", "GEOMAP_HOME": str(ROOT / ".geomap" / "bench-home")}
        # Growth at this size first, on a fresh server whose tile cache is empty.
        server, base = _geomap(env, url, prewarm=False)
        big = extra.growth_point(engine, base, args.trees, results["load"]["geomap_gpkg"]["seconds"], args.seconds)
        server.stop()
        server, geomap = _geomap(env, url)
        servers.append(server)
        tipg_port = free_port()
        tipg_env = {"DATABASE_URL": url.replace("+psycopg2", ""), "TIPG_DB_SCHEMAS": '["public"]',
                    "TIPG_DB_TABLES": '["public.durian_trees"]', "TIPG_DB_FUNCTIONS": '[]', "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
        servers.append(Server.start([sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", str(tipg_port),
                                     "--workers", "2", "--log-level", "warning"], tipg_env, ROOT))
        tipg = f"http://127.0.0.1:{tipg_port}"
        wait_http(tipg + "/collections")
        time.sleep(15)  # let geomap finish prewarming the national-view tiles before measuring
        results["tiles"] = workloads.tiles(engine, geomap, tipg, ZOOMS, args.seconds, args.repeats)
        for z in (12, 14, 15, 16):
            results["tiles"][z]["raw_full_ms"] = extra.raw_tile_ms(engine, z, _ring(z, 2))
        results["features"] = workloads.features(engine, geomap, tipg, args.seconds, args.repeats)
        results["writes"] = workloads.field_writes(engine, geomap, token, clients=32, seconds=max(10.0, args.seconds * 2))
        results["retries_in_flight"] = extra.retries_in_flight(engine, geomap, token)
        results["map"] = {"1M" if args.trees >= 1_000_000 else f"{args.trees:,}": workloads.map_page(geomap)}
        print("pages on a slow link …", flush=True)
        results["pages_slowlink"] = pages_slowlink.measure_pages(geomap, runs=3)
        # The same page on the 10k sample data, for the "independent of data size" comparison.
        small = fresh_database(pg, "geomap_bench_small")
        workloads.load_sample(make_engine(small))
        server, base = _geomap(env, small)
        servers.append(server)
        results["map"]["10k"] = workloads.map_page(base)
        for s in servers:
            s.stop()
        servers = []
        measured = growth(pg, env, sizes, args.seed, args.seconds) + [big]
        results["growth"] = sorted(measured + _separate_growth(g["trees"] for g in measured), key=lambda g: g["trees"])
        engine.dispose()
    finally:
        for s in servers:
            s.stop()
        pg.release()
    results["duration_s"] = round(time.time() - started)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    from bench.report import write_report

    write_report(results, args.report)
    print(f"wrote {args.report} in {results['duration_s']} s")


def _separate_growth(measured) -> list[dict]:
    """Growth points of earlier separate runs (``--growth-only``, e.g. 5M) not measured again now."""
    path = ROOT / "bench" / "results.json"
    sizes = set(measured)
    earlier = json.loads(path.read_text()).get("growth", []) if path.exists() else []
    return [g for g in earlier if g.get("separate_run") and g["trees"] not in sizes]


def rerun_growth(args, sizes: list[int]) -> None:
    """More growth points (e.g. 5,000,000 trees, measured once), added to the last run's table."""
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    pg = EmbeddedPostgres(ROOT / ".geomap" / "bench", dbname="postgres")
    pg.acquire()
    try:
        env = {"GEOMAP_LOG_LEVEL": "warning", "GEOMAP_HOME": str(ROOT / ".geomap" / "bench-home")}
        points = growth(pg, env, sizes, args.seed, args.seconds)
    finally:
        pg.release()
    kept = [g for g in results.get("growth", []) if g["trees"] not in sizes]
    results["growth"] = sorted(kept + [{**g, "separate_run": True} for g in points], key=lambda g: g["trees"])
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    from bench.report import write_report

    write_report(results, args.report)
    print(f"updated {args.report}")


def rerun_writes(args) -> None:
    """Field writes again (after a change to the write path), keeping every other number."""
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    pg = EmbeddedPostgres(ROOT / ".geomap" / "bench", dbname="postgres")
    pg.acquire()
    server = None
    try:
        url = pg.url("geomap_bench")
        engine = make_engine(url)
        with engine.begin() as conn:
            from geomap.services.accounts import issue_credential

            token = issue_credential(conn, "bench")
        port = free_port()
        env = {"GEOMAP_DATABASE_URL": url, "GEOMAP_WRITE_RATE_PER_TOKEN": "10000000", "GEOMAP_WRITE_RATE_PER_IP": "10000000",
               "GEOMAP_LOG_LEVEL": "warning", "GEOMAP_HOME": str(ROOT / ".geomap" / "bench-home"), "GEOMAP_PREWARM_TILES": "false"}
        server = Server.start([sys.executable, "-m", "geomap.cli", "serve", "--workers", "2", "--port", str(port)], env, ROOT)
        wait_http(f"http://127.0.0.1:{port}/health")
        results["writes"] = workloads.field_writes(engine, f"http://127.0.0.1:{port}", token, clients=32,
                                                   seconds=max(10.0, results["seconds"] * 2))
        note = "; field writes re-run with: python -m bench.run --only-writes"
        results["command"] = results["command"].split(note)[0] + note
        engine.dispose()
    finally:
        if server:
            server.stop()
        pg.release()
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    from bench.report import write_report

    write_report(results, args.report)
    print(f"updated {args.report}")


if __name__ == "__main__":
    main()
