"""What the database refuses reaches the client as a clear 4xx naming the field or the asset, and
any text — whatever characters it holds — is stored byte for byte."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from geomap.errors import Conflict, InvalidInput
from geomap.integrity import domain_error
from geomap.io.load import load_file
from geomap.layers.registry import get_layer
from tests.api.test_features import BASE, problem
from tests.conftest import sample_features, write_geojson
from tests.world import World

AWKWARD = ["\\N", "\\\\N", "a,b", 'say "hi"', "line\nbreak", "tab\there", "Sầu riêng \\ N"]


def test_text_round_trips_through_the_api(world: World):
    for i, value in enumerate(AWKWARD):
        tree = world.tree_in(slot=i, code=f"T-TEXT-{i}", notes=value, name=value)
        r = world.client.post(BASE, json=tree, headers=world.auth("volunteer"))
        assert r.status_code == 201, (value, r.text)
        got = world.client.get(f"{BASE}/{r.json()['id']}").json()["properties"]
        assert got["notes"] == value and got["name"] == value, value


def test_text_round_trips_through_a_file_load(loaded, tmp_path):
    farms = sample_features("farms")[:2]
    for farm, value in zip(farms, ["\\N", 'a "quoted", \\N value']):
        farm["properties"]["owner_name"] = value
        farm["properties"]["name"] = value
    load_file(loaded, write_geojson(tmp_path / "farms.geojson", farms))
    with loaded.connect() as conn:
        rows = dict(conn.execute(text("SELECT code, owner_name FROM farms WHERE code = ANY(:c)"),
                                 {"c": [f["properties"]["code"] for f in farms]}).all())
    assert rows == {f["properties"]["code"]: f["properties"]["owner_name"] for f in farms}


def test_a_check_the_registry_does_not_know_is_a_422_naming_the_field(world: World):
    # The database is stricter than the registry (as after an enum change that was not migrated).
    with world.engine.begin() as conn:
        conn.execute(text("ALTER TABLE durian_trees DROP CONSTRAINT ck_durian_trees_variety_enum"))
        conn.execute(text("ALTER TABLE durian_trees ADD CONSTRAINT ck_durian_trees_variety_enum CHECK (variety <> 'monthong') NOT VALID"))
    r = world.client.post(BASE, json=world.tree_in(code="T-STRICT", variety="monthong"), headers=world.auth("volunteer"))
    body = problem(r, 422, field="variety")
    assert "retry" not in body["detail"].lower()
    assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'T-STRICT'") == 0


def _refused(engine, sql: str, params: dict) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(text(sql), params)
    return caught.value


def test_database_errors_map_by_sqlstate(loaded):
    trees = get_layer("durian_trees")
    with loaded.connect() as conn:
        code, farm = conn.execute(text("SELECT code, farm_id FROM durian_trees LIMIT 1")).one()
    base = ("INSERT INTO durian_trees (code, name, province, commune, variety, farm_id, geom) "
            "SELECT :code, 'x', 'Đắk Lắk', 'xã Ea Kly', :variety, CAST(:farm AS uuid), ST_Centroid(f.geom) "
            "FROM farms f WHERE f.id = CAST(:farm AS uuid)")
    unique = domain_error(_refused(loaded, base, {"code": code, "variety": "ri6", "farm": farm}), trees)
    assert isinstance(unique, Conflict) and code in unique.message and "retry" not in unique.message
    assert unique.details["existing"] == {"code": code}
    check = domain_error(_refused(loaded, base, {"code": "T-NEW", "variety": "durian", "farm": farm}), trees)
    assert isinstance(check, InvalidInput) and check.problems[0].field == "variety"
    assert "musang_king" in check.problems[0].reason
    missing = domain_error(_refused(loaded, base.replace(":code", "NULL"), {"variety": "ri6", "farm": farm}), trees)
    assert isinstance(missing, InvalidInput) and missing.problems[0].field == "code"
    fk = domain_error(_refused(
        loaded, "UPDATE durian_trees SET farm_id = gen_random_uuid() WHERE code = :code", {"code": code}), trees)
    assert isinstance(fk, InvalidInput) and fk.problems[0].field == "farm_id"


def test_bbox_is_exact_for_lists_and_downloads(world: World):
    # A box inside a farm's bounding box but outside the farm itself: the farm is not in it.
    with world.engine.connect() as conn:
        row = conn.execute(text(
            "WITH f AS (SELECT code, geom, ST_Envelope(geom) AS env FROM farms WHERE deleted_at IS NULL), "
            "corner AS (SELECT f.code, ST_MakeEnvelope(ST_XMin(f.env), ST_YMin(f.env), ST_XMin(f.env) + 0.00002, "
            "ST_YMin(f.env) + 0.00002, 4326) AS box, f.geom FROM f) "
            "SELECT code, ST_XMin(box) AS x0, ST_YMin(box) AS y0, ST_XMax(box) AS x1, ST_YMax(box) AS y1 FROM corner "
            "WHERE NOT ST_Intersects(geom, box) AND NOT EXISTS (SELECT 1 FROM farms o WHERE o.code <> corner.code "
            "AND ST_Intersects(o.geom, box)) LIMIT 1")).one()
    bbox = f"{row.x0},{row.y0},{row.x1},{row.y1}"
    listed = world.client.get("/api/v1/layers/farms/features", params={"bbox": bbox}).json()["features"]
    assert listed == []
    download = world.client.get("/api/v1/layers/farms/download", params={"bbox": bbox, "format": "geojson"})
    assert download.status_code == 200 and row.code not in download.text
    # The farm's own centre box does find it.
    with world.engine.connect() as conn:
        c = conn.execute(text("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM farms "
                              "WHERE code = :c) s"), {"c": row.code}).one()
    near = f"{c.x - 0.00001},{c.y - 0.00001},{c.x + 0.00001},{c.y + 0.00001}"
    found = world.client.get("/api/v1/layers/farms/features", params={"bbox": near}).json()["features"]
    assert [f["properties"]["code"] for f in found] == [row.code]


def test_the_vertex_bound_is_the_configured_one(world: World, settings):
    from fastapi.testclient import TestClient

    from geomap.api.app import create_app

    lon, lat = 108.32, 12.70
    ring = [[lon + 0.001 * math.cos(2 * math.pi * i / 12), lat + 0.001 * math.sin(2 * math.pi * i / 12)] for i in range(12)]
    farm = {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[ring + [ring[0]]]]},
            "properties": {"code": "DL-VERTEX-1", "name": "Vườn thử", "owner_name": "Chủ vườn",
                           "province": "Đắk Lắk", "commune": "xã Ea Kly"}}
    with TestClient(create_app(settings.model_copy(update={"geometry_max_vertices": 8}))) as small:
        problem(small.post("/api/v1/layers/farms/features", json=farm, headers=world.auth("admin")), 422, field="geometry")
    assert world.client.post("/api/v1/layers/farms/features", json=farm, headers=world.auth("admin")).status_code == 201
