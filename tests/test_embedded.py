"""The embedded PostGIS: first start, reuse by a second process, clean stop, crash recovery,
removal; each in a home the server's user can reach, and (as root) in one it cannot, where the
server's files move under /var/lib/geomap/clusters and must leave nothing there once removed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from geomap.cluster_place import FALLBACK_ROOT, OWNER_FILE, relocated_homes
from geomap.database import Database
from geomap.embedded import EmbeddedError, EmbeddedPostgres, find_binaries
from geomap.pg_programs import reachable_by
from geomap.settings import Settings
from tests.conftest import ROOT

PG_USER = Settings().pg_user
AS_ROOT = os.geteuid() == 0
PLACES = ["in_place", pytest.param("relocated", marks=pytest.mark.skipif(
    not AS_ROOT, reason="the server's files move only when geomap runs as root and its user cannot reach the home"))]


def _make_home(place: str, tmp_path: Path) -> tuple[Path, Path]:
    """(home, folder to delete afterwards) for a home the server's user can reach, or cannot."""
    if place == "relocated":
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o700)
        return locked / "home", locked
    folder = Path(tempfile.mkdtemp(prefix="geomap-embedded-test-", dir="/tmp"))
    folder.chmod(0o755)  # reachable by the server's user, whoever runs the tests
    return folder / "home", folder


def _gone(pg: EmbeddedPostgres, home: Path) -> None:
    """Nothing of the cluster is left: not in the home, not under /var/lib/geomap/clusters."""
    assert not pg.root.exists() and not pg.server_dir.exists()
    assert home not in relocated_homes().values()


@pytest.fixture
def home(request, tmp_path):
    path, folder = _make_home(request.param, tmp_path)
    yield path
    pg = EmbeddedPostgres(path, run_as=PG_USER)
    pg.remove()  # after a failure too: no stray cluster under /var/lib/geomap/clusters
    shutil.rmtree(folder, ignore_errors=True)


def _query(url: str, sql: str):
    conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]
    finally:
        conn.close()


def _answers(url: str) -> bool:
    try:
        return _query(url, "SELECT 1") == 1
    except psycopg2.OperationalError:
        return False


def _postmaster_pid(pg: EmbeddedPostgres) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


SECOND_CLIENT = """
import sys, time
from pathlib import Path
from geomap.embedded import EmbeddedPostgres
pg = EmbeddedPostgres(Path(sys.argv[1]), run_as=sys.argv[2])
print(pg.acquire(), flush=True)
print(pg.release(), flush=True)
"""


