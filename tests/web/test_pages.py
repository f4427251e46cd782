"""Pages rendered by the real app: map, tiles, detail with QR, orchard, labels, languages."""

from __future__ import annotations

import io
import re

import mapbox_vector_tile
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import text

from geomap.layers.registry import LAYERS
from tests.world import PASSWORD, World
from tests.conftest import sample_features


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def decode(data: bytes, layer: str) -> list[dict]:
    return mapbox_vector_tile.decode(data).get(layer, {}).get("features", [])


def test_map_page_is_small_local_and_vietnamese(world: World):
    r = world.client.get("/", headers={"Accept-Language": "vi"})
    assert r.status_code == 200
    html = r.text
    assert len(r.content) < 300_000
    for layer in LAYERS:
        assert layer.vi in html and f"/tiles/{layer.name}/" in html
    assert 'lang="vi"' in html and "Bộ lọc" in html and "Tình trạng" in html
    external = [u for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', html)]
    assert external == [], external  # scripts and styles come from the app
    assert "/static/vendor/leaflet/dist/leaflet.js" in html
    assert world.client.get("/static/vendor/leaflet/dist/leaflet.js").status_code == 200
    assert world.client.get("/static/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js").status_code == 200
    en = world.client.get("/?lang=en").text
    assert "Durian trees" in en and "Filters" in en


def test_map_filters_live_in_the_url_and_reach_the_tiles(world: World):
    html = world.client.get("/", params={"health": "sau_benh", "commune": "xã Ea Kly"}).text
    assert "/tiles/durian_trees/{z}/{x}/{y}.mvt?health=sau_benh&amp;commune=" in html or "health=sau_benh" in html
    assert "/tiles/wifi_points/" not in html  # wifi points have no health: not shown
    assert 'value="sau_benh" selected' in html
    farm = world.farm["properties"]["code"]
    html = world.client.get("/", params={"health": "sau_benh", "farm_code": farm}).text
    assert f"farm_code={farm}" in html and "/tiles/farms/" not in html
    x, y = tile_of(108.3, 12.8, 6)
    feats = decode(world.client.get(f"/tiles/durian_trees/6/{x}/{y}.mvt", params={"health": "sau_benh", "farm_code": farm}).content, "durian_trees")
    expected = world.count(f"SELECT count(*) FROM durian_trees WHERE health = 'sau_benh' AND farm_id = '{world.farm['id']}'")
    assert sum(f["properties"]["count"] for f in feats) == expected
    listed = world.client.get("/api/v1/layers/durian_trees/features", params={"farm_code": farm, "health": "sau_benh"}).json()
    assert listed["numberReturned"] == expected
    html = world.client.get("/", params={"layer": "wifi_points"}).text
    assert "/tiles/wifi_points/" in html and "/tiles/durian_trees/" not in html


def test_tiles_detail_aggregate_filter_and_privacy(world: World):
    tree = sample_features("durian_trees")[0]
    lon, lat = tree["geometry"]["coordinates"]
    x, y = tile_of(lon, lat, 17)
    r = world.client.get(f"/tiles/durian_trees/17/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    codes = {f["properties"]["code"] for f in decode(r.content, "durian_trees")}
    assert tree["properties"]["code"] in codes
    # Low zoom: aggregated, nothing dropped.
    x, y = tile_of(108.3, 12.8, 6)
    feats = decode(world.client.get(f"/tiles/durian_trees/6/{x}/{y}.mvt").content, "durian_trees")
    assert sum(f["properties"]["count"] for f in feats) == 10_000 and len(feats) < 200
    sick = decode(world.client.get(f"/tiles/durian_trees/6/{x}/{y}.mvt?health=sau_benh").content, "durian_trees")
    assert sum(f["properties"]["count"] for f in sick) == world.count("SELECT count(*) FROM durian_trees WHERE health = 'sau_benh'")
    farm = sample_features("farms")[0]
    fx, fy = farm["geometry"]["coordinates"][0][0][0]
    x, y = tile_of(fx, fy, 14)
    data = world.client.get(f"/tiles/farms/14/{x}/{y}.mvt").content
    assert decode(data, "farms") and b"owner" not in data and farm["properties"]["owner_phone"].encode() not in data
    assert world.client.get("/tiles/durian_trees/25/0/0.mvt").status_code == 422
    assert world.client.get("/tiles/durian_trees/3/9/0.mvt").status_code == 422
    assert world.client.get("/tiles/durian_trees/6/0/0.mvt?owner_phone=1").status_code == 422
    tj = world.client.get("/tiles/durian_trees.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["tiles"][0].endswith("/tiles/durian_trees/{z}/{x}/{y}.mvt")


def test_tile_etag_changes_when_data_changes(world: World):
    tree = sample_features("durian_trees")[0]
    lon, lat = tree["geometry"]["coordinates"]
    x, y = tile_of(lon, lat, 16)
    url = f"/tiles/durian_trees/16/{x}/{y}.mvt"
    first = world.client.get(url)
    tag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    assert world.client.get(url, headers={"If-None-Match": tag}).status_code == 304
    r = world.client.patch(f"/api/v1/layers/durian_trees/features/{tree['id']}", json={"properties": {"health": "chet"}},
                           headers={**world.auth("admin"), "If-Match": '"v1"'})
    assert r.status_code == 200
    second = world.client.get(url)
    assert second.headers["etag"] != tag
    changed = next(f for f in decode(second.content, "durian_trees") if f["properties"]["code"] == tree["properties"]["code"])
    assert changed["properties"]["health"] == "chet"


def test_detail_page_and_qr_decodes_to_its_url(world: World, settings):
    tree = sample_features("durian_trees")[0]
    code = tree["properties"]["code"]
    r = world.client.get(f"/a/{code}", headers={"Accept-Language": "vi-VN,vi"})
    assert r.status_code == 200
    html = r.text
    assert "Giống" in html and "Tình trạng" in html and code in html and "<svg" in html
    assert f'href="/farms/{sample_features("farms")[0]["properties"]["code"]}"' in html or "/farms/" in html
    png = world.client.get(f"/a/{code}/qr.png")
    assert png.headers["content-type"] == "image/png"
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert result.text == f"{settings.public_url}/a/{code}"
    assert result.ec_level in ("H", "High")
    svg = world.client.get(f"/a/{code}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    by_id = world.client.get(f"/a/{tree['id']}", follow_redirects=False)
    assert by_id.status_code == 308 and by_id.headers["location"] == f"/a/{code}"
    assert "Variety" in world.client.get(f"/a/{code}?lang=en").text


def test_farm_page_private_only_for_its_owner(world: World):
    code = world.farm["properties"]["code"]
    phone = world.farm["properties"]["owner_phone"]
    public = world.client.get(f"/farms/{code}").text
    n = world.count(f"SELECT count(*) FROM durian_trees WHERE farm_id = '{world.farm['id']}'")
    assert f"<b>{n}</b>" in public and phone not in public and "ha</b>" in public
    assert "Sâu bệnh" in public or "Khỏe" in public
    assert phone not in world.client.get(f"/farms/{code}/map").text
    world.client.post("/login", data={"username": "farmer", "password": PASSWORD}, follow_redirects=False)
    own = world.client.get(f"/farms/{code}").text
    assert phone in own and 'class="health"' in own
    other = world.client.get(f"/farms/{world.other_farm['properties']['code']}").text
    assert world.other_farm["properties"]["owner_phone"] not in other
    for mode in ("variety", "age"):
        assert world.client.get(f"/farms/{code}/map?color={mode}").status_code == 200


def test_labels_new_codes_and_not_registered_page(world: World):
    code = world.farm["properties"]["code"]
    sheet = world.client.get(f"/farms/{code}/labels").text
    trees = world.count(f"SELECT count(*) FROM durian_trees WHERE farm_id = '{world.farm['id']}'")
    assert sheet.count('class="label"') == trees and "@page" not in sheet and "labels.css" in sheet
    assert world.client.get(f"/farms/{code}/labels?new=3").status_code == 401
    world.client.post("/login", data={"username": "farmer", "password": PASSWORD}, follow_redirects=False)
    sheet = world.client.get(f"/farms/{code}/labels?new=3").text
    assert sheet.count('class="label"') == trees + 3
    new_code = f"{code}-Q0001"
    assert new_code in sheet
    page = world.client.get(f"/a/{new_code}")
    assert page.status_code == 200 and "chưa được đăng ký" in page.text and "POST /api/v1/layers/durian_trees" in page.text
    world.client.post("/logout")
    created = world.client.post("/api/v1/layers/durian_trees/features", json=world.tree_in(code=new_code), headers=world.auth("volunteer"))
    assert created.status_code == 201
    assert "Giống" in world.client.get(f"/a/{new_code}").text
    unknown = world.client.get("/a/NO-SUCH-CODE")
    assert unknown.status_code == 200 and "Không tìm thấy" in unknown.text
