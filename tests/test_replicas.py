"""Read replicas with a real PostgreSQL streaming replica started on this machine.

A primary (its own embedded cluster) and a hot standby made from it with ``pg_basebackup -R``.
The decisive trick: pausing WAL replay on the standby freezes what it can show, so a read that
cannot see a fresh write was served by the replica, and a read that can was served by the primary.
"""

from __future__ import annotations

import stat
import uuid

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geomap.api.app import create_app
from geomap.database import make_engine
from geomap.embedded import EmbeddedPostgres, EmbeddedReplica
from geomap.migrate import upgrade
from geomap.ogc.views import publish_views
from geomap.replicas import FENCE_COOKIE, FENCE_HEADER, lsn_value, newest_fence
from geomap.services.accounts import add_team, add_user, issue_credential
from geomap.settings import Settings
from tests.conftest import ROOT, _plain, _recreate
from tests.world import NINH_BINH_AREA

HOME = ROOT / ".geomap" / "test-replication"
WIFI = "/api/v1/layers/wifi_points/features"


def _psql(url: str, sql: str):
    conn = psycopg2.connect(_plain(url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _replayed(replica_url: str, lsn: str) -> None:
    """Block until the replica has replayed WAL position ``lsn`` (PostgreSQL 15 has no WAIT FOR LSN,
    so the replica itself waits); a replica that never gets there fails the statement, not a clock."""
    assert lsn_value(lsn) is not None
    _psql(replica_url, "SET statement_timeout = '5min'; "
                       f"DO $$ BEGIN WHILE pg_last_wal_replay_lsn() < '{lsn}'::pg_lsn LOOP "
                       "PERFORM pg_sleep(0.01); END LOOP; END $$")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A primary with a migrated database and a streaming replica of it, both real servers."""
    pg_user = Settings().pg_user
    primary = EmbeddedPostgres(HOME / "primary", run_as=pg_user, dbname="postgres")
    server = primary.acquire()
    primary_url = _recreate(server, "geomap_repl")
    _psql(primary_url, "CREATE EXTENSION IF NOT EXISTS postgis")
    upgrade(primary_url)
    publish_views(primary_url)
    eng = make_engine(primary_url)
    with eng.begin() as conn:
        add_team(conn, "NB-DOANTN-01", "Tổ công nghệ số Ninh Bình", ["Ninh Bình"], [], ["wifi_points"],
                 area_geojson=NINH_BINH_AREA)
        add_user(conn, "vol_nb", "volunteer", team_code="NB-DOANTN-01")
        add_user(conn, "admin", "admin")
        tokens = {"volunteer": issue_credential(conn, "vol_nb"), "admin": issue_credential(conn, "admin")}
    eng.dispose()
    replica = EmbeddedReplica(HOME / "replica", primary, run_as=pg_user)
    replica.rebuild()  # always a fresh copy of this primary
    replica_url = replica.acquire().rsplit("/", 1)[0] + "/geomap_repl"
    settings = Settings(database_url=primary_url, read_database_urls=[replica_url], replica_poll_s=0.2,
                        home=tmp_path_factory.mktemp("home"), prewarm_tiles=False)
    yield {"primary": primary_url, "replica": replica_url, "tokens": tokens, "settings": settings,
           "replica_server": replica}
    replica.release()
    primary.release()


def _client(app) -> TestClient:
    return TestClient(app)


def _auth(cluster, who: str) -> dict:
    return {"Authorization": f"Bearer {cluster['tokens'][who]}"}


def _wifi(n: int) -> dict:
    return {
        "type": "Feature", "id": str(uuid.uuid4()),
        "geometry": {"type": "Point", "coordinates": [106.05 + 0.001 * n, 20.07]},
        "properties": {"code": f"NB-WIFI-R{n:02d}", "name": f"Wifi thử bản sao {n}", "status": "hoat_dong",
                       "province": "Ninh Bình", "commune": "xã Đồng Hướng", "gps_accuracy_m": 4.0,
                       "venue": "Nhà văn hóa xóm 4", "ssid": f"Wifi-R{n}", "provider": "viettel"},
    }


def test_lsn_parsing_and_ordering():
    assert lsn_value("0/0") == 0
    assert lsn_value("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert lsn_value("1/0") > lsn_value("0/FFFFFFFF")
    for bad in (None, "", "16", "x/1", "1/2/3", "123456789/0", " /1"):
        assert lsn_value(bad) is None, bad
    assert newest_fence("0/5", None, "garbage", "0/A") == 10
    assert newest_fence(None, "nope") is None


def test_replica_is_a_real_streaming_standby(cluster):
    assert _psql(cluster["replica"], "SELECT pg_is_in_recovery()") == [(True,)]
    states = _psql(cluster["primary"], "SELECT state FROM pg_stat_replication")
    assert ("streaming",) in states
    with _client(create_app(cluster["settings"])) as client:
        health = client.get("/health", headers=_auth(cluster, "admin")).json()
    [replica] = health["replicas"]
    assert replica["healthy"] is True and replica["lag_bytes"] >= 0
    assert replica["port"] != health["database"]["port"]


def test_the_replicas_password_is_in_a_private_file_not_its_settings(cluster):
    """pg_basebackup got the password through a 0600 password file (not its command line), and the
    standby's primary_conninfo names that file instead of carrying the password."""
    replica = cluster["replica_server"]
    conninfo = (replica.data / "postgresql.auto.conf").read_text()
    assert "primary_conninfo" in conninfo and "passfile=" in conninfo
    assert "password=" not in conninfo
    passfile = replica.server_dir / "primary.pgpass"
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600


def test_reads_go_to_the_replica_and_writers_read_their_own_writes(cluster):
    app = create_app(cluster["settings"])
    with _client(app) as writer, _client(app) as other:
        _psql(cluster["replica"], "SELECT pg_wal_replay_pause()")
        try:
            feature = _wifi(1)
            created = writer.post(WIFI, json=feature, headers=_auth(cluster, "volunteer"))
            assert created.status_code == 201, created.text
            fence = created.headers[FENCE_HEADER]
            assert lsn_value(fence) is not None and writer.cookies.get(FENCE_COOKIE).strip('"') == fence
            url = f"{WIFI}/{feature['id']}"

            # Another user (never wrote): served by the paused replica, which has not seen it yet.
            assert other.get(url, headers=_auth(cluster, "admin")).status_code == 404
            listed = other.get(WIFI, params={"q": "NB-WIFI-R01"}, headers=_auth(cluster, "admin")).json()
            assert listed["numberReturned"] == 0

            # The writer sees it at once: from its cookie, and without it (another worker, a client
            # that keeps no cookies) from the fence stored with its user on the primary.
            assert writer.get(url, headers=_auth(cluster, "volunteer")).status_code == 200
            writer.cookies.clear()
            seen = writer.get(url, headers=_auth(cluster, "volunteer"))
            assert seen.status_code == 200 and seen.json()["properties"]["code"] == "NB-WIFI-R01"
            # Anyone may ask for "at least this fresh" with the header.
            assert other.get(url, headers={**_auth(cluster, "admin"), FENCE_HEADER: fence}).status_code == 200

            # An edit, read back by its author with no cookie: the new version, not the replica's.
            patched = writer.patch(url, json={"properties": {"ssid": "Wifi-R1-moi"}},
                                   headers={**_auth(cluster, "volunteer"), "If-Match": seen.headers["etag"]})
            assert patched.status_code == 200, patched.text
            writer.cookies.clear()
            again = writer.get(url, headers=_auth(cluster, "volunteer")).json()
            assert again["properties"]["ssid"] == "Wifi-R1-moi" and again["properties"]["version"] == 2
        finally:
            _psql(cluster["replica"], "SELECT pg_wal_replay_resume()")

        # Once the replica has replayed the edit, everyone sees it there too...
        _replayed(cluster["replica"], patched.headers[FENCE_HEADER])
        body = other.get(url, headers=_auth(cluster, "admin")).json()
        assert body["properties"]["ssid"] == "Wifi-R1-moi"
        # ...and the writer is not pinned to the primary: with replay paused again, it cannot see
        # what someone else writes now, so its reads are the replica's once more.
        _psql(cluster["replica"], "SELECT pg_wal_replay_pause()")
        try:
            later = _wifi(4)
            assert other.post(WIFI, json=later, headers=_auth(cluster, "admin")).status_code == 201
            writer.cookies.clear()
            assert writer.get(f"{WIFI}/{later['id']}", headers=_auth(cluster, "volunteer")).status_code == 404
        finally:
            _psql(cluster["replica"], "SELECT pg_wal_replay_resume()")


def test_reads_fall_back_to_the_primary_when_the_replica_is_down(cluster):
    # A long poll interval: the replica's death is noticed by a failed read or by /health, not by timing.
    settings = cluster["settings"].model_copy(update={"replica_poll_s": 3600})
    replica: EmbeddedReplica = cluster["replica_server"]
    with _client(create_app(settings)) as client:
        feature = _wifi(2)
        assert client.post(WIFI, json=feature, headers=_auth(cluster, "volunteer")).status_code == 201
        url = f"{WIFI}/{feature['id']}"
        client.cookies.clear()  # the reads below are the admin's, who has written nothing: no fence
        replica.stop_now()
        try:
            # Routed to the replica before anyone noticed: a clear 503 to retry, not a 500.
            r = client.get(url, headers=_auth(cluster, "admin"))
            assert r.status_code == 503 and r.headers["retry-after"] == "2", r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            # /health checks the replicas: this one is down, the service is not.
            health = client.get("/health", headers=_auth(cluster, "admin")).json()
            assert health["status"] == "ok" and health["replicas"][0]["healthy"] is False
            assert "error" in health["replicas"][0]
            # From then on reads go to the primary.
            r = client.get(url, headers=_auth(cluster, "admin"))
            assert r.status_code == 200 and r.json()["properties"]["code"] == "NB-WIFI-R02"
            assert client.get("/tiles/wifi_points/14/13020/7200.mvt").status_code in (200, 204)
        finally:
            replica.acquire()  # back, on the same port, for whoever comes next (pg_ctl -w: accepting connections)
        assert client.get("/health", headers=_auth(cluster, "admin")).json()["replicas"][0]["healthy"] is True  # /health polls the replicas itself
        _psql(cluster["replica"], "SELECT pg_wal_replay_pause()")
        try:  # and reads are the replica's again: paused, it does not see a new write by someone else
            other = _wifi(3)
            assert client.post(WIFI, json=other, headers=_auth(cluster, "volunteer")).status_code == 201
            client.cookies.clear()
            assert client.get(f"{WIFI}/{other['id']}", headers=_auth(cluster, "admin")).status_code == 404
        finally:
            _psql(cluster["replica"], "SELECT pg_wal_replay_resume()")
