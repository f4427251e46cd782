"""geomap's benchmark suite: every workload in one go, against one database, peers side by side.

    make bench                                  # 1,000,000 trees (about 20 minutes on 2 cores)
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

from bench import workloads
from bench.servers import Server, free_port, wait_http
from geomap.database import make_engine
from geomap.embedded import EmbeddedPostgres
from geomap.migrate import upgrade
from geomap.sampledata import generate

ROOT = Path(__file__).resolve().parent.parent
ZOOMS = (8, 10, 12, 14, 16)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per measurement (median reported)")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--only-writes", action="store_true",
                        help="re-run only the field-writes workload on the last run's database and update the report")
    args = parser.parse_args()
    if args.only_writes:
        return rerun_writes(args)

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
        env = {"GEOMAP_DATABASE_URL": url, "GEOMAP_WRITE_RATE_PER_TOKEN": "10000000", "GEOMAP_WRITE_RATE_PER_IP": "10000000",
               "GEOMAP_LOG_LEVEL": "warning", "GEOMAP_HOME": str(ROOT / ".geomap" / "bench-home")}
        geomap_port, tipg_port = free_port(), free_port()
        # Both servers get two worker processes (one per core).
        servers.append(Server.start([sys.executable, "-m", "geomap.cli", "serve", "--workers", "2", "--port", str(geomap_port)], env, ROOT))
        tipg_env = {"DATABASE_URL": url.replace("+psycopg2", ""), "TIPG_DB_SCHEMAS": '["public"]',
                    "TIPG_DB_TABLES": '["public.durian_trees"]', "TIPG_DB_FUNCTIONS": '[]', "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
        servers.append(Server.start([sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", str(tipg_port),
                                     "--workers", "2", "--log-level", "warning"], tipg_env, ROOT))
        geomap, tipg = f"http://127.0.0.1:{geomap_port}", f"http://127.0.0.1:{tipg_port}"
        wait_http(geomap + "/health")
        wait_http(tipg + "/collections")
        time.sleep(15)  # let geomap finish prewarming the national-view tiles before measuring
        results["tiles"] = workloads.tiles(engine, geomap, tipg, ZOOMS, args.seconds, args.repeats)
        results["features"] = workloads.features(engine, geomap, tipg, args.seconds, args.repeats)
        results["writes"] = workloads.field_writes(engine, geomap, token, clients=32, seconds=max(10.0, args.seconds * 2))
        results["map"] = {"1M" if args.trees >= 1_000_000 else f"{args.trees:,}": workloads.map_page(geomap)}
        # The same page on the 10k sample data, for the "independent of data size" comparison.
        small = fresh_database(pg, "geomap_bench_small")
        workloads.load_sample(make_engine(small))
        port = free_port()
        servers.append(Server.start([sys.executable, "-m", "geomap.cli", "serve", "--port", str(port)],
                                    {**env, "GEOMAP_DATABASE_URL": small}, ROOT))
        wait_http(f"http://127.0.0.1:{port}/health")
        results["map"]["10k"] = workloads.map_page(f"http://127.0.0.1:{port}")
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
