"""OGC API – Features as written: CQL2 spatial filters, queryables, parameters refused by name,
multi-value property filters, titles per language, conditional GETs (ETag, Last-Modified, 304) on
/ogc items, downloads and /api features, read-only CORS and gzip on the open-data paths."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from owslib.ogcapi.features import Features

from geomap.layers.registry import LAYERS, get_layer
from tests.world import World, serve

ITEMS = "/ogc/collections/durian_trees/items"
BBOX = (108.29, 12.70, 108.32, 12.73)
IN_BBOX = "SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"


def problem_400(response, field: str) -> dict:
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert any(e["field"] == field for e in body.get("errors", [])) or body["detail"].startswith(field), body
    return body


@pytest.mark.parametrize("text", [
    "S_INTERSECTS(geometry, BBOX({0}, {1}, {2}, {3}))",
    "S_INTERSECTS(geom, BBOX({0}, {1}, {2}, {3}))",
    "S_INTERSECTS(geometry, POLYGON(({0} {1}, {2} {1}, {2} {3}, {0} {3}, {0} {1})))",
])
def test_cql2_spatial_filter_with_a_bbox_literal(world: World, text: str):
    """Was a 400 "mixed SRID": the BBOX literal had no SRID while the column is EPSG:4326."""
    r = world.client.get(ITEMS, params={"filter": text.format(*BBOX), "limit": 1})
    assert r.status_code == 200, r.text
    assert r.json()["numberMatched"] == world.count(IN_BBOX % BBOX) > 0


def test_cql2_json_bbox_with_an_attribute(world: World):
    expr = {"op": "and", "args": [
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(BBOX)}]},
        {"op": "=", "args": [{"property": "health"}, "sau_benh"]}]}
    r = world.client.get(ITEMS, params={"filter": json.dumps(expr), "filter-lang": "cql2-json", "limit": 100})
    assert r.status_code == 200, r.text
    expected = world.count((IN_BBOX % BBOX) + " AND health = 'sau_benh'")
    assert r.json()["numberMatched"] == expected > 0
    assert {f["properties"]["health"] for f in r.json()["features"]} == {"sau_benh"}


def test_owslib_sends_a_spatial_cql2_filter(live, world: World):
    api = Features(f"{live}/ogc")
    page = api.collection_items("durian_trees", limit=10, filter="S_INTERSECTS(geometry, BBOX(%s, %s, %s, %s))" % BBOX,
                                **{"filter-lang": "cql2-text"})
    assert page["numberMatched"] == world.count(IN_BBOX % BBOX) > 0
    queryables = api.collection_queryables("durian_trees")
    assert queryables["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_queryables_name_the_geometry_and_list_enums(world: World, layer):
    r = world.client.get(f"/ogc/collections/{layer.name}/queryables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    body = r.json()
    props = body["properties"]
    assert body["title"] == layer.vi and "geom" not in props
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert props["geometry"]["format"] == f"geometry-{layer.geometry.lower()}"
    for attr in layer.public_attributes:
        assert props[attr.name]["title"] == attr.vi
        if attr.kind == "enum":
            assert props[attr.name]["enum"] == list(attr.values)
    assert not any(a.name in props for a in layer.all_attributes if not a.public)
    english = world.client.get(f"/ogc/collections/{layer.name}/queryables?lang=en").json()
    assert english["title"] == layer.en


@pytest.mark.parametrize("query, field", [
    ("healht=chet", "healht"),           # a misspelt filter returned every tree
    ("filtre=health%3D'chet'", "filtre"),
    ("limit=abc", "limit"),              # was 422
    ("offset=-3", "offset"),
    ("bbox=1,2,3", "bbox"),              # was 422
    ("bbox-only=maybe", "bbox-only"),
    ("f=xml", "f"),
    ("sortby=nosuch", "sortby"),         # was 404
    ("geom-column=nosuch", "geom-column"),
    ("variety=durian", "variety"),
    ("planting_year=abc", "planting_year"),
    ("filter-crs=http://www.opengis.net/def/crs/EPSG/0/3405", "filter-crs"),
])
def test_unknown_and_invalid_parameters_are_400_naming_them(world: World, query: str, field: str):
    body = problem_400(world.client.get(f"{ITEMS}?{query}"), field)
    assert field in body["detail"]


def test_item_parameters_are_checked_and_bad_ids_are_404(world: World):
    one = world.client.get(ITEMS, params={"limit": 1}).json()["features"][0]["id"]
    assert world.client.get(f"{ITEMS}/{one}").status_code == 200
    problem_400(world.client.get(f"{ITEMS}/{one}?health=chet"), "health")
    assert world.client.get(f"{ITEMS}/not-a-uuid").status_code == 404


def test_crs_parameters_are_known(world: World):
    """crs/bbox-crs are another branch's work: they must reach the route, not be refused here."""
    for query in ("crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                  "bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84&bbox=108.29,12.70,108.32,12.73"):
        assert world.client.get(f"{ITEMS}?{query}&limit=1").status_code == 200, query


def test_several_values_of_a_property_match_either(world: World):
    r = world.client.get(ITEMS, params={"variety": "ri6,monthong", "limit": 1000})
    assert r.status_code == 200, r.text
    expected = world.count("SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL AND variety IN ('ri6', 'monthong')")
    api = world.client.get("/api/v1/layers/durian_trees/features", params={"variety": "ri6,monthong", "limit": 1000})
    assert r.json()["numberMatched"] == expected > world.count(
        "SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL AND variety = 'ri6'")
    assert {f["properties"]["variety"] for f in r.json()["features"]} == {"ri6", "monthong"}
    assert {f["properties"]["variety"] for f in api.json()["features"]} == {"ri6", "monthong"}


@pytest.mark.parametrize("name, sql", [
    ("planting_year", "SELECT string_agg(DISTINCT planting_year::text, ',') FROM (SELECT planting_year FROM durian_trees "
                      "WHERE planting_year IS NOT NULL ORDER BY planting_year LIMIT 1) a"),
    ("farm_id", "SELECT string_agg(farm_id::text, ',') FROM (SELECT DISTINCT farm_id FROM durian_trees "
                "WHERE farm_id IS NOT NULL ORDER BY farm_id LIMIT 2) f"),
])
def test_several_numbers_or_ids_match_either(world: World, name: str, sql: str):
    values = world.count(sql).split(",")
    if name == "planting_year":
        values.append(str(int(values[0]) + 1))
    r = world.client.get(ITEMS, params={name: ",".join(values), "limit": 1})
    assert r.status_code == 200, r.text
    wanted = ", ".join(f"'{v}'" for v in values)
    expected = world.count(f"SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL AND {name}::text IN ({wanted})")
    assert r.json()["numberMatched"] == expected > 0


def test_collection_titles_follow_the_language(world: World):
    for headers, lang in (({}, "vi"), ({"Accept-Language": "en-US,en;q=0.8"}, "en")):
        body = world.client.get("/ogc/collections", headers=headers).json()
        assert [c["title"] for c in body["collections"]] == [layer.label(lang) for layer in LAYERS]
    body = world.client.get("/ogc/collections?lang=en").json()
    assert [c["id"] for c in body["collections"]] == [layer.name for layer in LAYERS]
    assert body["collections"][1]["title"] == "Durian trees"
    assert world.client.get("/ogc/collections/durian_trees").json()["title"] == "Cây sầu riêng"
    assert world.client.get("/ogc/collections/durian_trees?lang=en").json()["title"] == "Durian trees"
    items = world.client.get(ITEMS, params={"limit": 1}, headers={"Accept-Language": "en"}).json()
    assert items["title"] == "Durian trees"


def _touch_one_tree(world: World, tree_id: str) -> None:
    r = world.client.get(f"/api/v1/layers/durian_trees/features/{tree_id}", headers=world.auth("admin"))
    patch = world.client.patch(f"/api/v1/layers/durian_trees/features/{tree_id}", json={"properties": {"notes": "Đã tỉa cành"}},
                               headers={**world.auth("admin"), "If-Match": r.headers["etag"]})
    assert patch.status_code == 200, patch.text


@pytest.mark.parametrize("path", ["items", "item"])
def test_ogc_items_answer_conditional_gets(world: World, path: str):
    tree = world.client.get(ITEMS, params={"limit": 1, "health": "khoe"}).json()["features"][0]["id"]
    url = f"{ITEMS}?health=sau_benh&limit=5" if path == "items" else f"{ITEMS}/{tree}"
    first = world.client.get(url)
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.status_code == 200 and tag.startswith('W/"') and "GMT" in modified
    assert world.client.get(url).headers["etag"] == tag
    assert world.client.get(url, headers={"If-None-Match": tag}).status_code == 304
    assert world.client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert world.client.get(url, headers={"If-None-Match": 'W/"other"'}).status_code == 200
    assert world.client.get(url + ("&" if "?" in url else "?") + "f=html").headers["etag"] != tag  # another representation
    _touch_one_tree(world, tree)
    again = world.client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.headers["etag"] != tag


def test_download_etag_is_stable_and_gives_304(world: World):
    url = "/api/v1/layers/durian_trees/download?format=csv&health=chet"
    first, second = world.client.get(url), world.client.get(url)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert world.client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    other = world.client.get(url.replace("csv", "geojson"))
    assert other.headers["etag"] != first.headers["etag"]
    tree = world.client.get(ITEMS, params={"limit": 1, "health": "chet"}).json()["features"][0]["id"]
    _touch_one_tree(world, tree)
    changed = world.client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert "Đã tỉa cành".encode() in changed.content


def test_api_feature_honours_if_none_match(world: World):
    tree = world.client.get(ITEMS, params={"limit": 1}).json()["features"][0]["id"]
    url = f"/api/v1/layers/durian_trees/features/{tree}"
    tag = world.client.get(url).headers["etag"]
    not_modified = world.client.get(url, headers={"If-None-Match": tag})
    assert not_modified.status_code == 304 and not_modified.content == b"" and not_modified.headers["etag"] == tag
    _touch_one_tree(world, tree)
    fresh = world.client.get(url, headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.json()["properties"]["notes"] == "Đã tỉa cành"


OPEN_DATA = [
    "/tiles/durian_trees/12/3280/1902.mvt", "/tiles/durian_trees.json",
    "/ogc/collections/durian_trees/tiles/WebMercatorQuad/tilejson.json",
    "/ogc/collections/durian_trees/tiles/WebMercatorQuad/style.json",
    "/ogc/collections", ITEMS + "?limit=50", "/api/v1/layers/wifi_points/download?format=geojson",
]


@pytest.mark.parametrize("path", OPEN_DATA)
def test_open_data_is_cors_readable_and_gzipped(world: World, path: str):
    r = world.client.get(path, headers={"Origin": "https://ban-do.example.vn", "Accept-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    assert r.headers["content-encoding"] == "gzip"
    pre = world.client.options(path, headers={"Origin": "https://ban-do.example.vn", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204 and "GET" in pre.headers["access-control-allow-methods"]


def test_no_cors_on_writes_and_pages(world: World):
    origin = {"Origin": "https://ban-do.example.vn"}
    for method, path in (("GET", "/"), ("GET", "/login"), ("GET", "/api/v1/auth/me"), ("GET", "/field"),
                         ("POST", "/api/v1/layers/durian_trees/features"), ("POST", "/api/v1/auth/login")):
        r = world.client.request(method, path, headers=origin)
        assert "access-control-allow-origin" not in r.headers, (method, path)
    pre = world.client.options("/api/v1/layers/durian_trees/features",
                               headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    pre = world.client.options(ITEMS, headers={**origin, "Access-Control-Request-Method": "DELETE"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_origins_are_configurable(world: World, settings):
    for base in serve(settings, cors_origins=["https://ban-do.example.vn"]):
        def origin_header(origin: str) -> str | None:
            req = urllib.request.Request(base + "/tiles/durian_trees.json", headers={"Origin": origin})
            with urllib.request.urlopen(req, timeout=30) as r:
                assert "Origin" in ", ".join(r.headers.get_all("Vary"))
                return r.headers.get("Access-Control-Allow-Origin")

        assert origin_header("https://ban-do.example.vn") == "https://ban-do.example.vn"
        assert origin_header("https://khac.example.com") is None


def test_only_geomaps_tile_grid_is_offered(world: World):
    sets = world.client.get("/ogc/collections/durian_trees/tiles").json()["tilesets"]
    assert [s["links"][0]["href"].rsplit("/", 1)[-1] for s in sets] == ["WebMercatorQuad"]
    assert world.client.get("/ogc/collections/durian_trees/tiles/WorldCRS84Quad/3/12/3").status_code in (400, 404)
    style = world.client.get("/ogc/collections/durian_trees/tiles/WebMercatorQuad/style.json").json()
    assert {layer["source-layer"] for layer in style["layers"] if "source-layer" in layer} == {"durian_trees"}
    source = style["sources"]["durian_trees"]
    assert source["tiles"][0].endswith("/ogc/collections/durian_trees/tiles/WebMercatorQuad/{z}/{x}/{y}")
    tilejson = world.client.get("/ogc/collections/durian_trees/tiles/WebMercatorQuad/tilejson.json").json()
    assert [v["id"] for v in tilejson["vector_layers"]] == ["durian_trees"]
    colors = json.dumps(style["layers"])
    assert all(c.color in colors for c in get_layer("durian_trees").find("health").choices)
    assert urllib.parse.urlsplit(source["tiles"][0]).path.startswith("/ogc/")
