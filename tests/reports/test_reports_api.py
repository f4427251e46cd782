"""Citizen reports through /api/v1/reports: create, retries, me too, handling, asset status, photos, bad input."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import text

from geomap.reports.webhooks import configure_team
from tests.reports.helpers import EMAIL, PHONE, REPORTS, jpeg_with_gps, post_report, report_body
from tests.world import PASSWORD, World


def _problem(r, status: int, field: str | None = None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if field:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def _wifi(world: World, code: str = "NB-WIFI-001"):
    with world.engine.connect() as conn:
        return conn.execute(text("SELECT status, version FROM wifi_points WHERE code = :c"), {"c": code}).one()


def test_categories_come_from_the_layers(world: World):
    cats = world.client.get(f"{REPORTS}/categories").json()
    codes = {c["code"] for c in cats}
    assert {"wifi_points.mat_ket_noi", "durian_trees.sau_benh", "border_markers.hu_hong", "heritage_sites.bien_qr_hong",
            "wifi_points.khac", "farms.khac"} <= codes
    wifi = next(c for c in cats if c["code"] == "wifi_points.mat_ket_noi")
    assert (wifi["vi"], wifi["en"]) == ("Mất kết nối", "No connection")
    tree_codes = [c["code"] for c in world.client.get(f"{REPORTS}/categories", params={"layer": "durian_trees"}).json()]
    assert tree_codes == ["durian_trees.sau_benh", "durian_trees.do_nga", "durian_trees.chet", "durian_trees.khac"]


def test_create_follow_and_retry(world: World):
    body = report_body()
    r = world.client.post(REPORTS, json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["outcome"] == "created" and out["follow_url"].endswith("/r/" + out["follow_token"])
    report = out["report"]
    assert report["state"] == "open" and report["state_vi"] == "Đã tiếp nhận"
    assert report["asset"]["code"] == "NB-WIFI-001" and report["category_vi"] == "Mất kết nối"
    assert (report["location"]["lon"], report["location"]["lat"]) == (106.05, 20.06)  # the asset's place
    assert PHONE not in r.text and EMAIL not in r.text
    # not public until checked, but the follow link shows it
    assert world.client.get(f"{REPORTS}/{report['id']}").status_code == 404
    assert world.client.get(REPORTS).json() == []
    followed = world.client.get(f"{REPORTS}/follow/{out['follow_token']}").json()
    assert followed["id"] == report["id"] and "reporter" not in followed
    # a retry of the same client id answers the same report; the id with other content is a conflict
    again = world.client.post(REPORTS, json=body)
    assert again.status_code == 200 and again.json()["outcome"] == "replayed"
    assert again.json()["report"]["id"] == report["id"] and again.json()["follow_token"] == out["follow_token"]
    _problem(world.client.post(REPORTS, json={**body, "description": "khác hẳn"}), 409, "client_id")
    assert world.count("SELECT count(*) FROM reports") == 1


def test_a_me_too_reporter_gets_a_follow_link_of_their_own(world: World):
    """The first reporter's link shows their unpublished text and takes photos: a second reporter
    of the same problem follows it by a link of their own, which reads the text once published."""
    first = post_report(world).json()
    device = "dev-second-phone-42"
    second = post_report(world, description="Cũng mất wifi", device_id=device, reporter_name="Chị Hoa",
                         reporter_phone="0987 654 321", reporter_email=None).json()
    assert second["outcome"] == "me_too" and second["follow_token"] != first["follow_token"]
    assert second["report"]["description"] is None and second["report"]["photos"] == []
    again = post_report(world, device_id=device, description=None, reporter_name=None, reporter_phone=None, reporter_email=None)
    assert again.json()["follow_token"] == second["follow_token"]  # the same phone again: its link, its words kept
    rid = first["report"]["id"]
    follower = f"{REPORTS}/follow/{second['follow_token']}"
    seen = world.client.get(follower).json()
    assert seen["id"] == rid and seen["interest_count"] == 2 and seen["description"] is None
    assert world.client.get(f"{REPORTS}/follow/{first['follow_token']}").json()["description"] == first["report"]["description"]
    page = world.client.get(f"/r/{second['follow_token']}")
    assert page.status_code == 200 and first["report"]["description"] not in page.text
    def add_photo(token: str):
        return world.client.post(f"{REPORTS}/{rid}/photos", data={"token": token}, files={"file": ("p.jpg", jpeg_with_gps(), "image/jpeg")})

    assert add_photo(second["follow_token"]).status_code == 403  # only the first reporter (and the team) add photos
    assert add_photo(first["follow_token"]).status_code == 201
    world.client.post(f"{REPORTS}/{rid}/visibility", json={"visible": True}, headers=world.auth("admin"))
    assert world.client.get(follower).json()["description"] == first["report"]["description"]
    # What the second reporter wrote, and their contact, reach the team (nowhere else)
    team = world.client.get(f"{REPORTS}/{rid}", headers=world.auth("admin")).json()
    assert [(c["description"], c["reporter"]["name"], c["reporter"]["phone"]) for c in team["confirmations"]] == [
        ("Cũng mất wifi", "Chị Hoa", "0987 654 321")]
    public = world.client.get(f"{REPORTS}/{rid}").text + world.client.get(follower).text
    assert "Cũng mất wifi" not in public and "0987 654 321" not in public and "Chị Hoa" not in public
    world.client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    queue = world.client.get("/reports/queue").text
    assert "Cũng mất wifi" in queue and "0987 654 321" in queue


def test_idempotency_key_header(world: World):
    body = report_body(client_id=None)
    h = {"Idempotency-Key": "a0e1c3e2-5d1b-4c55-9a55-000000000001"}
    first = world.client.post(REPORTS, json=body, headers=h)
    second = world.client.post(REPORTS, json=body, headers=h)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["report"]["id"] == second.json()["report"]["id"]


def test_me_too_on_the_same_asset_and_within_the_radius(world: World):
    first = post_report(world).json()["report"]
    second = post_report(world, description="Cũng mất wifi")
    assert second.status_code == 200 and second.json()["outcome"] == "me_too"
    assert second.json()["report"]["id"] == first["id"] and second.json()["report"]["interest_count"] == 2
    # the same device saying it again does not count twice
    device = "dev-same-phone-123"
    post_report(world, device_id=device)
    post_report(world, device_id=device)
    assert world.count("SELECT interest_count FROM reports") == 3
    assert world.count("SELECT count(*) FROM reports") == 1
    # a report by point: within 50 m of the open one is the same problem, 200 m away is not
    near = post_report(world, asset_code=None, lon=106.0503, lat=20.0601)
    assert near.json()["outcome"] == "me_too" and near.json()["report"]["id"] == first["id"]
    far = post_report(world, asset_code=None, lon=106.052, lat=20.0601)
    assert far.status_code == 201 and far.json()["report"]["id"] != first["id"]
    # a form may ask first
    similar = world.client.get(f"{REPORTS}/similar", params={"category": "mat_ket_noi", "asset_code": "NB-WIFI-001"}).json()
    assert similar["similar"]["id"] == first["id"] and similar["similar"]["interest_count"] == 4
    assert "description" not in similar["similar"]
    assert world.client.get(f"{REPORTS}/similar", params={"category": "wifi_points.cham", "asset_code": "NB-WIFI-001"}
                            ).json() == {"similar": None}
    # another category is another problem
    other = post_report(world, category="wifi_points.cham")
    assert other.status_code == 201


def test_team_handles_and_the_asset_status_follows(world: World):
    out = post_report(world).json()
    rid = out["report"]["id"]
    nb, dl = world.auth("other_volunteer"), world.auth("volunteer")  # NB team owns the wifi point; DL does not
    queue = world.client.get(f"{REPORTS}/queue", headers=nb).json()
    assert [q["id"] for q in queue] == [rid] and queue[0]["reporter"]["phone"] == PHONE
    assert world.client.get(f"{REPORTS}/queue", headers=dl).json() == []
    _problem(world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "acknowledged"}, headers=dl), 403)
    _problem(world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "acknowledged"}), 401)
    assert _wifi(world).status == "hoat_dong"
    r = world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "acknowledged"}, headers=nb)
    assert r.status_code == 200, r.text
    assert _wifi(world).status == "hong"  # confirmed: the wifi point is broken
    public = world.client.get(f"{REPORTS}/{rid}").json()  # acknowledging published it
    assert public["state"] == "acknowledged" and "reporter" not in public and PHONE not in str(public)
    assert [(h["from_state"], h["to_state"]) for h in public["history"]] == [(None, "open"), ("open", "acknowledged")]
    world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "in_progress"}, headers=nb)
    fixed = world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "fixed", "public_reason": "Đã thay bộ phát"},
                              headers=nb).json()
    assert fixed["state"] == "fixed" and fixed["public_reason"] == "Đã thay bộ phát"
    assert [h["actor"] for h in fixed["history"]] == ["citizen", "vol_nb", "vol_nb", "vol_nb"]
    assert _wifi(world).status == "hoat_dong"  # set back when fixed
    with world.engine.connect() as conn:
        hist = conn.execute(text("SELECT h.changes FROM asset_history h JOIN wifi_points w ON w.id = h.asset_id "
                                 "WHERE w.code = 'NB-WIFI-001' AND h.action = 'update' ORDER BY h.id")).scalars().all()
    assert [c["status"] for c in hist] == [["hoat_dong", "hong"], ["hong", "hoat_dong"]]
    _problem(world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "open"}, headers=nb), 409, "state")
    assert world.client.get(f"{REPORTS}/follow/{out['follow_token']}").json()["state"] == "fixed"
    # the asset page's "recently fixed": by state and last change
    recent = world.client.get(REPORTS, params={"asset_code": "nb-wifi-001", "state": "fixed", "updated_since": "2020-01-01"})
    assert [r["id"] for r in recent.json()] == [rid]
    assert world.client.get(REPORTS, params={"state": "fixed", "updated_since": "2999-01-01T00:00:00Z"}).json() == []
    _problem(world.client.get(REPORTS, params={"updated_since": "hôm qua"}), 422, "updated_since")


def test_reject_needs_a_public_reason_and_admin_may_act(world: World):
    rid = post_report(world).json()["report"]["id"]
    admin = world.auth("admin")
    _problem(world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "rejected"}, headers=admin), 422, "public_reason")
    _problem(world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "done"}, headers=admin), 422, "state")
    r = world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "rejected", "public_reason": "Không phải sự cố"},
                          headers=admin)
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    # published by hand (the light check), then hidden again
    assert world.client.post(f"{REPORTS}/{rid}/visibility", json={"visible": True}, headers=admin).json()["visible"] is True
    assert world.client.get(f"{REPORTS}/{rid}").json()["public_reason"] == "Không phải sự cố"
    world.client.post(f"{REPORTS}/{rid}/visibility", json={"visible": False}, headers=admin)
    assert world.client.get(f"{REPORTS}/{rid}").status_code == 404


def test_photos_are_cleaned_and_bounded(world: World):
    out = post_report(world).json()
    rid, token = out["report"]["id"], out["follow_token"]
    url = f"{REPORTS}/{rid}/photos"
    jpeg = jpeg_with_gps()
    _problem(world.client.post(url, files={"file": ("a.jpg", jpeg, "image/jpeg")}), 403)
    r = world.client.post(url, files={"file": ("a.jpg", jpeg, "image/jpeg")}, headers={"X-Follow-Token": token})
    assert r.status_code == 201, r.text
    photo = r.json()
    assert world.client.get(photo["url"]).status_code == 404  # not public yet
    served = world.client.get(photo["url"], params={"token": token})
    img = Image.open(io.BytesIO(served.content))
    assert img.size == (640, 480) and 0x8825 not in img.getexif()
    _problem(world.client.post(url, files={"file": ("x.jpg", b"%PDF-1.4 lying", "image/jpeg")}, data={"token": token}),
             422, "file")
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")
    _problem(world.client.post(url, files={"file": ("b.png", bomb.getvalue(), "image/png")}, data={"token": token}),
             422, "file")
    for _ in range(2):
        assert world.client.post(url, files={"file": ("a.jpg", jpeg, "image/jpeg")}, data={"token": token}).status_code == 201
    _problem(world.client.post(url, files={"file": ("a.jpg", jpeg, "image/jpeg")}, data={"token": token}), 422, "file")
    assert world.count("SELECT count(*) FROM report_photos") == 3
    assert len(world.client.get(f"{REPORTS}/follow/{token}").json()["photos"]) == 3


def test_bad_input_names_the_field_and_writes_nothing(world: World):
    cases = [
        (report_body(asset_code=None, lon=2.35, lat=48.85), "location"),
        (report_body(asset_code=None, lon=20.06, lat=106.05), "location"),
        (report_body(asset_code="KHONG-CO-MA-NAY"), "asset_code"),
        (report_body(category="wifi_points.khong_co"), "category"),
        (report_body(category="durian_trees.sau_benh"), "category"),  # not a category of the wifi point's layer
        (report_body(description="x" * 2001), "description"),
        (report_body(reporter_phone="gọi tôi"), "reporter_phone"),
        (report_body(reporter_email="not-an-email"), "reporter_email"),
        (report_body(description="a\x07b"), "description"),
        (report_body(category="wifi_points.khac", description=None), "description"),
        (report_body(asset_code=None), "location"),
    ]
    for body, field in cases:
        _problem(world.client.post(REPORTS, json=body), 422, field)
    _problem(world.client.post(REPORTS, json={**report_body(), "secret": 1}), 422, "secret")
    r = world.client.post(REPORTS, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert world.count("SELECT count(*) FROM reports") == 0 and world.count("SELECT count(*) FROM report_history") == 0


def test_script_in_text_is_kept_as_text(world: World):
    script = '<script>alert("x")</script> =HYPERLINK("http://evil")'
    out = post_report(world, description=script).json()
    assert out["report"]["description"] == script  # stored as typed; pages escape it, CSV neutralises it


def test_rate_limits_per_address_and_per_device(world: World, settings):
    world.client.app.state.settings.report_rate_per_device_per_hour = 2
    world.client.app.state.settings.report_rate_per_ip_per_hour = 4
    device = "dev-flood-0001"
    assert post_report(world, device_id=device).status_code == 201
    assert post_report(world, device_id=device, category="wifi_points.cham").status_code == 201
    r = post_report(world, device_id=device, category="wifi_points.hong_thiet_bi")
    body = _problem(r, 429, "device_id")
    assert int(r.headers["Retry-After"]) > 0 and "device" in body["detail"]
    assert post_report(world, category="wifi_points.hong_thiet_bi").status_code == 201
    assert post_report(world, category="wifi_points.mat_thiet_bi").status_code == 201
    r = post_report(world, category="wifi_points.khac", description="khác")
    _problem(r, 429)
    assert "address" in r.json()["detail"]
    assert world.count("SELECT count(*) FROM reports") == 4


def test_auto_publish_team_and_tree_health(world: World):
    with world.engine.begin() as conn:
        configure_team(conn, "DL-EAKLY-01", auto_publish=True)
        tree = conn.execute(text("SELECT code, health FROM durian_trees WHERE farm_id = :f AND health = 'khoe' LIMIT 1"),
                            {"f": world.farm["id"]}).one()
    out = post_report(world, category="sau_benh", asset_code=tree.code, description="Lá vàng, có sâu")
    assert out.status_code == 201, out.text
    rid = out.json()["report"]["id"]
    assert world.client.get(f"{REPORTS}/{rid}").status_code == 200  # public at once: the team chose so
    assert [r["id"] for r in world.client.get(f"{REPORTS}/queue", headers=world.auth("volunteer")).json()] == [rid]
    world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "in_progress"}, headers=world.auth("volunteer"))
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT health FROM durian_trees WHERE code = :c"), {"c": tree.code}).scalar() == "sau_benh"
    world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "fixed"}, headers=world.auth("volunteer"))
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT health FROM durian_trees WHERE code = :c"), {"c": tree.code}).scalar() == "khoe"


def test_bbox_is_exact_for_reports(world: World):
    """A box a few decimetres beside a report does not list it, though the index's rounded boxes
    overlap (``&&`` alone said yes, as issue 16 found for the features API)."""
    rid = post_report(world).json()["report"]["id"]
    assert world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "acknowledged"},
                             headers=world.auth("other_volunteer")).status_code == 200
    with world.engine.connect() as conn:
        near_miss = conn.execute(text(
            "SELECT ST_X(r.geom) + d AS x0, ST_Y(r.geom) - 0.00001 AS y0, ST_X(r.geom) + d + 0.00001 AS x1, "
            "ST_Y(r.geom) + 0.00001 AS y1 FROM reports r, generate_series(1, 60) g, LATERAL (SELECT g * 1e-7 AS d) o "
            "WHERE r.id = CAST(:id AS uuid) AND r.geom && ST_MakeEnvelope(ST_X(r.geom) + d, ST_Y(r.geom) - 0.00001, "
            "ST_X(r.geom) + d + 0.00001, ST_Y(r.geom) + 0.00001, 4326) ORDER BY d DESC LIMIT 1"), {"id": rid}).one()
        x, y = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM reports WHERE id = CAST(:id AS uuid)"),
                            {"id": rid}).one()
    outside = ",".join(str(v) for v in near_miss)
    assert [r["id"] for r in world.client.get(REPORTS, params={"bbox": outside}).json()] == []
    around = f"{x - 0.00001},{y - 0.00001},{x + 0.00001},{y + 0.00001}"
    assert [r["id"] for r in world.client.get(REPORTS, params={"bbox": around}).json()] == [rid]
