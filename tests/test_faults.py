"""Faults during batch uploads: kill -9 the app server, then kill -9 PostgreSQL.

A phone keeps sending batches of trees with its own ids and retries whatever was not
acknowledged. After each crash: every acknowledged tree is there, no batch is half applied, and
once the retries are done every tree exists exactly once. The app restarts its embedded PostGIS
by itself when PostgreSQL is killed under it, and uses an external server again once it is back.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import httpx
import psycopg2
import pytest

from geomap.database import make_engine
from geomap.embedded import EmbeddedPostgres
from geomap.io.load import load_file
from geomap.migrate import upgrade
from geomap.ogc.views import publish_views
from geomap.services.accounts import add_user, issue_credential
from geomap.settings import Settings
from tests.conftest import ROOT, SAMPLE, sample_features
from tests.world import free_spots

BATCH = 50


@pytest.fixture
def cluster():
    home = ROOT / ".geomap" / f"test-faults-{os.getpid()}"
    pg = EmbeddedPostgres(home, run_as=Settings().pg_user)
    url = pg.acquire()
    upgrade(url)
    publish_views(url)
    engine = make_engine(url)
    load_file(engine, SAMPLE / "farms.geojson")
    with engine.begin() as conn:
        add_user(conn, "phone", "admin")
        token = issue_credential(conn, "phone")
    engine.dispose()
    pg.release()  # the app server will own the embedded server from here
    yield home, token, pg
    pg.remove()
    shutil.rmtree(home, ignore_errors=True)


def _serve(home, port: int) -> subprocess.Popen:
    env = {**os.environ, "GEOMAP_HOME": str(home), "GEOMAP_PREWARM_TILES": "false", "GEOMAP_LOG_LEVEL": "warning",
           "GEOMAP_WRITE_RATE_PER_TOKEN": "100000", "GEOMAP_WRITE_RATE_PER_IP": "100000"}
    env.pop("GEOMAP_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "geomap.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(app: subprocess.Popen) -> None:
    """Stop the app cleanly (it releases the embedded server), or kill it if it hangs."""
    app.send_signal(signal.SIGINT)
    try:
        app.wait(timeout=30)
    except subprocess.TimeoutExpired:
        app.kill()
        app.wait()


def _wait(base: str) -> None:
    for _ in range(300):  # bounded: about a minute
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not come back")


def _postmaster_pid(pg: EmbeddedPostgres) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


def _batches(n: int) -> list[list[dict]]:
    farms = [f for f in sample_features("farms")][:8]
    out = []
    for b in range(n):
        farm = farms[b % len(farms)]
        spot = free_spots(farm)[0]
        feats = []
        for i in range(BATCH):
            fid = str(uuid.uuid4())
            feats.append({"type": "Feature", "id": fid,
                          "geometry": {"type": "Point", "coordinates": [spot.x + (i % 10) * 2e-6, spot.y + (i // 10) * 2e-6 + b * 1e-7]},
                          "properties": {"code": f"F-{fid[:12]}", "name": "Cây", "province": "Đắk Lắk",
                                         "commune": farm["properties"]["commune"], "variety": "ri6"}})
        out.append(feats)
    return out


def _present(pg: EmbeddedPostgres, ids: list[str]) -> int:
    conn = psycopg2.connect(pg.url().replace("+psycopg2", ""))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM durian_trees WHERE id = ANY(%s::uuid[])", (ids,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_kill_app_then_postgres_during_batch_uploads(cluster):
    home, token, pg = cluster
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    url = "/api/v1/layers/durian_trees/features/batch?confirm_nearby=true"
    batches = _batches(12)
    acked: set[int] = set()
    app = _serve(home, port)
    _wait(base)

    def send(k: int) -> bool:
        try:
            r = client.post(url, json={"type": "FeatureCollection", "features": batches[k]})
        except httpx.HTTPError:
            return False
        if r.status_code in (200, 201):
            acked.add(k)
            return True
        return False

    def check_all_or_nothing() -> None:
        for k, batch in enumerate(batches):
            n = _present(pg, [f["id"] for f in batch])
            assert n in (0, BATCH), f"batch {k} half applied: {n}/{BATCH}"
            if k in acked:
                assert n == BATCH, f"acknowledged batch {k} missing"

    try:
        for k in range(4):
            send(k)
        # 1. kill -9 the app server while a batch is in flight.
        t = threading.Thread(target=send, args=(4,))
        t.start()
        time.sleep(0.05)
        app.send_signal(signal.SIGKILL)
        app.wait()
        t.join()
        app = _serve(home, port)
        _wait(base)
        check_all_or_nothing()
        for k in range(5, 8):
            send(k)
        # 2. kill -9 PostgreSQL itself in the middle of uploads. The app, not restarted, notices,
        # restarts its embedded server (crash recovery) and answers again by itself.
        postmaster = _postmaster_pid(pg)
        app_pid = app.pid
        t = threading.Thread(target=lambda: [send(k) for k in range(8, 10)])
        t.start()
        time.sleep(0.05)
        os.kill(postmaster, signal.SIGKILL)
        t.join()
        _wait(base)
        assert app.poll() is None and app.pid == app_pid  # the same app process
        assert _postmaster_pid(pg) != postmaster and not pg.crashed()  # restarted, recovered
        check_all_or_nothing()
        # 3. The phone retries everything not acknowledged, with the same ids.
        for attempt in range(5):
            for k in range(len(batches)):
                if k not in acked:
                    send(k)
        assert acked == set(range(len(batches)))
        check_all_or_nothing()
        conn = psycopg2.connect(pg.url().replace("+psycopg2", ""))
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT code) FROM durian_trees WHERE code LIKE 'F-%'")
            total, distinct = cur.fetchone()
        conn.close()
        assert total == distinct == BATCH * len(batches)
    finally:
        client.close()
        _stop(app)


def test_app_uses_an_external_server_again_once_it_is_back(cluster, tmp_path):
    """To the app this server is external (a URL): it must not restart it, and must use it again, with
    no app restart, once its administrator has brought it back (pre-ping replaces the dead connections)."""
    from fastapi.testclient import TestClient

    from geomap.api.app import create_app

    home, token, pg = cluster
    url = pg.acquire()
    farms = "/api/v1/layers/farms/features?limit=1"
    settings = Settings(database_url=url, home=tmp_path / "app-home", prewarm_tiles=False)
    with TestClient(create_app(settings, migrate=False)) as client:
        first = client.get(farms)
        assert first.status_code == 200 and first.json()["numberReturned"] == 1
        port = pg.running_port()
        os.kill(_postmaster_pid(pg), signal.SIGKILL)
        for _ in range(100):
            if pg.crashed():
                break
            time.sleep(0.1)
        down = client.get(farms)
        assert down.status_code == 503 and down.headers["retry-after"]
        assert pg.crashed()  # nobody restarted it: the app does not own an external server
        assert pg.acquire() == url and pg.running_port() == port  # its administrator brings it back
        for _ in range(100):  # bounded; pre-ping makes the very next request work
            r = client.get(farms)
            if r.status_code == 200:
                break
            time.sleep(0.1)
        assert r.status_code == 200 and r.json()["features"][0]["id"] == first.json()["features"][0]["id"]
        assert client.get("/ogc/collections/farms/items?limit=1").status_code == 200
    pg.release()
