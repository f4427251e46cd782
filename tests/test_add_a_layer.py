"""A layer is data: the README's "Add a layer", followed exactly, on a copy of the package.

Each test copies ``geomap/`` into a temporary directory, changes the copy the way the README
says (a layer module plus one registry line, or one more enum value), and drives the copy through
its own command line and HTTP on a fresh database of the real PostGIS. No other code changes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg2
import mapbox_vector_tile
import pytest

from geomap.services.tiles import tile_of
from tests.conftest import ROOT, _plain, _recreate

WATER_TAPS = '''"""Vòi nước công cộng — public water taps (a throwaway layer for the test)."""

from geomap.layers.base import Attr, Choice, Layer, Style

KINDS = (
    Choice("cong_cong", "Vòi công cộng", "Public tap"),
    Choice("truong_hoc", "Vòi ở trường học", "School tap"),
)

LAYER = Layer(
    name="water_taps",
    geometry="Point",
    vi="Vòi nước công cộng",
    en="Public water taps",
    description_vi="Vòi nước sạch công cộng ở thôn/xóm.",
    description_en="Public clean-water taps in villages.",
    attributes=(
        Attr("kind", "enum", "Loại vòi", "Kind", required=True, choices=KINDS, filterable=True),
        Attr("flow_l_min", "float", "Lưu lượng (lít/phút)", "Flow (l/min)", ge=0, le=1000),
    ),
    style=Style(color="#0288d1", icon="tint"),
)
'''


class Project:
    """A copy of the geomap package on its own fresh database, driven like a user would."""

    def __init__(self, root: Path, db_url: str) -> None:
        self.root = root
        self.env = {**os.environ, "PYTHONPATH": str(root), "GEOMAP_DATABASE_URL": db_url,
                    "GEOMAP_HOME": str(root / "home"), "GEOMAP_PREWARM_TILES": "false"}

    def geomap(self, *args: str) -> str:
        """Run ``geomap ARGS`` from the copy; fail the test with its output when it fails."""
        done = subprocess.run([sys.executable, "-c", "from geomap.cli import main; main()", *args],
                              cwd=self.root, env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"geomap {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace ``old`` by ``new`` once in a file of the copy."""
        path = self.root / relative
        source = path.read_text(encoding="utf-8")
        assert old in source, f"{old!r} not in {relative}"
        path.write_text(source.replace(old, new, 1), encoding="utf-8")

    def new_migrations(self) -> list[str]:
        """Text of migration files that the original package does not have."""
        known = {p.name for p in (ROOT / "geomap/migrations/versions").glob("*.py")}
        return [p.read_text(encoding="utf-8") for p in (self.root / "geomap/migrations/versions").glob("*.py")
                if p.name not in known]


@pytest.fixture
def project(tmp_path: Path, server_url: str):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "geomap", copy / "geomap", ignore=shutil.ignore_patterns("__pycache__"))
    url = _recreate(server_url, "geomap_add_layer_test")
    proj = Project(copy, url)
    found = subprocess.run([sys.executable, "-c", "import geomap; print(geomap.__file__)"], cwd=copy, env=proj.env,
                           capture_output=True, text=True, check=True).stdout
    assert found.startswith(str(copy)), f"the copy is not the package imported: {found}"
    yield proj


def _serve(project: Project):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from geomap.cli import main; main()", "serve", "--port", str(port)],
                            cwd=project.root, env=project.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # bounded by attempts: until /health answers or the server exits
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail(f"the copy's server did not start:\n{proc.stdout.read().decode(errors='replace')[-3000:]}")


