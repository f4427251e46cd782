"""What the field app adds to the API: ``GET /api/v1/field/me`` and photo uploads under a
client-chosen id (``PUT …/photos/{photo_id}``), stored once however often they are retried."""

from __future__ import annotations

import io
import threading
import uuid

import httpx
from PIL import Image

from tests.conftest import sample_features
from tests.world import EAKLY_AREA, World

BASE = "/api/v1/layers/durian_trees/features"


def jpeg(color=(20, 140, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), color).save(buf, format="JPEG")
    return buf.getvalue()


def own_tree(world: World) -> dict:
    return next(t for t in sample_features("durian_trees") if t["properties"]["farm_id"] == world.farm["id"])


def test_me_gives_the_team_its_area_and_the_layers_it_may_write(world: World):
    me = world.client.get("/api/v1/field/me", headers=world.auth("volunteer")).json()
    assert me["username"] == "vol" and me["role"] == "volunteer"
    assert me["team"]["code"] == "DL-EAKLY-01" and me["team"]["communes"] == ["xã Ea Kly"]
    registry = [layer["name"] for layer in world.client.get("/api/v1/layers").json()["layers"]]
    assert me["layers"] == [name for name in registry if name in ("durian_trees", "farms")]
    area = me["team"]["area"]
    assert area["type"] == "MultiPolygon"
    xs = [x for x, _ in area["coordinates"][0][0]]
    assert min(xs) == EAKLY_AREA["coordinates"][0][0][0] and max(xs) == EAKLY_AREA["coordinates"][0][1][0]
    assert me["gps_accuracy_max_m"] == 30.0

    farmer = world.client.get("/api/v1/field/me", headers=world.auth("farmer")).json()
    assert farmer["team"] is None and farmer["layers"] == ["durian_trees"] and farmer["farms"] == [world.farm["id"]]
    admin = world.client.get("/api/v1/field/me", headers=world.auth("admin")).json()
    layers = world.client.get("/api/v1/layers").json()["layers"]
    assert admin["layers"] == [layer["name"] for layer in layers]
    public = world.client.get("/api/v1/field/me").json()
    assert public["role"] == "public" and public["layers"] == [] and public["team"] is None


def test_a_photo_put_twice_under_its_id_is_stored_once(world: World):
    tree = own_tree(world)
    photo_id = str(uuid.uuid4())
    url = f"{BASE}/{tree['id']}/photos/{photo_id}"
    first = world.client.put(url, files={"file": ("a.jpg", jpeg(), "image/jpeg")}, headers=world.auth("volunteer"))
    assert first.status_code == 201, first.text
    assert first.json()["id"] == photo_id and first.json()["url"] == f"/api/v1/photos/{photo_id}.jpg"
    again = world.client.put(url, files={"file": ("a.jpg", jpeg(), "image/jpeg")}, headers=world.auth("volunteer"))
    assert again.status_code == 200 and again.json() == first.json()
    assert world.count(f"SELECT count(*) FROM photos WHERE id = '{photo_id}'") == 1
    listed = world.client.get(f"{BASE}/{tree['id']}/photos").json()
    assert [p["id"] for p in listed].count(photo_id) == 1


def test_a_photo_id_cannot_move_to_another_asset_and_must_be_a_uuid(world: World):
    trees = [t for t in sample_features("durian_trees") if t["properties"]["farm_id"] == world.farm["id"]][:2]
    photo_id = str(uuid.uuid4())
    h = world.auth("volunteer")
    assert world.client.put(f"{BASE}/{trees[0]['id']}/photos/{photo_id}", files={"file": ("a.jpg", jpeg(), "image/jpeg")},
                            headers=h).status_code == 201
    other = world.client.put(f"{BASE}/{trees[1]['id']}/photos/{photo_id}", files={"file": ("a.jpg", jpeg(), "image/jpeg")},
                             headers=h)
    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"
    bad = world.client.put(f"{BASE}/{trees[0]['id']}/photos/not-a-uuid", files={"file": ("a.jpg", jpeg(), "image/jpeg")},
                           headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "photo_id"
    public = world.client.put(f"{BASE}/{trees[0]['id']}/photos/{uuid.uuid4()}", files={"file": ("a.jpg", jpeg(), "image/jpeg")})
    assert public.status_code == 401
    notjpeg = world.client.put(f"{BASE}/{trees[0]['id']}/photos/{uuid.uuid4()}", files={"file": ("a.jpg", b"hello", "image/jpeg")},
                               headers=h)
    assert notjpeg.status_code == 422 and notjpeg.json()["errors"][0]["field"] == "file"


def test_in_flight_duplicates_of_a_photo_store_one(live, world: World):
    tree = own_tree(world)
    photo_id = str(uuid.uuid4())
    url = f"{live}{BASE}/{tree['id']}/photos/{photo_id}"
    data = jpeg((200, 30, 30))
    statuses: list[int] = []

    def put() -> None:
        r = httpx.put(url, files={"file": ("a.jpg", data, "image/jpeg")}, headers=world.auth("volunteer"), timeout=30)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    assert world.count(f"SELECT count(*) FROM photos WHERE id = '{photo_id}'") == 1


WIFI = "/api/v1/layers/wifi_points/features"


def _wifi(code: str, accuracy: float) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.0433, 20.0706]},
            "properties": {"code": code, "name": "Wifi chợ xã", "venue": "Chợ xã", "province": "Ninh Bình",
                           "commune": "xã Đồng Hướng", "gps_accuracy_m": accuracy}}


