"""Administrators' bulk upload: a VN-2000 Shapefile (parts or zipped) lands in WGS 84; others are refused."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyproj
from sqlalchemy import text

from geomap import crs
from geomap.io.export import export_layer
from geomap.layers.registry import get_layer
from tests.world import World

GEOD = pyproj.Geod(ellps="WGS84")


def _positions(world: World) -> dict[str, tuple[float, float]]:
    with world.engine.connect() as conn:
        return {c: (x, y) for c, x, y in conn.execute(text("SELECT code, ST_X(geom), ST_Y(geom) FROM wifi_points"))}


def test_admin_uploads_a_provincial_shapefile(world: World, tmp_path):
    truth = _positions(world)
    out = tmp_path / "wifi_points.zip"
    export_layer(world.engine, get_layer("wifi_points"), "shp", out, include_private=True, target=crs.resolve("EPSG:9218"))
    with world.engine.begin() as conn:
        conn.execute(text("TRUNCATE wifi_points, asset_history CASCADE"))
    parts = zipfile.ZipFile(out)
    files = [("files", (name, parts.read(name), "application/octet-stream")) for name in parts.namelist()]
    r = world.client.post("/api/v1/admin/uploads", files=files, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["inserted"] == len(truth) > 5
    got = _positions(world)
    codes = sorted(truth)
    _, _, dist = GEOD.inv(*np.array([truth[c] for c in codes]).T, *np.array([got[c] for c in codes]).T)
    assert np.max(dist) < 0.03
    # the zip itself loads too, onto the same assets
    r = world.client.post("/api/v1/admin/uploads", files=[("files", ("wifi_points.zip", out.read_bytes()))],
                          headers=world.auth("admin"))
    assert r.status_code == 200 and r.json()["results"][0]["inserted"] == 0


def test_uploads_are_refused_to_others_and_without_a_crs(world: World, tmp_path):
    out = tmp_path / "wifi_points.zip"
    export_layer(world.engine, get_layer("wifi_points"), "shp", out, target=crs.resolve("EPSG:9218"))
    parts = zipfile.ZipFile(out)
    files = [("files", (n, parts.read(n))) for n in parts.namelist() if not n.endswith(".prj")]
    r = world.client.post("/api/v1/admin/uploads", files=files, headers=world.auth("volunteer"))
    assert r.status_code == 403
    before = _positions(world)
    r = world.client.post("/api/v1/admin/uploads", files=files, headers=world.auth("admin"))
    assert r.status_code in (400, 422) and r.headers["content-type"] == "application/problem+json"
    assert "no coordinate reference system" in r.json()["detail"] and "/tmp" not in r.text
    assert _positions(world) == before
    r = world.client.post("/api/v1/admin/uploads", files=[("files", ("../../evil.sh", b"x"))], headers=world.auth("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "files"
