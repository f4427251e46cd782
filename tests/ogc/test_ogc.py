"""OGC API at /ogc read by the tools people use: GDAL's OAPIF driver, OWSLib, geopandas."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request

import geopandas as gpd
import pandas as pd
import pytest
from owslib.ogcapi.features import Features
from sqlalchemy import text

from geomap.layers.registry import LAYERS
from tests.world import World

BBOX = (108.29, 12.70, 108.32, 12.73)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def get_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def test_ogrinfo_lists_every_layer_and_counts_a_bbox(live, world: World):
    out = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{live}/ogc"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = re.findall(r"^\d+: (\w+) ", out.stdout, flags=re.M)
    assert listed == [layer.name for layer in LAYERS]
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-spat", *map(str, BBOX), f"OAPIF:{live}/ogc", "durian_trees"],
                         capture_output=True, text=True, timeout=120)
    count = int(re.search(r"Feature Count: (\d+)", out.stdout).group(1))
    expected = world.count("SELECT count(*) FROM durian_trees WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))" % BBOX)
    assert count == expected > 0


def test_owslib_reads_items_with_filters(live, world: World):
    api = Features(f"{live}/ogc")
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == [layer.name for layer in LAYERS]
    meta = api.collection("durian_trees")
    assert "Cây sầu riêng" in meta["title"] and meta["extent"]["spatial"]["bbox"][0][0] > 107
    sick = api.collection_items("durian_trees", limit=50, health="sau_benh")
    assert sick["features"] and {f["properties"]["health"] for f in sick["features"]} == {"sau_benh"}
    dead = api.collection_items("durian_trees", limit=1000, filter="health='chet' AND planting_year < 2015", **{"filter-lang": "cql2-text"})
    expected = world.count("SELECT count(*) FROM durian_trees WHERE health = 'chet' AND planting_year < 2015")
    assert dead["numberMatched"] == expected and all(f["properties"]["planting_year"] < 2015 for f in dead["features"])


def test_geopandas_round_trip_matches_the_database(live, world: World):
    url = f"{live}/ogc/collections/durian_trees/items?limit=10000&bbox={','.join(map(str, BBOX))}"
    gdf = gpd.read_file(url)
    with world.engine.connect() as conn:
        db = pd.read_sql(text("SELECT id::text, code, variety, planting_year, health, height_m, ST_X(geom) AS x, ST_Y(geom) AS y "
                              "FROM durian_trees WHERE ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326)) ORDER BY code"),
                         conn, params=dict(zip("abcd", BBOX)))
    gdf = gdf.sort_values("code").reset_index(drop=True)
    assert len(gdf) == len(db) > 0
    assert list(gdf["code"]) == list(db["code"])
    assert list(gdf["variety"]) == list(db["variety"]) and list(gdf["health"]) == list(db["health"])
    assert pd.api.types.is_integer_dtype(gdf["planting_year"]) and list(gdf["planting_year"]) == list(db["planting_year"])
    assert (gdf.geometry.x - db["x"]).abs().max() < 1e-7
    # The GeoPackage download of the same filter reads back the same.
    data = get_bytes(f"{live}/api/v1/layers/durian_trees/download?format=gpkg&bbox={','.join(map(str, BBOX))}")
    path = world.engine.url.database + ".gpkg"
    import tempfile, os

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, path)
        open(p, "wb").write(data)
        dl = gpd.read_file(p).sort_values("code").reset_index(drop=True)
    assert list(dl["code"]) == list(db["code"]) and list(dl["height_m"].round(6)) == list(db["height_m"].round(6))


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "kml"])
def test_downloads_have_no_personal_data(live, world: World, fmt):
    data = get_bytes(f"{live}/api/v1/layers/farms/download?format={fmt}")
    assert len(data) > 1000
    for farm in (world.farm, world.other_farm):
        assert farm["properties"]["owner_phone"].encode() not in data
        assert farm["properties"]["owner_name"].encode() not in data
    assert b"owner_phone" not in data and b"owner_name" not in data


def test_no_private_attribute_anywhere_in_ogc(live, world: World):
    phone, name = world.farm["properties"]["owner_phone"], world.farm["properties"]["owner_name"]
    urls = [
        "/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/farms", "/ogc/collections/farms/queryables",
        "/ogc/collections/farms/items?limit=100", f"/ogc/collections/farms/items/{world.farm['id']}",
        "/ogc/collections/farms/items?limit=100&f=html", "/ogc/collections/farms/items?filter=owner_phone%20IS%20NOT%20NULL",
    ]
    for u in urls:
        try:
            body = get_bytes(live + u)
        except urllib.error.HTTPError as exc:
            body = exc.read()
            assert exc.code in (400, 404, 422), (u, exc.code)
        assert phone.encode() not in body and name.encode() not in body, u
        assert b"owner_phone\":" not in body.replace(b" ", b"") or b"filter" in u.encode(), u
    # Tiles through the OGC surface too.
    tile = get_bytes(live + "/ogc/collections/farms/tiles/WebMercatorQuad/12/3280/1902")
    assert phone.encode() not in tile and b"owner" not in tile


def test_conformance_matches_endpoints(live):
    classes = get_json(f"{live}/ogc/conformance")["conformsTo"]
    for c in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson", "ogcapi-features-1/1.0/conf/oas30",
              "ogcapi-features-3/1.0/conf/filter", "ogcapi-tiles-1/1.0/conf/mvt",
              "cql2/1.0/conf/basic-cql2", "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json"):
        assert any(c in k for k in classes), c
    landing = get_json(f"{live}/ogc/?f=json")
    assert {link["rel"] for link in landing["links"]} >= {"conformance", "data", "service-desc"}
    desc = next(link["href"] for link in landing["links"] if link["rel"] == "service-desc")
    spec = get_json(desc)
    assert spec["openapi"].startswith("3.") and "/collections/{collectionId}/items" in spec["paths"]
    assert spec["servers"][0]["url"].endswith("/ogc") and spec["components"]["parameters"]["limit"]["schema"]["maximum"]
    items = get_json(f"{live}/ogc/collections/wifi_points/items?limit=2")
    assert items["numberReturned"] == 2 and any(link["rel"] == "next" for link in items["links"])
    html = get_bytes(f"{live}/ogc/collections/wifi_points/items?limit=2&f=html").decode()
    assert html.lstrip().lower().startswith("<!doctype html")
    scripts = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert scripts and all(s.startswith("/static/vendor/") for s in scripts), scripts
    for s in scripts:
        assert get_bytes(live + s)
    tilesets = get_json(f"{live}/ogc/collections/durian_trees/tiles")
    assert tilesets["tilesets"]


def test_ogc_tiles_are_the_map_tiles(live):
    for z, x, y in ((6, 51, 29), (12, 3280, 1902), (16, 52483, 30435)):
        ogc = get_bytes(f"{live}/ogc/collections/durian_trees/tiles/WebMercatorQuad/{z}/{x}/{y}")
        assert ogc == get_bytes(f"{live}/tiles/durian_trees/{z}/{x}/{y}.mvt")


@pytest.mark.parametrize("how", ["f=json", "accept"])
def test_items_as_json_are_geojson(live, world: World, how):
    """f=json / Accept: application/json on items give GeoJSON features, not EWKT strings."""
    url = f"{live}/ogc/collections/durian_trees/items?limit=5&health=sau_benh" + ("&f=json" if how == "f=json" else "")
    req = urllib.request.Request(url, headers={"Accept": "application/json"} if how == "accept" else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.load(r)
    assert isinstance(body, dict) and body["type"] == "FeatureCollection"
    assert len(body["features"]) == 5
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert feature["properties"]["health"] == "sau_benh"
    assert "SRID=" not in json.dumps(body)
    one = body["features"][0]["id"]
    with urllib.request.urlopen(f"{live}/ogc/collections/durian_trees/items/{one}?f=json", timeout=30) as r:
        item = json.load(r)
    assert item["type"] == "Feature" and item["geometry"]["type"] == "Point"


def test_ogr2ogr_sends_the_where_to_the_server(live, world: World, tmp_path):
    """GDAL's OAPIF driver sends -where to the server (seen in its debug log): GDAL 3.6 as the
    property parameter listed in /ogc/api (health=sau_benh), newer GDAL as a CQL2 filter=."""
    out = tmp_path / "sick.json"
    run = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live}/ogc", "durian_trees",
                          "-where", "health='sau_benh'", "--debug", "on"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    urls = [line for line in run.stderr.splitlines() if "/ogc/collections/durian_trees/items" in line]
    filtered = [line for line in urls if "filter=" in line or "health=sau_benh" in line]
    # Only GDAL's first one-page probe of the schema is unfiltered; every page of data is filtered.
    assert filtered and urls[-1] in filtered and len(urls) - len(filtered) <= 1, run.stderr[:4000]
    features = json.loads(out.read_text())["features"]
    expected = world.count("SELECT count(*) FROM durian_trees WHERE health = 'sau_benh'")
    assert len(features) == expected > 0 and {f["properties"]["health"] for f in features} == {"sau_benh"}


def test_limit_above_the_maximum_is_capped(live, world: World):
    """OWSLib asking for a page larger than the maximum gets the maximum, not a 422."""
    page = Features(f"{live}/ogc").collection_items("durian_trees", limit=20000)
    total = world.count("SELECT count(*) FROM durian_trees")
    assert page["numberReturned"] == min(total, 10000) == len(page["features"]) > 0


def test_ogr2ogr_sends_extent_filter_and_page_size(live, world: World, tmp_path):
    """What QGIS does with "only features in the view" and a filter: GDAL sends bbox, the property
    parameter and the page size asked for; geomap answers exactly the features in the box."""
    out = tmp_path / "sick_here.json"
    run = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live}/ogc", "durian_trees", "-oo", "PAGE_SIZE=1000",
                          "-spat", *map(str, BBOX), "-where", "health='sau_benh'", "--debug", "on"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    pages = [line for line in run.stderr.splitlines() if "/ogc/collections/durian_trees/items?" in line and "bbox=" in line]
    assert pages and all("limit=1000" in p and "health=sau_benh" in p for p in pages), run.stderr[:4000]
    expected = world.count("SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL AND health = 'sau_benh' AND "
                           "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))" % BBOX)
    features = json.loads(out.read_text())["features"]
    assert len(features) == expected > 0 and len(pages) == 1