def test_a_layer_declares_its_own_gps_limit_and_the_server_applies_it(world: World):
    layers = {layer["name"]: layer for layer in world.client.get("/api/v1/layers").json()["layers"]}
    assert layers["durian_trees"]["gps_accuracy_max_m"] == 10.0
    assert layers["wifi_points"]["gps_accuracy_max_m"] is None  # the global limit (30 m in tests)
    assert layers["durian_trees"]["min_spacing_m"] == 2.0

    tree = world.client.post(BASE, json=world.tree_in(code="T-GPS15", gps_accuracy_m=15), headers=world.auth("volunteer"))
    assert tree.status_code == 422 and tree.headers["content-type"] == "application/problem+json"
    errors = tree.json()["errors"]
    assert [e["field"] for e in errors] == ["gps_accuracy_m"] and "10 m" in errors[0]["reason"]
    assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'T-GPS15'") == 0
    ok_tree = world.client.post(BASE, json=world.tree_in(code="T-GPS10", gps_accuracy_m=10), headers=world.auth("volunteer"))
    assert ok_tree.status_code == 201, ok_tree.text

    wifi = world.client.post(WIFI, json=_wifi("NB-WIFI-GPS15", 15), headers=world.auth("other_volunteer"))
    assert wifi.status_code == 201, wifi.text
    assert world.count("SELECT count(*) FROM wifi_points WHERE code = 'NB-WIFI-GPS15' AND gps_accuracy_m = 15") == 1
    worse = world.client.post(WIFI, json=_wifi("NB-WIFI-GPS45", 45), headers=world.auth("other_volunteer"))
    assert worse.status_code == 422 and worse.json()["errors"][0]["field"] == "gps_accuracy_m"


FARMS = "/api/v1/layers/farms/features"


def _farm(code: str, ring: list[list[float]]) -> dict:
    return {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
            "properties": {"code": code, "name": "Vườn đo bằng điện thoại", "province": "Đắk Lắk",
                           "commune": "xã Ea Kly", "owner_name": "Nguyễn Văn Ba"}}


def test_a_farm_boundary_from_the_app_is_checked_by_the_server(world: World):
    """What the app sends for an area: rings closed, valid, inside the team's working area."""
    x, y = 108.2990, 12.7096
    square = [[x, y], [x + 0.0004, y], [x + 0.0004, y + 0.0004], [x, y + 0.0004], [x, y]]
    h = world.auth("volunteer")
    unclosed = world.client.post(FARMS, json=_farm("FIELD-FARM-OPEN", square[:-1]), headers=h)
    assert unclosed.status_code == 422 and unclosed.json()["errors"][0]["field"] == "geometry"
    bowtie = [[x, y], [x + 0.0004, y + 0.0004], [x + 0.0004, y], [x, y + 0.0004], [x, y]]
    crossed = world.client.post(FARMS, json=_farm("FIELD-FARM-BOWTIE", bowtie), headers=h)
    assert crossed.status_code == 422 and crossed.json()["errors"][0]["field"] == "geometry"
    ox = EAKLY_AREA["coordinates"][0][1][0] - 0.0002  # straddles the area's eastern edge
    outside = [[ox, y], [ox + 0.0004, y], [ox + 0.0004, y + 0.0004], [ox, y + 0.0004], [ox, y]]
    refused = world.client.post(FARMS, json=_farm("FIELD-FARM-OUT", outside), headers=h)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"].startswith("geometry: outside the working area of team DL-EAKLY-01")
    ok = world.client.post(FARMS, json=_farm("FIELD-FARM-OK", square), headers=h)
    assert ok.status_code == 201, ok.text
    assert world.count("SELECT count(*) FROM farms WHERE code LIKE 'FIELD-FARM-%'") == 1