@pytest.mark.parametrize("home", PLACES, indirect=True)
def test_start_reuse_stop_remove(home, request):
    pg = EmbeddedPostgres(home, run_as=PG_USER)
    url = pg.acquire()
    assert (pg.data / "PG_VERSION").exists()
    if "relocated" in request.node.name:
        assert pg.data.is_relative_to(FALLBACK_ROOT) and (pg.server_dir / OWNER_FILE).read_text().strip() == str(home)
        assert relocated_homes()[pg.server_dir] == home
    else:
        assert pg.data == home / "pg" / "data"
    assert pg.state_file.is_relative_to(home)
    assert _query(url, "SELECT extname FROM pg_extension WHERE extname = 'postgis'") == "postgis"
    port = pg.running_port()
    # A second process reuses the running server and, leaving, does not stop it under us.
    out = subprocess.run(
        [sys.executable, "-c", SECOND_CLIENT, str(home), PG_USER],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.split()
    assert out[0] == url and out[1] == "False"
    assert pg.running_port() == port
    assert _query(url, "SELECT 1") == 1
    # The last client out stops it.
    assert pg.release() is True
    assert pg.running_port() is None and not pg.crashed()
    with pytest.raises(psycopg2.OperationalError):
        _query(url, "SELECT 1")
    # And it starts again on the same data.
    url2 = pg.acquire()
    assert _query(url2, "SELECT postgis_lib_version()").startswith("3.")
    pg.release()
    # Removing it leaves nothing behind, wherever its files were.
    assert pg.remove() is True
    _gone(pg, home)


@pytest.mark.parametrize("home", PLACES, indirect=True)
def test_recovers_after_unclean_stop(home):
    pg = EmbeddedPostgres(home, run_as=PG_USER)
    url = pg.acquire()
    conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
    conn.close()
    os.kill(_postmaster_pid(pg), signal.SIGKILL)
    for _ in range(100):
        if pg.running_port() is None:
            break
        time.sleep(0.1)
    assert pg.crashed()
    url2 = EmbeddedPostgres(home, run_as=PG_USER).acquire()
    assert _query(url2, "SELECT v FROM kept") == 42
    pg.release()


@pytest.mark.parametrize("home", ["relocated" if AS_ROOT else "in_place"], indirect=True)
def test_remove_is_refused_while_in_use_then_leaves_nothing(home):
    pg = EmbeddedPostgres(home, run_as=PG_USER)
    pg.acquire()
    other = subprocess.Popen([sys.executable, "-c", SECOND_CLIENT.replace("print(pg.release(), flush=True)", "sys.stdin.read()"),
                              str(home), PG_USER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert other.stdout.readline().startswith("postgresql")  # registered and connected
        assert pg.remove() is False and (pg.data / "PG_VERSION").exists() and pg.running_port() is not None
    finally:
        other.communicate("")
    pg.release()
    # `geomap db remove` (what `make clean` runs): asks for --yes, then deletes it wherever it lives.
    env = {**os.environ, "GEOMAP_HOME": str(home), "GEOMAP_PG_USER": PG_USER}
    env.pop("GEOMAP_DATABASE_URL", None)
    cli = [sys.executable, "-m", "geomap.cli", "db", "remove"]
    unconfirmed = subprocess.run(cli, capture_output=True, text=True, env=env, cwd=ROOT)
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr and (pg.data / "PG_VERSION").exists()
    subprocess.run([*cli, "--yes"], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    _gone(pg, home)


@pytest.mark.parametrize("home", ["relocated" if AS_ROOT else "in_place"], indirect=True)
def test_database_restarts_its_server_after_it_was_killed(home):
    """kill -9 of the postmaster under an open Database: it comes back by itself, data intact."""
    db = Database(Settings(home=home, database_url=None))
    url = db.open()
    pg = db.embedded
    try:
        conn = psycopg2.connect(url.replace("+psycopg2", ""))
        conn.autocommit = True
        conn.cursor().execute("CREATE TABLE kept (v int)")
        conn.close()
        killed = _postmaster_pid(pg)
        os.kill(killed, signal.SIGKILL)
        for _ in range(600):  # bounded: the watch restarts it within seconds
            if _answers(url):
                break
            time.sleep(0.1)
        assert _answers(url), "the embedded server did not come back by itself"
        assert _postmaster_pid(pg) != killed and not pg.crashed()
        assert _query(url, "SELECT count(*) FROM kept") == 0  # the same cluster, recovered
    finally:
        db.close()
    assert pg.running_port() is None  # the last client out still stops it


def test_stopped_server_is_not_restarted():
    """A clean stop is not a crash: the watch must not fight `geomap db stop`."""
    folder = Path(tempfile.mkdtemp(prefix="geomap-embedded-test-", dir="/tmp"))
    folder.chmod(0o755)
    pg = EmbeddedPostgres(folder / "home", run_as=PG_USER)
    try:
        pg.acquire()
        pg.stop_now()
        assert pg.running_port() is None and not pg.crashed() and pg.recover() is False
        assert pg.running_port() is None
    finally:
        pg.remove()
        shutil.rmtree(folder, ignore_errors=True)


def test_missing_binaries_name_the_package(tmp_path):
    with pytest.raises(EmbeddedError, match="apt-get install postgresql-15"):
        find_binaries(lib_root=tmp_path / "lib", share_root=tmp_path / "share")
    bindir = tmp_path / "lib" / "16" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "initdb").touch()
    (bindir / "pg_ctl").touch()
    with pytest.raises(EmbeddedError, match="postgresql-16-postgis-3"):
        find_binaries(lib_root=tmp_path / "lib", share_root=tmp_path / "share")
    (tmp_path / "share" / "16" / "extension").mkdir(parents=True)
    (tmp_path / "share" / "16" / "extension" / "postgis.control").touch()
    assert find_binaries(lib_root=tmp_path / "lib", share_root=tmp_path / "share").major == 16


@pytest.mark.skipif(not AS_ROOT, reason="the unprivileged-user fallback only applies when geomap runs as root")
def test_root_home_unreachable_by_postgres_goes_to_fallback(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    assert not reachable_by(locked / "home", PG_USER)
    assert reachable_by(ROOT / "data", PG_USER) == reachable_by(ROOT, PG_USER)
    pg = EmbeddedPostgres(locked / "home", run_as=PG_USER)
    assert pg.data.is_relative_to(FALLBACK_ROOT)
    assert pg.state_file.is_relative_to(locked)
    assert not pg.server_dir.exists()  # nothing is created before the cluster is first used
