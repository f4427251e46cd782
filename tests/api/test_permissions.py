"""Who may do what: every role against every operation, private data, tokens and sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geomap.services.accounts import add_team, add_user, issue_credential
from tests.world import PASSWORD, World
from tests.api.test_features import BASE, problem
from tests.api.test_photos import _jpeg_with_gps

FARMS = "/api/v1/layers/farms/features"
WIFI = "/api/v1/layers/wifi_points/features"
MARKERS = "/api/v1/layers/border_markers/features"


def _tree_id(world: World, farm: dict) -> tuple[str, str]:
    with world.engine.connect() as conn:
        tid = conn.execute(text("SELECT id::text FROM durian_trees WHERE farm_id = :f ORDER BY code LIMIT 1"), {"f": farm["id"]}).scalar_one()
    r = world.client.get(f"{BASE}/{tid}")
    return tid, r.headers["etag"]


# operation → {role: expected status}
MATRIX = {
    "create tree in own area": {None: 401, "volunteer": 201, "other_volunteer": 403, "farmer": 403, "other_farmer": 403, "admin": 201},
    "patch tree health": {None: 401, "volunteer": 200, "other_volunteer": 403, "farmer": 200, "other_farmer": 403, "admin": 200},
    "move tree": {None: 401, "volunteer": 200, "other_volunteer": 403, "farmer": 403, "other_farmer": 403, "admin": 200},
    "patch tree variety": {None: 401, "volunteer": 200, "other_volunteer": 403, "farmer": 403, "other_farmer": 403, "admin": 200},
    "delete tree": {None: 401, "volunteer": 204, "other_volunteer": 403, "farmer": 403, "other_farmer": 403, "admin": 204},
    "review tree": {None: 401, "volunteer": 403, "other_volunteer": 403, "farmer": 403, "other_farmer": 403, "admin": 200},
    "restore tree": {None: 401, "volunteer": 403, "other_volunteer": 403, "farmer": 403, "other_farmer": 403, "admin": 409},
    "create wifi point": {None: 401, "volunteer": 403, "other_volunteer": 201, "farmer": 403, "other_farmer": 403, "admin": 201},
    "create border marker": {None: 401, "volunteer": 403, "other_volunteer": 403, "farmer": 403, "other_farmer": 403, "admin": 201},
    "read tree": {None: 200, "volunteer": 200, "other_volunteer": 200, "farmer": 200, "other_farmer": 200, "admin": 200},
}


def _run(world: World, op: str, who: str | None):
    c, h = world.client, world.auth(who)
    tid, tag = _tree_id(world, world.farm)
    url = f"{BASE}/{tid}"
    if op == "create tree in own area":
        return c.post(BASE, json=world.tree_in(code="T-PERM"), headers=h)
    if op == "patch tree health":
        return c.patch(url, json={"properties": {"health": "sau_benh"}}, headers={**h, "If-Match": tag})
    if op == "move tree":
        f = c.get(url).json()
        x, y = f["geometry"]["coordinates"]
        return c.patch(url, json={"geometry": {"type": "Point", "coordinates": [x + 0.000005, y]}}, headers={**h, "If-Match": tag})
    if op == "patch tree variety":
        return c.patch(url, json={"properties": {"variety": "khac"}}, headers={**h, "If-Match": tag})
    if op == "delete tree":
        return c.delete(url, headers={**h, "If-Match": tag})
    if op == "review tree":
        return c.post(url + "/review", json={"state": "has_issues", "comment": "Ảnh mờ"}, headers=h)
    if op == "restore tree":
        return c.post(url + "/restore", headers=h)
    if op == "create wifi point":
        return c.post(WIFI, json={"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.0512, 20.0611]},
                                  "properties": {"code": "NB-W-NEW", "name": "Wifi mới", "province": "Ninh Bình",
                                                 "commune": "xã Đồng Hướng", "venue": "Nhà văn hóa xóm 5", "provider": "VNPT"}}, headers=h)
    if op == "create border marker":
        return c.post(MARKERS, json={"type": "Feature", "geometry": {"type": "Point", "coordinates": [107.3, 15.75]},
                                     "properties": {"code": "BG-NEW", "name": "Mốc mới", "province": "Đà Nẵng", "commune": "xã La Êê",
                                                    "marker_number": "999", "marker_type": "moc_chinh", "border_line": "Việt Nam – Lào"}}, headers=h)
    if op == "read tree":
        return c.get(url, headers=h)
    raise AssertionError(op)


@pytest.mark.parametrize("op", list(MATRIX))
def test_permission_matrix(world: World, op):
    for who, expected in MATRIX[op].items():
        before = world.count("SELECT count(*) FROM asset_history")
        r = _run(world, op, who)
        assert r.status_code == expected, (op, who, r.status_code, r.text)
        if expected >= 400:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert world.count("SELECT count(*) FROM asset_history") == before, (op, who)
            if expected == 401:
                assert r.headers["www-authenticate"].startswith("Bearer")
        if expected in (200, 201, 204) and op not in ("read tree",):
            # Undo so the next role starts from the same state.
            with world.engine.begin() as conn:
                conn.execute(text("DELETE FROM durian_trees WHERE code = 'T-PERM'"))
                conn.execute(text("DELETE FROM wifi_points WHERE code = 'NB-W-NEW'"))
                conn.execute(text("DELETE FROM border_markers WHERE code = 'BG-NEW'"))
                conn.execute(text("DELETE FROM write_receipts"))
                conn.execute(text("UPDATE durian_trees SET deleted_at = NULL"))


def test_farmer_sees_only_own_private_data(world: World):
    c = world.client
    own = c.get(f"{FARMS}/{world.farm['id']}", headers=world.auth("farmer")).json()["properties"]
    assert own["owner_phone"] == world.farm["properties"]["owner_phone"] and own["owner_name"]
    other = c.get(f"{FARMS}/{world.other_farm['id']}", headers=world.auth("farmer")).json()["properties"]
    assert "owner_phone" not in other and "owner_name" not in other
    listing = c.get(FARMS, params={"limit": 1000}, headers=world.auth("farmer")).json()["features"]
    with_private = [f["id"] for f in listing if "owner_phone" in f["properties"]]
    assert with_private == [world.farm["id"]]
    for who in (None, "volunteer", "other_farmer"):
        body = c.get(FARMS, params={"limit": 1000}, headers=world.auth(who)).text
        assert world.farm["properties"]["owner_phone"] not in body, who
        assert world.farm["properties"]["owner_name"] not in body, who
        assert body.count("owner_phone") == (1 if who == "other_farmer" else 0), who
    hist = c.get(f"{FARMS}/{world.farm['id']}/history", headers=world.auth("other_farmer")).text
    assert world.farm["properties"]["owner_phone"] not in hist
    own_hist = c.get(f"{FARMS}/{world.farm['id']}/history", headers=world.auth("farmer")).text
    assert world.farm["properties"]["owner_phone"] in own_hist
    near = c.get("/api/v1/nearby", params={"lon": world.farm["geometry"]["coordinates"][0][0][0][0],
                                           "lat": world.farm["geometry"]["coordinates"][0][0][0][1], "radius_m": 2000}).text
    assert "owner_phone" not in near


def test_server_owned_and_foreign_fields_are_refused(world: World):
    tid, tag = _tree_id(world, world.farm)
    for field, value in (("created_by", "x"), ("version", 99), ("updated_at", "2020-01-01"), ("review_state", "approved")):
        r = world.client.patch(f"{BASE}/{tid}", json={"properties": {field: value}}, headers={**world.auth("admin"), "If-Match": tag})
        problem(r, 422, field, "set by the server")
    r = world.client.patch(f"{FARMS}/{world.farm['id']}", json={"properties": {"area_ha": 100}},
                           headers={**world.auth("admin"), "If-Match": '"v1"'})
    problem(r, 422, "area_ha", "set by the server")


def test_tokens_revoked_expired_and_wrong(world: World):
    c = world.client
    with world.engine.begin() as conn:
        expired = issue_credential(conn, "vol", days=1)
        conn.execute(text("UPDATE credentials SET expires_at = now() - interval '1 minute' WHERE expires_at IS NOT NULL"))
    problem(c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"}), 401, contains="expired")
    problem(c.get("/api/v1/auth/me", headers={"Authorization": "Bearer gm_made_up"}), 401, contains="unknown token")
    problem(c.get("/api/v1/auth/me", headers={"Authorization": "Basic dm9sOng="}), 401)
    assert c.get("/api/v1/auth/me", headers=world.auth("volunteer")).json()["role"] == "volunteer"
    from geomap.services.accounts import revoke

    with world.engine.begin() as conn:
        assert revoke(conn, "vol") >= 1
    problem(c.get("/api/v1/auth/me", headers=world.auth("volunteer")), 401, contains="revoked")
    with world.engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_hash FROM credentials")).scalars().all()
    assert world.tokens["admin"] not in stored and len(stored[0]) == 64


def test_password_sign_in_with_a_session_cookie(world: World, settings):
    c = world.client
    problem(c.post("/api/v1/auth/login", json={"username": "farmer", "password": "wrong"}), 401, contains="wrong username or password")
    r = c.post("/api/v1/auth/login", json={"username": "farmer", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "geomap_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    me = c.get("/api/v1/auth/me").json()
    assert me["role"] == "farmer" and me["farms"] == [world.farm["id"]]
    own = c.get(f"{FARMS}/{world.farm['id']}").json()["properties"]
    assert own["owner_phone"] == world.farm["properties"]["owner_phone"]
    c.post("/api/v1/auth/logout")
    assert c.get("/api/v1/auth/me").json()["role"] == "public"
    c.cookies.set("geomap_session", "gm_forged")
    problem(c.get("/api/v1/auth/me"), 401)
    c.cookies.clear()


def test_team_with_a_polygon_area(world: World):
    farm = world.farm
    with world.engine.begin() as conn:
        add_team(conn, "POLY", "Tổ theo vùng", [], [], ["durian_trees"], area_geojson=world.other_farm["geometry"])
        add_user(conn, "poly_vol", "volunteer", team_code="POLY")
        token = issue_credential(conn, "poly_vol")
    h = {"Authorization": f"Bearer {token}"}
    problem(world.client.post(BASE, json=world.tree_in(farm, code="T-POLY-1"), headers=h), 403, contains="working area")
    ok = world.client.post(BASE, json=world.tree_in(world.other_farm, code="T-POLY-2"), headers=h)
    assert ok.status_code == 201, ok.text
    own = f"{BASE}/{ok.json()['id']}"
    # Assets outside the polygon: no edit, no delete, no photo — and its own tree cannot be moved out.
    foreign = world.client.post(BASE, json=world.tree_in(farm, code="T-POLY-OUT"), headers=world.auth("volunteer")).json()
    url = f"{BASE}/{foreign['id']}"
    problem(world.client.patch(url, json={"properties": {"health": "sau_benh"}}, headers={**h, "If-Match": '"v1"'}),
            403, contains="working area")
    problem(world.client.delete(url, headers={**h, "If-Match": '"v1"'}), 403, contains="working area")
    problem(world.client.post(url + "/photos", files={"file": ("a.jpg", _jpeg_with_gps(), "image/jpeg")}, headers=h),
            403, contains="working area")
    moved = world.tree_in(farm, slot=5)["geometry"]
    problem(world.client.patch(own, json={"geometry": moved}, headers={**h, "If-Match": '"v1"'}), 403, contains="working area")
    assert world.count("SELECT count(*) FROM durian_trees WHERE version > 1 OR deleted_at IS NOT NULL") == 0
    assert world.count("SELECT count(*) FROM photos") == 0
    # Inside it, the same volunteer may do all of these.
    r = world.client.patch(own, json={"properties": {"health": "sau_benh"}}, headers={**h, "If-Match": '"v1"'})
    assert r.status_code == 200 and r.json()["properties"]["health"] == "sau_benh"
    assert world.client.post(own + "/photos", files={"file": ("a.jpg", _jpeg_with_gps(), "image/jpeg")}, headers=h).status_code == 201
    assert world.client.delete(own, headers={**h, "If-Match": '"v2"'}).status_code == 204
    _ = dt


def _volunteer_of(world: World, team: str, provinces: list[str], communes: list[str], layers: list[str], area=None) -> dict:
    with world.engine.begin() as conn:
        add_team(conn, team, f"Tổ {team}", provinces, communes, layers, area_geojson=area)
        add_user(conn, f"vol_{team.lower()}", "volunteer", team_code=team)
        return {"Authorization": f"Bearer {issue_credential(conn, f'vol_{team.lower()}')}"}


def _wifi(lon: float, lat: float, code: str, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"code": code, "name": "Wifi", "province": "Ninh Bình", "commune": "xã Đồng Hướng",
                           "venue": "Nhà văn hóa xóm 4", "provider": "VNPT", **props}}


def test_a_team_without_a_polygon_cannot_tag_by_declaring_a_commune(world: World):
    """The attack: a team declared for xã Đồng Hướng created a wifi point in Hà Nội by writing
    commune = "xã Đồng Hướng". Without boundaries to check a commune against, such a team may not tag."""
    h = _volunteer_of(world, "NB-XA-01", ["Ninh Bình"], ["xã Đồng Hướng"], ["wifi_points"])
    for lon, lat in ((105.85, 21.03), (106.0512, 20.0611)):  # Hà Nội, and inside Đồng Hướng itself
        problem(world.client.post(WIFI, json=_wifi(lon, lat, f"W-{lon}"), headers=h), 403, contains="working-area polygon")
    # Edits and photos of existing assets are refused the same way.
    wifi = world.client.get(WIFI, params={"commune": "xã Đồng Hướng"}).json()["features"][0]
    problem(world.client.patch(f"{WIFI}/{wifi['id']}", json={"properties": {"status": "hong"}},
                               headers={**h, "If-Match": '"v1"'}), 403, contains="working-area polygon")
    assert world.count("SELECT count(*) FROM wifi_points WHERE version > 1 OR created_by <> 'test'") == 0
    # Given a polygon, the same team tags inside it and nowhere else, whatever commune it writes.
    area = {"type": "Polygon", "coordinates": [[[106.0, 20.0], [106.1, 20.0], [106.1, 20.1], [106.0, 20.1], [106.0, 20.0]]]}
    h2 = _volunteer_of(world, "NB-XA-02", ["Ninh Bình"], ["xã Đồng Hướng"], ["wifi_points"], area=area)
    problem(world.client.post(WIFI, json=_wifi(105.85, 21.03, "W-HN"), headers=h2), 403, contains="working area")
    assert world.client.post(WIFI, json=_wifi(106.0512, 20.0611, "W-DH"), headers=h2).status_code == 201


def test_check_team_codes():
    from geomap.auth import Principal
    from geomap.errors import Forbidden
    from geomap.services.permissions import check_team_codes

    vol = Principal(role="volunteer", username="vol", team_code="DL-EAKLY-01")
    check_team_codes(vol, [{"team_code": "DL-EAKLY-01"}, {"team_code": None}, {}], single=False)
    with pytest.raises(Forbidden, match="feature 1: team_code: .*not NB-DOANTN-01"):
        check_team_codes(vol, [{}, {"team_code": "NB-DOANTN-01"}], single=False)
    check_team_codes(Principal(role="admin", username="admin"), [{"team_code": "NB-DOANTN-01"}])


def test_volunteers_tag_for_their_own_team_only(world: World):
    h = world.auth("volunteer")
    problem(world.client.post(BASE, json=world.tree_in(code="T-TEAM-1", team_code="NB-DOANTN-01"), headers=h), 403, contains="team_code")
    tid, tag = _tree_id(world, world.farm)
    problem(world.client.patch(f"{BASE}/{tid}", json={"properties": {"team_code": "NB-DOANTN-01"}},
                               headers={**h, "If-Match": tag}), 403, contains="team_code")
    assert world.count("SELECT count(*) FROM durian_trees WHERE team_code = 'NB-DOANTN-01'") == 0
    assert world.client.post(BASE, json=world.tree_in(code="T-TEAM-2", team_code="DL-EAKLY-01"), headers=h).status_code == 201
    admin = world.client.post(BASE, json=world.tree_in(slot=1, code="T-TEAM-3", team_code="NB-DOANTN-01"), headers=world.auth("admin"))
    assert admin.status_code == 201
