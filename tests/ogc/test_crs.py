"""``crs`` / ``bbox-crs`` on /ogc items, /api/v1 features and downloads; ``Content-Crs``; collection metadata."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyogrio
import pyproj
import pytest

from geomap import crs
from tests.world import World

TM3 = f"{crs.OGC_EPSG}9218"
VN2000 = f"{crs.OGC_EPSG}4756"


def _wifi(world: World) -> dict[str, tuple[float, float]]:
    r = world.client.get("/ogc/collections/wifi_points/items", params={"f": "geojson", "limit": 100})
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{crs.CRS84_URI}>"
    return {f["properties"]["code"]: tuple(f["geometry"]["coordinates"]) for f in r.json()["features"]}


def test_ogc_items_in_a_provincial_crs(world: World):
    truth = _wifi(world)
    r = world.client.get("/ogc/collections/wifi_points/items", params={"f": "geojson", "limit": 100, "crs": TM3})
    assert r.status_code == 200, r.text
    assert r.headers["content-crs"] == f"<{TM3}>"
    assert r.headers["content-encoding"] == "gzip" and "etag" not in r.headers  # rewritten, still gzipped
    got = {f["properties"]["code"]: f["geometry"]["coordinates"] for f in r.json()["features"]}
    codes = sorted(truth)
    east, north = crs.transformer(4326, 9218).transform(*np.array([truth[c] for c in codes]).T)
    assert np.allclose(np.array([got[c] for c in codes]), np.column_stack([east, north]), atol=0.01)
    assert 100_000 < min(east) and min(north) > 1_000_000  # metres, not degrees


def test_ogc_lat_lon_order_and_bbox_crs(world: World):
    truth = _wifi(world)
    r = world.client.get("/ogc/collections/wifi_points/items", params={"f": "geojson", "limit": 100, "crs": VN2000})
    got = {f["properties"]["code"]: f["geometry"]["coordinates"] for f in r.json()["features"]}
    code = sorted(truth)[0]
    lon, lat = crs.transformer(4326, 4756).transform(*truth[code])
    assert got[code] == pytest.approx([lat, lon], abs=1e-9)  # latitude first in the URI form
    # A bbox in VN-2000 / TM-3 around that one point finds it (and not the others far away).
    e, n = crs.transformer(4326, 9218).transform(*truth[code])
    r = world.client.get("/ogc/collections/wifi_points/items", params={
        "f": "geojson", "bbox": f"{e - 50},{n - 50},{e + 50},{n + 50}", "bbox-crs": TM3})
    assert r.status_code == 200, r.text
    assert [f["properties"]["code"] for f in r.json()["features"]] == [code]


def test_unsupported_crs_is_a_problem_naming_it(world: World):
    for name, value in (("crs", "http://www.opengis.net/def/crs/EPSG/0/32648"), ("bbox-crs", "EPSG:99999")):
        r = world.client.get("/ogc/collections/wifi_points/items", params={name: value, "bbox": "0,0,1,1"})
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == name and "EPSG:9218" in r.json()["errors"][0]["reason"]
    r = world.client.get("/api/v1/layers/wifi_points/download", params={"crs": "EPSG:32648"})
    assert r.status_code == 400 and "crs" in r.text


def test_collections_list_their_crs(world: World):
    body = world.client.get("/ogc/collections/wifi_points", params={"f": "json"}).json()
    assert body["storageCrs"] == crs.CRS84_URI and TM3 in body["crs"] and VN2000 in body["crs"]
    listing = world.client.get("/ogc/collections", params={"f": "json"}).json()
    assert all(TM3 in c["crs"] for c in listing["collections"])


def test_api_features_and_download_in_vn2000(world: World):
    truth = _wifi(world)
    r = world.client.get("/api/v1/layers/wifi_points/features", params={"crs": "EPSG:9218", "limit": 100})
    assert r.status_code == 200, r.text
    assert r.headers["content-crs"] == f"<{TM3}>"
    got = {f["properties"]["code"]: f["geometry"]["coordinates"] for f in r.json()["features"]}
    code = sorted(truth)[0]
    assert got[code] == pytest.approx(list(crs.transformer(4326, 9218).transform(*truth[code])), abs=0.01)

    r = world.client.get("/api/v1/layers/wifi_points/download", params={"format": "shp", "crs": "EPSG:9218"})
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{TM3}>"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == sorted(f"wifi_points.{s}" for s in ("shp", "shx", "dbf", "prj", "cpg"))
    frame = pyogrio.read_dataframe(io.BytesIO(r.content))
    assert pyproj.CRS(frame.crs).to_epsg() == 9218 and len(frame) == len(truth)
