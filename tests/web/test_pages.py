"""Pages rendered by the real app: map, tiles, detail with QR, orchard, labels, languages."""

from __future__ import annotations

import io
import json
import re

import mapbox_vector_tile
import zxingcpp
from PIL import Image

from geomap.layers.registry import LAYERS
from geomap.services.tiles import tile_of
from tests.world import PASSWORD, World
from tests.conftest import sample_features


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


def page_config(html: str) -> dict:
    """The configuration a page hands its script (a JSON block, not an inline script)."""
    return json.loads(re.search(r'<script type="application/json" id="geomap-config">(.*?)</script>', html, re.S).group(1))


def test_map_filters_live_in_the_url_and_reach_the_tiles(world: World):
    html = world.client.get("/", params={"health": "sau_benh", "commune": "xã Ea Kly"}).text
    layers = {c["name"]: c for c in page_config(html)["layers"]}
    assert layers["durian_trees"]["url"] == "/tiles/durian_trees/{z}/{x}/{y}.mvt?health=sau_benh&commune=x%C3%A3+Ea+Kly"
    assert "wifi_points" not in layers  # wifi points have no health: not shown
    assert layers["farms"]["context"] and layers["farms"]["url"].endswith("?commune=x%C3%A3+Ea+Kly")
    assert '<option value="sau_benh" selected>' in html
    assert layers["durian_trees"]["legend"][-1] == ["", "#9e9e9e", "Chưa ghi"]  # the grey of a tree without health
    searched = {c["name"]: c for c in page_config(world.client.get("/", params={"q": "số 1"}).text)["layers"]}
    assert "q=" not in searched["durian_trees"]["url"] and searched["durian_trees"]["filters"] == {"q": "số 1"}
    farm = world.farm["properties"]["code"]
    layers = {c["name"]: c for c in page_config(world.client.get("/", params={"health": "sau_benh", "farm_code": farm}).text)["layers"]}
    assert layers["durian_trees"]["filters"] == {"health": "sau_benh", "farm_code": farm}
    assert layers["farms"]["url"] == "/tiles/farms/{z}/{x}/{y}.mvt"  # farm boundaries stay visible as context
    x, y = tile_of(108.3, 12.8, 6)
    feats = decode(world.client.get(f"/tiles/durian_trees/6/{x}/{y}.mvt", params={"health": "sau_benh", "farm_code": farm}).content, "durian_trees")
    expected = world.count(f"SELECT count(*) FROM durian_trees WHERE health = 'sau_benh' AND farm_id = '{world.farm['id']}'")
    assert sum(f["properties"]["count"] for f in feats) == expected
    listed = world.client.get("/api/v1/layers/durian_trees/features", params={"farm_code": farm, "health": "sau_benh"}).json()
    assert listed["numberReturned"] == expected
    config = page_config(world.client.get("/", params={"layer": "wifi_points"}).text)
    assert [c["name"] for c in config["layers"] if c["on"]] == ["wifi_points"]  # the others can be turned on


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
    fields = tj["vector_layers"][0]["fields"]
    assert fields["code"] == "Mã" and fields["name"].endswith("(từ mức 16)") and fields["id"].endswith("(từ mức 16)")


def test_tile_etag_changes_when_data_changes(world: World, monkeypatch):
    # Street-level tiles look the data's version up again after a second; this test may be slower.
    monkeypatch.setattr(world.client.app.state.tile_cache, "version_ttl", 600.0)
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
    # Server-Timing says what the tile cost inside the server: rendered after the edit, then from memory.
    rendered = re.fullmatch(r"render;dur=(\d+\.\d\d)", second.headers["server-timing"])
    assert rendered and float(rendered.group(1)) > 0
    assert world.client.get(url).headers["server-timing"] == 'cache;desc="hit"'