def test_readme_add_a_layer_works_as_written(project: Project):
    # Step 1: the layer module. Step 2: one registry line.
    (project.root / "geomap/layers/water_taps.py").write_text(WATER_TAPS, encoding="utf-8")
    project.edit("geomap/layers/registry.py", "    heritage_sites,\n", "    heritage_sites,\n    water_taps,\n")
    project.edit("geomap/layers/registry.py", "    heritage_sites.LAYER,\n", "    heritage_sites.LAYER,\n    water_taps.LAYER,\n")
    # Step 3: the migration, generated, then applied.
    project.geomap("db", "revision", "-m", "add water_taps layer")
    [migration] = project.new_migrations()
    assert "create_geospatial_table('water_taps'" in migration
    assert "cong_cong" in migration and "truong_hoc" in migration  # the enum's CHECK
    assert "drop_constraint" not in migration  # nothing else changed, so nothing else is touched
    assert "CREATE TRIGGER geomap_claim_code AFTER" in migration  # its codes share the one namespace
    project.geomap("db", "upgrade")
    project.geomap("users", "add", "thuy", "--role", "admin")
    token = project.geomap("users", "token", "thuy").strip().splitlines()[-1]

    proc, base = _serve(project)
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            _use_the_new_layer(c)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _use_the_new_layer(c: httpx.Client) -> None:
    lon, lat = 106.0512, 20.0634  # xóm 4, xã Đồng Hướng (Ninh Bình)
    tap = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
           "properties": {"code": "NB-VOI-0001", "name": "Vòi nước nhà văn hóa xóm 4", "kind": "Vòi công cộng",
                          "flow_l_min": 12.5, "province": "Ninh Bình", "commune": "xã Đồng Hướng", "gps_accuracy_m": 4}}
    r = c.post("/api/v1/layers/water_taps/features", json=tap)
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["kind"] == "cong_cong"  # the Vietnamese label was understood

    again = dict(tap, geometry={"type": "Point", "coordinates": [lon + 0.001, lat]},
                 properties={**tap["properties"], "code": "nb-voi-0001"})
    assert c.post("/api/v1/layers/water_taps/features", json=again).status_code == 409  # one code, one asset

    listed = c.get("/api/v1/layers/water_taps/features", params={"kind": "cong_cong"}).json()["features"]
    assert [f["properties"]["code"] for f in listed] == ["NB-VOI-0001"]
    assert c.get("/api/v1/layers/water_taps/features", params={"kind": "truong_hoc"}).json()["features"] == []

    z = 16
    x, y = tile_of(lon, lat, z)
    tile = c.get(f"/tiles/water_taps/{z}/{x}/{y}.mvt")
    assert tile.status_code == 200
    decoded = mapbox_vector_tile.decode(tile.content)
    assert [f["properties"]["code"] for f in decoded["water_taps"]["features"]] == ["NB-VOI-0001"]

    ogc = c.get("/ogc/collections/water_taps/items", params={"f": "geojson"})
    assert ogc.status_code == 200, ogc.text
    assert [f["properties"]["code"] for f in ogc.json()["features"]] == ["NB-VOI-0001"]

    download = c.get("/api/v1/layers/water_taps/download", params={"format": "geojson"})
    assert download.status_code == 200
    assert [f["properties"]["code"] for f in json.loads(download.content)["features"]] == ["NB-VOI-0001"]

    page = c.get("/a/NB-VOI-0001", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Vòi nước nhà văn hóa xóm 4" in page.text and "Vòi công cộng" in page.text

    home = c.get("/", headers={"Accept": "text/html"}).text
    assert "Vòi nước công cộng" in home and "water_taps" in home  # the layer's toggle on the map page


def test_a_new_enum_value_yields_a_real_migration(project: Project):
    project.geomap("db", "upgrade")
    project.edit("geomap/layers/durian_trees.py", '    Choice("khac", "Khác", "Other"',
                 '    Choice("black_thorn", "Gai Đen", "Black Thorn"),\n    Choice("khac", "Khác", "Other"')
    project.geomap("db", "revision", "-m", "add the black thorn variety")
    [migration] = project.new_migrations()
    assert "drop_constraint(op.f('ck_durian_trees_variety_enum')" in migration.split("def downgrade")[0]
    assert "create_check_constraint" in migration and "black_thorn" in migration
    assert migration.split("def downgrade")[0].count("drop_constraint") == 1  # only the changed check
    project.geomap("db", "upgrade")
    with psycopg2.connect(_plain(project.env["GEOMAP_DATABASE_URL"])) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_durian_trees_variety_enum'")
        assert "'black_thorn'" in cur.fetchone()[0]  # the database now accepts the new variety
    # Compared again right away, registry and database agree: the next migration is empty.
    project.geomap("db", "revision", "-m", "nothing changed")
    [empty] = [m for m in project.new_migrations() if "nothing changed" in m]
    assert "op." not in empty.split("def upgrade")[1]
