"""Several minutes of mixed load on loopback: volunteers writing while the public reads.

    .venv/bin/python scripts/loadtest.py [--minutes 3]

Starts geomap (2 workers, default rate limits) on the embedded PostGIS with the sample data,
runs wrk readers (tiles, lists, the map page) and 16 volunteer threads (create + patch, 10%
retried) for the given time, then checks: no errors beyond deliberate 429s, no duplicates, no
lost updates, every acknowledged write present. Prints a JSON summary. Bounded in time; talks to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import workloads  # noqa: E402
from bench.run import fresh_database  # noqa: E402
from bench.servers import Server, free_port, wait_http, wrk  # noqa: E402
from geomap.database import make_engine  # noqa: E402
from geomap.embedded import EmbeddedPostgres  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    seconds = args.minutes * 60
    pg = EmbeddedPostgres(ROOT / ".geomap" / "bench", dbname="postgres")
    pg.acquire()
    server = None
    try:
        url = fresh_database(pg, "geomap_load")
        engine = make_engine(url)
        workloads.load_sample(engine)
        token = workloads.volunteer_token(engine)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = Server.start([sys.executable, "-m", "geomap.cli", "serve", "--workers", "2", "--port", str(port)],
                              {"GEOMAP_DATABASE_URL": url, "GEOMAP_LOG_LEVEL": "warning",
                               "GEOMAP_HOME": str(ROOT / ".geomap" / "load-home")}, ROOT)
        wait_http(base + "/health")
        reads: dict = {}
        urls = {
            "tiles_z14": f"{base}/tiles/durian_trees/14/13120/7608.mvt",
            "list": f"{base}/api/v1/layers/durian_trees/features?bbox=108.29,12.70,108.32,12.73&limit=100",
            "map_page": f"{base}/",
        }
        threads = [threading.Thread(target=lambda k=k, u=u: reads.__setitem__(k, wrk(u, 2, seconds))) for k, u in urls.items()]
        for t in threads:
            t.start()
        writes = workloads.field_writes(engine, base, token, clients=16, seconds=seconds)
        for t in threads:
            t.join()
        summary = {"minutes": args.minutes, "reads": reads, "writes": writes,
                   "ok": all(r["errors"] == 0 for r in reads.values()) and writes["errors"] == 0
                   and writes["duplicates"] == 0 and writes["lost_updates"] == 0 and writes["acknowledged_missing"] == 0}
        print(json.dumps(summary, indent=2))
        engine.dispose()
        sys.exit(0 if summary["ok"] else 1)
    finally:
        if server:
            server.stop()
        pg.release()


if __name__ == "__main__":
    main()
