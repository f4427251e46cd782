"""Citizen reports under load: 100 concurrent reporters on loopback, then the database is checked.

    .venv/bin/python bench/reports_load.py [--seconds 60] [--reporters 100]

Starts geomap (2 workers, the default report limits: 20 per address and 10 per device per hour)
on the embedded PostGIS with the sample data, behind a "trusted proxy" (127.0.0.1) so each
simulated citizen can have its own address in X-Forwarded-For. The reporters are:

* 80 % reporting new problems as fast as they can, each report from a new citizen (address and
  device) at its own point, and re-sending 10 % of them with the same client id (a retry);
* 10 % saying "me too" on three wifi points (each from a new citizen);
* 10 % flooding from one address and one device each (they must get 429 after the limit).

Counts 201 / 200 / 429 / other, then checks the database: every 201 is one stored report, no
client id stored twice, every retry answered the report of its first 201, interest counts equal
the "me too" answers, and no flooding address got more than its limit. Prints a JSON summary and
exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import workloads  # noqa: E402
from bench.run import fresh_database  # noqa: E402
from bench.servers import Server, free_port, wait_http  # noqa: E402
from geomap.database import make_engine  # noqa: E402
from geomap.embedded import EmbeddedPostgres  # noqa: E402
from geomap.services.accounts import add_team  # noqa: E402

ME_TOO_ASSETS = ("NB-WIFI-004", "NB-WIFI-005", "NB-WIFI-006")
PER_ADDRESS = 20


class Tally:
    """What the reporters saw, shared between threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status = collections.Counter()
        self.created: dict[str, str] = {}  # client id → report id of its 201
        self.retried: list[tuple[str, str]] = []  # (client id, report id answered to the retry)
        self.me_too = collections.Counter()  # asset code → 200 me_too answers
        self.flood_created = collections.Counter()  # address → 201s
        self.latencies: list[float] = []

    def add(self, status: int, seconds: float) -> None:
        with self.lock:
            self.status[status] += 1
            self.latencies.append(seconds)


def _post(client: httpx.Client, tally: Tally, body: dict, addr: str, device: str) -> httpx.Response:
    started = time.perf_counter()
    r = client.post("/api/v1/reports", json=body, headers={"X-Forwarded-For": addr, "X-Device-Id": device})
    tally.add(r.status_code, time.perf_counter() - started)
    return r


def _citizen(n: int) -> tuple[str, str]:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}", f"bench-device-{n:08d}"


def reporter(base: str, kind: str, index: int, stop: float, tally: Tally, counter) -> None:
    """One reporter thread of ``kind`` (new, me_too, flood) until the ``stop`` time."""
    rng = random.Random(index)
    flood_addr, flood_device = f"172.16.0.{index % 250}", f"bench-flood-{index:04d}"
    with httpx.Client(base_url=base, timeout=60) as client:
        while time.monotonic() < stop:
            if kind == "flood":
                body = {"category": "wifi_points.khac", "lon": 106.0 + rng.random() * 0.5, "lat": 20.0 + rng.random() * 0.5,
                        "description": "tràn", "client_id": str(uuid.uuid4())}
                if _post(client, tally, body, flood_addr, flood_device).status_code == 201:
                    with tally.lock:
                        tally.flood_created[flood_addr] += 1
                continue
            addr, device = _citizen(next(counter))
            if kind == "me_too":
                asset = ME_TOO_ASSETS[rng.randrange(len(ME_TOO_ASSETS))]
                body = {"category": "wifi_points.mat_ket_noi", "asset_code": asset, "description": "Mất wifi"}
                r = _post(client, tally, body, addr, device)
                if r.status_code == 200 and r.json()["outcome"] == "me_too":
                    with tally.lock:
                        tally.me_too[asset] += 1
                continue
            _new_report(client, tally, rng, addr, device)


def _new_report(client: httpx.Client, tally: Tally, rng: random.Random, addr: str, device: str) -> None:
    # a point of its own: a fine grid over northern Vietnam, far beyond any duplicate radius
    lon, lat = 104.0 + rng.randrange(4000) * 0.001, 21.0 + rng.randrange(2000) * 0.001
    body = {"category": "heritage_sites.xuong_cap", "lon": round(lon, 6), "lat": round(lat, 6),
            "description": "Xuống cấp", "client_id": str(uuid.uuid4()), "reporter_phone": "0912345678"}
    r = _post(client, tally, body, addr, device)
    if r.status_code == 201:
        with tally.lock:
            tally.created[body["client_id"]] = r.json()["report"]["id"]
        if rng.random() < 0.1:
            again = _post(client, tally, body, addr, device)
            if again.status_code == 200:
                with tally.lock:
                    tally.retried.append((body["client_id"], again.json()["report"]["id"]))


