"""Test fixtures: a real PostGIS that the suite starts itself, isolated per test.

The suite runs geomap's embedded PostGIS under ``.geomap/test`` (or the server named by
``GEOMAP_TEST_DATABASE_URL``), creates a fresh database for the session, applies the migrations,
and empties every table after each test. If the database cannot be started the suite fails;
nothing is skipped.

Every cluster the suite makes lives in a home named ``.geomap/test*`` (or a temporary folder) and
is removed when the suite ends, together with its files under /var/lib/geomap/clusters when the
clone sits where the server's user cannot reach (a clone under /root, run as root). The app's own
cluster (``.geomap/pg``, ``make run``) is never touched.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from geomap.database import make_engine
from geomap.embedded import EmbeddedPostgres
from geomap.layers.registry import LAYERS
from geomap.migrate import upgrade
from geomap.ogc.views import publish_views
from geomap.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "geojson"
TEST_HOME = ROOT / ".geomap" / "test"


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _recreate(server_url: str, dbname: str) -> str:
    admin = make_url(server_url).set(database="postgres")
    conn = psycopg2.connect(_plain(admin.render_as_string(hide_password=False)))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    conn.close()
    return make_url(server_url).set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the PostgreSQL server the suite uses (started here when embedded)."""
    external = os.environ.get("GEOMAP_TEST_DATABASE_URL")
    if external:
        yield external
        return
    pg = EmbeddedPostgres(TEST_HOME, run_as=Settings().pg_user, dbname="postgres")
    url = pg.acquire()
    yield url
    pg.release()
    pg.remove()  # refused while another test session of this clone still uses it


def suite_cluster_homes() -> list[Path]:
    """Homes of the clusters test sessions of this clone made (``.geomap/test*``, one or two levels down)."""
    base = ROOT / ".geomap"
    locks = [*base.glob("test*/pg/lock"), *base.glob("test*/*/pg/lock")]
    return sorted(lock.parent.parent for lock in locks)


@pytest.fixture(scope="session", autouse=True)
def _no_cluster_left_behind():
    """When the suite ends, remove every test cluster that no live process uses any more."""
    yield
    for home in suite_cluster_homes():
        EmbeddedPostgres(home, run_as=Settings().pg_user).remove()
    base = ROOT / ".geomap"
    for folder in [*base.glob("test*/*"), *base.glob("test*")]:  # the test homes left empty, deepest first
        try:
            folder.rmdir()
        except OSError:  # not empty (or not a folder): something else lives there
            pass


@pytest.fixture(scope="session")
def db_url(server_url: str) -> str:
    """A fresh, migrated database for this test session."""
    url = _recreate(server_url, f"geomap_test_{os.getpid()}")
    conn = psycopg2.connect(_plain(url))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.close()
    upgrade(url)
    publish_views(url)
    return url


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    """A database holding the migrated schema and the sample data, copied for each test that needs it."""
    from geomap.io.load import load_paths

    url = _recreate(server_url, f"geomap_tpl_{os.getpid()}")
    upgrade(url)
    publish_views(url)
    eng = make_engine(url)
    load_paths(eng, sorted(SAMPLE.glob("*.geojson")), actor="test")
    eng.dispose()
    yield url
    conn = psycopg2.connect(_plain(server_url))
    conn.autocommit = True
    conn.cursor().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(make_url(url).database)))
    conn.close()


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    """Engine on the session database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


from geomap.tables import build_metadata  # noqa: E402

TABLES = ", ".join(f'"{name}"' for name in build_metadata().tables)


@pytest.fixture(autouse=True)
def _isolated(request):
    """Empty every table after each test that used the database."""
    yield
    if "db_url" in request.fixturenames:
        eng = request.getfixturevalue("engine")
        with eng.begin() as conn:
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
def loaded(engine: Engine, db_url: str, template_url: str, server_url: str) -> Engine:
    """The session database, replaced by a fresh copy of the template with the sample data loaded."""
    engine.dispose()
    admin = psycopg2.connect(_plain(make_url(server_url).set(database="postgres").render_as_string(hide_password=False)))
    admin.autocommit = True
    with admin.cursor() as cur:
        name, template = make_url(db_url).database, make_url(template_url).database
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    admin.close()
    return engine


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database."""
    return Settings(database_url=db_url, home=tmp_path / "home", prewarm_tiles=False)


def feature_collection(features: list[dict]) -> dict:
    """Wrap features into a FeatureCollection."""
    return {"type": "FeatureCollection", "features": features}


def write_geojson(path: Path, features: list[dict]) -> Path:
    """Write a FeatureCollection file and return its path."""
    path.write_text(json.dumps(feature_collection(features), ensure_ascii=False), encoding="utf-8")
    return path


def sample_features(layer: str) -> list[dict]:
    """The committed sample features of ``layer``."""
    return json.loads((SAMPLE / f"{layer}.geojson").read_text(encoding="utf-8"))["features"]


def new_id() -> str:
    """A fresh UUID string."""
    return str(uuid.uuid4())


from tests.world import live, world  # noqa: E402,F401  (the API/page fixture, shared by tests/api and tests/web)