def test_detail_page_and_qr_decodes_to_its_url(world: World, settings):
    tree = sample_features("durian_trees")[0]
    code = tree["properties"]["code"]
    r = world.client.get(f"/a/{code}", headers={"Accept-Language": "vi-VN,vi"})
    assert r.status_code == 200
    html = r.text
    assert "Giống" in html and "Tình trạng" in html and code in html and "<svg" in html
    assert "chỉ dùng được trên máy chủ này" not in html  # the operator's warning is not the public's
    world.client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    staff = world.client.get(f"/a/{code}").text
    world.client.post("/logout", follow_redirects=False)
    assert "chỉ dùng được trên máy chủ này" in staff  # a loopback public URL: the QR code opens nothing elsewhere
    assert f'href="/farms/{sample_features("farms")[0]["properties"]["code"]}"' in html or "/farms/" in html
    png = world.client.get(f"/a/{code}/qr.png")
    assert png.headers["content-type"] == "image/png"
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert result.text == f"{settings.public_url}/a/{code}"
    assert result.ec_level in ("H", "High")
    svg = world.client.get(f"/a/{code}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    by_id = world.client.get(f"/a/{tree['id']}", follow_redirects=False)
    assert by_id.status_code == 307 and by_id.headers["location"] == f"/a/{code}"  # never permanent: codes can move
    lower = world.client.get(f"/a/{code.lower()}", follow_redirects=False)
    assert lower.status_code == 307 and lower.headers["location"] == f"/a/{code}"
    english = world.client.get(f"/a/{code}?lang=en").text
    assert "Variety" in english and f'href="/farms/{world.farm["properties"]["code"]}?lang=en"' in english  # links keep English


def test_a_chosen_language_is_remembered_for_the_next_scan(world: World):
    """English chosen on one page: the next QR code scanned (no ?lang=) opens in English too,
    whatever the phone prefers, until Vietnamese is chosen again."""
    code = world.farm["properties"]["code"]
    assert '<html lang="vi">' in world.client.get(f"/farms/{code}").text
    assert world.client.get("/?lang=en").cookies.get("geomap_lang") == "en"
    assert '<html lang="en">' in world.client.get(f"/farms/{code}", headers={"Accept-Language": "vi"}).text
    world.client.get("/?lang=vi")
    assert '<html lang="vi">' in world.client.get(f"/farms/{code}", headers={"Accept-Language": "en"}).text


def test_farm_page_private_only_for_its_owner(world: World):
    code = world.farm["properties"]["code"]
    phone = world.farm["properties"]["owner_phone"]
    public_page = world.client.get(f"/farms/{code}")
    assert "Cookie" in public_page.headers["vary"] and "private" not in public_page.headers.get("cache-control", "")
    public = public_page.text
    n = world.count(f"SELECT count(*) FROM durian_trees WHERE farm_id = '{world.farm['id']}'")
    assert f"<b>{n}</b> cây ·" in public and phone not in public and "ha</b>" in public  # "249 cây", not "249 số cây"
    assert "Sâu bệnh" in public or "Khỏe" in public
    trees = world.client.get(f"/farms/{code}/trees.json").json()
    assert len(trees["trees"]) == n and "id" not in trees["columns"] and phone not in json.dumps(trees)
    world.client.post("/login", data={"username": "farmer", "password": PASSWORD}, follow_redirects=False)
    own_page = world.client.get(f"/farms/{code}")
    own = own_page.text  # the owner's name and phone: never kept by a shared cache
    assert phone in own and '"editable": true' in own and own_page.headers["cache-control"] == "private, no-cache"
    assert "id" in world.client.get(f"/farms/{code}/trees.json").json()["columns"]  # the owner may edit: ids and versions
    other = world.client.get(f"/farms/{world.other_farm['properties']['code']}").text
    assert world.other_farm["properties"]["owner_phone"] not in other and '"editable": false' in other


def test_labels_are_issued_by_post_for_the_owner_only_and_print_just_the_new_codes(world: World, settings):
    code = world.farm["properties"]["code"]
    trees = world.count(f"SELECT count(*) FROM durian_trees WHERE farm_id = '{world.farm['id']}'")
    sheet = world.client.get(f"/farms/{code}/labels?new=3")  # a GET never issues codes any more
    assert sheet.status_code == 200 and sheet.text.count('class="label"') == trees
    assert world.count("SELECT count(*) FROM issued_codes") == 0
    assert 'name="viewport"' in sheet.text and "labels.css" in sheet.text and "onclick" not in sheet.text
    assert "GEOMAP_PUBLIC_URL" in sheet.text  # the test server's public URL is a loopback address: warned
    origin = {"Origin": "http://testserver"}
    anonymous = world.client.post(f"/farms/{code}/labels", data={"count": "3"}, headers=origin, follow_redirects=False)
    assert anonymous.status_code == 401 and "text/html" in anonymous.headers["content-type"] and "đăng nhập" in anonymous.text
    world.client.post("/login", data={"username": "farmer", "password": PASSWORD}, follow_redirects=False)
    forged = world.client.post(f"/farms/{code}/labels", data={"count": "3"}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and world.count("SELECT count(*) FROM issued_codes") == 0
    too_many = world.client.post(f"/farms/{code}/labels", data={"count": "5000"}, headers=origin)
    assert too_many.status_code == 422 and "text/html" in too_many.headers["content-type"]
    issued = world.client.post(f"/farms/{code}/labels", data={"count": "3"}, headers=origin, follow_redirects=False)
    assert issued.status_code == 303
    sheet = world.client.get(issued.headers["location"]).text
    assert sheet.count('class="label"') == 3 and f"{code}-Q0001" in sheet and f"{code}-Q0003" in sheet
    assert world.count("SELECT count(*) FROM issued_codes") == 3
    other = world.client.post(f"/farms/{world.other_farm['properties']['code']}/labels", data={"count": "3"}, headers=origin)
    assert other.status_code == 403  # not this farmer's farm
    world.client.post("/logout")
    vol = world.client.post(f"/farms/{code}/labels", data={"count": "2"}, headers={**origin, **world.auth("volunteer")},
                            follow_redirects=False)
    assert vol.status_code == 303  # a volunteer of the team that tags this farm's commune
    nb = world.client.post(f"/farms/{code}/labels", data={"count": "2"}, headers={**origin, **world.auth("other_volunteer")})
    assert nb.status_code == 403  # a Ninh Bình wifi team may not


def test_labels_sheet_is_a_3_by_7_a4_grid():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "geomap" / "static" / "labels.css").read_text()
    assert "repeat(3, 70mm)" in css and "42.3mm" in css and "size: A4" in css


def test_not_registered_page_points_to_the_field_app(world: World):
    code = world.farm["properties"]["code"]
    world.client.post("/login", data={"username": "farmer", "password": PASSWORD}, follow_redirects=False)
    world.client.post(f"/farms/{code}/labels", data={"count": "1"}, headers={"Origin": "http://testserver"})
    world.client.post("/logout")
    new_code = f"{code}-Q0001"
    page = world.client.get(f"/a/{new_code.lower()}", follow_redirects=False)
    assert page.status_code == 404 and "chưa được đăng ký" in page.text and f'href="/field?code={new_code.lower()}' in page.text
    created = world.client.post("/api/v1/layers/durian_trees/features", json=world.tree_in(code=new_code), headers=world.auth("volunteer"))
    assert created.status_code == 201
    assert "Giống" in world.client.get(f"/a/{new_code}").text
    unknown = world.client.get("/a/NO-SUCH-CODE")
    assert unknown.status_code == 404 and "Không tìm thấy" in unknown.text and "/field" not in unknown.text


def test_human_pages_answer_html_errors_in_their_language(world: World):
    r = world.client.get("/farms/NO-SUCH-FARM")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "Không tìm thấy" in r.text
    r = world.client.get("/farms/NO-SUCH-FARM?lang=en")
    assert r.status_code == 404 and "was not found" in r.text and 'lang="en"' in r.text
    assert world.client.get("/farms/NO-SUCH-FARM/trees.json").headers["content-type"] == "application/problem+json"


def test_login_returns_only_to_paths_of_this_site(world: World):
    for target, expected in (("/farms/DL-EAKLY-0001?color=age", "/farms/DL-EAKLY-0001?color=age"),
                             ("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        r = world.client.post("/login", data={"username": "farmer", "password": PASSWORD, "next": target},
                              follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == expected, target
    page = world.client.get("/farms/DL-EAKLY-0001?color=age").text
    assert "/login?next=" not in page or "%2Ffarms%2FDL-EAKLY-0001" in page
    world.client.post("/logout")
    page = world.client.get("/farms/DL-EAKLY-0001?color=age").text
    assert "/login?next=%2Ffarms%2FDL-EAKLY-0001%3Fcolor%3Dage" in page
    wrong = world.client.post("/login", data={"username": "farmer", "password": "sai"})
    assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in wrong.text


def test_farm_asset_page_links_to_the_orchard_and_colours_have_a_fallback(world: World):
    from geomap.layers.base import Choice
    from geomap.services import orchard

    code = world.farm["properties"]["code"]
    page = world.client.get(f"/a/{code}").text
    assert f'id="orchard-link" href="/farms/{code}"' in page
    assert orchard.color_of(Choice("giong_moi", "Giống mới", "New variety")) == orchard.FALLBACK_COLOR
    lower = world.client.get(f"/farms/{code.lower()}", follow_redirects=False)
    assert lower.status_code == 307 and lower.headers["location"] == f"/farms/{code}"


def test_orchard_of_a_large_farm_stays_small(world: World):
    farm_id = world.count("SELECT farm_id::text FROM durian_trees GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    code = world.count(f"SELECT code FROM farms WHERE id = '{farm_id}'")
    n = world.count(f"SELECT count(*) FROM durian_trees WHERE farm_id = '{farm_id}'")
    assert n > 700
    page = world.client.get(f"/farms/{code}", headers={"Accept-Encoding": "gzip"})
    trees = world.client.get(f"/farms/{code}/trees.json", headers={"Accept-Encoding": "gzip"})
    assert len(trees.json()["trees"]) == n
    assert len(page.content) < 20_000 and len(trees.content) < 80 * n  # about 60 bytes a tree before compression


def test_responses_are_compressed_and_static_files_cached_by_version(world: World):
    html = world.client.get("/", headers={"Accept-Encoding": "gzip"})
    assert html.headers["content-encoding"] == "gzip"
    scripts = re.findall(r'<script src="([^"]+)"', html.text)
    assert scripts and all("?v=" in s for s in scripts)
    for src in scripts:
        r = world.client.get(src, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and "immutable" in r.headers["cache-control"] and "max-age=31536000" in r.headers["cache-control"]
    leaflet = world.client.get(scripts[0], headers={"Accept-Encoding": "gzip"})
    assert leaflet.headers["content-encoding"] == "gzip" and int(leaflet.num_bytes_downloaded) < len(leaflet.content) / 2
    assert "immutable" not in world.client.get("/static/geomap/map.js").headers["cache-control"]  # unversioned: short
    tree = sample_features("durian_trees")[0]
    x, y = tile_of(*tree["geometry"]["coordinates"], 16)
    tile = world.client.get(f"/tiles/durian_trees/16/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
    assert tile.headers["content-encoding"] == "gzip" and decode(tile.content, "durian_trees")
    download = world.client.get("/api/v1/layers/durian_trees/download?format=geojson&farm_code=" + world.farm["properties"]["code"],
                                headers={"Accept-Encoding": "gzip"})
    assert download.headers["content-encoding"] == "gzip" and download.num_bytes_downloaded < len(download.content) / 4
