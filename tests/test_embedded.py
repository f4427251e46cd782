"""The embedded PostGIS: first start, reuse by a second process, clean stop, crash recovery."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from geomap.embedded import FALLBACK_ROOT, EmbeddedError, EmbeddedPostgres, _reachable, find_binaries
from geomap.settings import Settings
from tests.conftest import ROOT


@pytest.fixture
def home():
    # Under the work tree, not /tmp/pytest-*: those are mode 700 and the unprivileged
    # PostgreSQL user (when the suite runs as root) could not reach them.
    path = ROOT / ".geomap" / f"embedded-test-{os.getpid()}"
    yield path
    pg = EmbeddedPostgres(path, run_as=Settings().pg_user)
    if pg.running_port() is not None:
        pg.stop_now()
    shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(pg.server_dir, ignore_errors=True)


def _query(url: str, sql: str):
    conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]
    finally:
        conn.close()


SECOND_CLIENT = """
import sys, time
from pathlib import Path
from geomap.embedded import EmbeddedPostgres
pg = EmbeddedPostgres(Path(sys.argv[1]), run_as=sys.argv[2])
print(pg.acquire(), flush=True)
print(pg.release(), flush=True)
"""


def test_start_reuse_stop(home):
    pg = EmbeddedPostgres(home, run_as=Settings().pg_user)
    url = pg.acquire()
    assert (home / "pg" / "data" / "PG_VERSION").exists()
    assert _query(url, "SELECT extname FROM pg_extension WHERE extname = 'postgis'") == "postgis"
    port = pg.running_port()
    # A second process reuses the running server and, leaving, does not stop it under us.
    out = subprocess.run(
        [sys.executable, "-c", SECOND_CLIENT, str(home), Settings().pg_user],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.split()
    assert out[0] == url and out[1] == "False"
    assert pg.running_port() == port
    assert _query(url, "SELECT 1") == 1
    # The last client out stops it.
    assert pg.release() is True
    assert pg.running_port() is None
    with pytest.raises(psycopg2.OperationalError):
        _query(url, "SELECT 1")
    # And it starts again on the same data.
    url2 = pg.acquire()
    assert _query(url2, "SELECT postgis_lib_version()").startswith("3.")
    pg.release()


def test_recovers_after_unclean_stop(home):
    pg = EmbeddedPostgres(home, run_as=Settings().pg_user)
    url = pg.acquire()
    conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
    conn.close()
    pid = int((home / "pg" / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        if pg.running_port() is None:
            break
        time.sleep(0.1)
    url2 = EmbeddedPostgres(home, run_as=Settings().pg_user).acquire()
    assert _query(url2, "SELECT v FROM kept") == 42
    pg.release()


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


@pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged-user fallback only applies when geomap runs as root")
def test_root_home_unreachable_by_postgres_goes_to_fallback(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    assert not _reachable(locked / "home", Settings().pg_user)
    assert _reachable(ROOT / "data", Settings().pg_user) == _reachable(ROOT, Settings().pg_user)
    pg = EmbeddedPostgres(locked / "home", run_as=Settings().pg_user)
    assert pg.data.is_relative_to(FALLBACK_ROOT)
    assert pg.state_file.is_relative_to(locked)