def check(engine, tally: Tally) -> dict:
    """Compare what the reporters were told with what the database holds."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id::text, client_id, asset_code, interest_count FROM reports")).all()
    by_client = collections.Counter(r.client_id for r in rows if r.client_id)
    stored = {r.client_id: r.id for r in rows if r.client_id}
    lost = [c for c, rid in tally.created.items() if stored.get(c) != rid]
    wrong_retry = [c for c, rid in tally.retried if tally.created.get(c) != rid]
    interest = {r.asset_code: r.interest_count - 1 for r in rows if r.asset_code in ME_TOO_ASSETS}
    return {
        "reports_stored": len(rows),
        "lost": len(lost),
        "duplicated_client_ids": sum(1 for n in by_client.values() if n > 1),
        "retries_answered_wrongly": len(wrong_retry),
        "me_too_answers": dict(tally.me_too), "me_too_counted": interest,
        "me_too_lost": sum(tally.me_too.values()) - sum(interest.values()),
        "flood_max_created_per_address": max(tally.flood_created.values(), default=0),
    }


def run(base: str, reporters: int, seconds: float) -> Tally:
    """Run the reporters against ``base`` for ``seconds``."""
    tally, counter = Tally(), iter(range(1, 10**8))
    kinds = ["me_too" if i % 10 == 8 else "flood" if i % 10 == 9 else "new" for i in range(reporters)]
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=reporter, args=(base, k, i, stop, tally, counter)) for i, k in enumerate(kinds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--reporters", type=int, default=100)
    args = parser.parse_args()
    pg = EmbeddedPostgres(ROOT / ".geomap" / "bench", dbname="postgres")
    pg.acquire()
    server = None
    try:
        url = fresh_database(pg, "geomap_reports_load")
        engine = make_engine(url)
        workloads.load_sample(engine)
        with engine.begin() as conn:
            add_team(conn, "NB-DOANTN-01", "Tổ Ninh Bình", ["Ninh Bình"], [], ["wifi_points", "heritage_sites"],
                     area_geojson={"type": "Polygon", "coordinates": [[[103.5, 19.5], [108.5, 19.5], [108.5, 23.4],
                                                                      [103.5, 23.4], [103.5, 19.5]]]})
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = Server.start([sys.executable, "-m", "geomap.cli", "serve", "--workers", "2", "--port", str(port)],
                              {"GEOMAP_DATABASE_URL": url, "GEOMAP_LOG_LEVEL": "warning", "GEOMAP_TRUSTED_PROXIES": "127.0.0.1",
                               "GEOMAP_PREWARM_TILES": "false", "GEOMAP_HOME": str(ROOT / ".geomap" / "reports-load-home")}, ROOT)
        wait_http(base + "/health")
        tally = run(base, args.reporters, args.seconds)
        lat = sorted(tally.latencies)
        summary = {"seconds": args.seconds, "reporters": args.reporters, "requests": len(lat),
                   "requests_per_s": round(len(lat) / args.seconds, 1),
                   "status": {str(k): v for k, v in sorted(tally.status.items())},
                   "latency_ms": {"p50": round(lat[len(lat) // 2] * 1000, 1), "p95": round(lat[int(len(lat) * 0.95)] * 1000, 1),
                                  "max": round(lat[-1] * 1000, 1)} if lat else {},
                   "database": check(engine, tally)}
        db = summary["database"]
        other = sum(v for k, v in tally.status.items() if k not in (200, 201, 429))
        summary["ok"] = (other == 0 and db["lost"] == 0 and db["duplicated_client_ids"] == 0
                         and db["retries_answered_wrongly"] == 0 and db["me_too_lost"] == 0
                         and db["flood_max_created_per_address"] <= PER_ADDRESS)
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        engine.dispose()
        sys.exit(0 if summary["ok"] else 1)
    finally:
        if server:
            server.stop()
        pg.release()


if __name__ == "__main__":
    main()
