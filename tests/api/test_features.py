"""Field tagging over HTTP: create, retry, conflicts, edits under If-Match, batch, history, reads."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.conftest import sample_features
from tests.world import World

BASE = "/api/v1/layers/durian_trees/features"


def problem(r, status: int, field: str | None = None, contains: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert any(e["field"] == field for e in body.get("errors", [])), body
    if contains is not None:
        assert contains.lower() in r.text.lower(), body
    return body


def test_layers_describe_fields_enums_and_labels(world: World):
    body = world.client.get("/api/v1/layers").json()
    trees = next(layer for layer in body["layers"] if layer["name"] == "durian_trees")
    assert trees["title"] == {"vi": "Cây sầu riêng", "en": "Durian trees"}
    assert trees["geometry_type"] == "Point"
    variety = next(f for f in trees["fields"] if f["name"] == "variety")
    assert {"value": "chuong_bo", "label": {"vi": "Chuồng Bò", "en": "Chuong Bo"}} in variety["enum"]
    assert variety["filterable"] is True
    farms = next(layer for layer in body["layers"] if layer["name"] == "farms")
    phone = next(f for f in farms["fields"] if f["name"] == "owner_phone")
    assert phone["public"] is False


def test_volunteer_creates_and_retries_safely(world: World):
    fid = str(uuid.uuid4())
    tree = world.tree_in(code="T-RETRY")
    tree["id"] = fid
    r = world.client.post(BASE, json=tree, headers=world.auth("volunteer"))
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"v1"'
    assert r.headers["location"].endswith(f"{BASE}/{fid}")
    body = r.json()
    assert body["id"] == fid and body["properties"]["farm_id"] == world.farm["id"]  # assigned by containment
    assert body["properties"]["review_state"] == "received" and body["properties"]["created_by"] == "vol"
    # The same request again (a retry on a bad connection): the same asset, 200, no duplicate.
    again = world.client.post(BASE, json=tree, headers=world.auth("volunteer"))
    assert again.status_code == 200 and again.json()["id"] == fid
    assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'T-RETRY'") == 1
    # The same id with different content is a conflict.
    changed = world.tree_in(code="T-RETRY", variety="monthong")
    changed["id"] = fid
    problem(world.client.post(BASE, json=changed, headers=world.auth("volunteer")), 409, contains="different request")


def test_idempotency_key(world: World):
    headers = {**world.auth("volunteer"), "Idempotency-Key": "phone-42-capture-7"}
    tree = world.tree_in(code="T-IDEM")
    first = world.client.post(BASE, json=tree, headers=headers)
    second = world.client.post(BASE, json=tree, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'T-IDEM'") == 1
    other = world.tree_in(code="T-IDEM-2", slot=1)
    problem(world.client.post(BASE, json=other, headers=headers), 409, contains="Idempotency-Key")


def test_nearby_asset_is_a_conflict_unless_confirmed(world: World):
    first = world.client.post(BASE, json=world.tree_in(code="T-A"), headers=world.auth("volunteer"))
    assert first.status_code == 201
    close = world.tree_in(code="T-B", dx=0.00001)  # about 1.1 m east
    body = problem(world.client.post(BASE, json=close, headers=world.auth("volunteer")), 409, contains="T-A")
    assert body["nearby"]["code"] == "T-A" and 0.5 < body["nearby"]["distance_m"] < 2
    ok = world.client.post(BASE + "?confirm_nearby=true", json=close, headers=world.auth("volunteer"))
    assert ok.status_code == 201
    same_spot = world.tree_in(code="T-C")
    problem(world.client.post(BASE + "?confirm_nearby=true", json=same_spot, headers=world.auth("volunteer")), 409, contains="duplicate")


def test_gps_accuracy_threshold(world: World):
    poor = world.tree_in(code="T-GPS", gps_accuracy_m=45)
    problem(world.client.post(BASE, json=poor, headers=world.auth("volunteer")), 422, "gps_accuracy_m", "10 m")  # durian_trees declares its own 10 m limit
    problem(world.client.post(BASE + "?force=true", json=poor, headers=world.auth("volunteer")), 422, "gps_accuracy_m")
    assert world.client.post(BASE + "?force=true", json=poor, headers=world.auth("admin")).status_code == 201


@pytest.mark.parametrize(
    "mutate, status, field, text",
    [
        (lambda t: t["geometry"].update(coordinates=[12.71, 108.30]), 422, "geometry", "swapped"),
        (lambda t: t["geometry"].update(coordinates=[2.35, 48.85]), 422, "geometry", "outside Vietnam"),
        (lambda t: t.update(geometry={"type": "Polygon", "coordinates": [[[108.3, 12.7], [108.31, 12.7], [108.31, 12.71], [108.3, 12.7]]]}), 422, "geometry", "expected a Point"),
        (lambda t: t.update(geometry={"type": "Point", "coordinates": "here"}), 422, "geometry", "not a valid GeoJSON"),
        (lambda t: t["properties"].update(variety="Durio magicus"), 422, "variety", "unknown value"),
        (lambda t: t["properties"].update(height_m=-2), 422, "height_m", "greater than 0"),
        (lambda t: t["properties"].update(colour="green"), 422, "colour", "not a field"),
        (lambda t: t["properties"].update(version=7), 422, "version", "set by the server"),
        (lambda t: t["properties"].update(created_by="someone"), 422, "created_by", "set by the server"),
        (lambda t: t["properties"].pop("variety"), 422, "variety", "required"),
        (lambda t: t["properties"].update(planting_year="old"), 422, "planting_year", None),
        (lambda t: t["properties"].update(commune="xã Quảng Phú"), 403, None, "working area"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(world: World, mutate, status, field, text):
    tree = world.tree_in(code="T-BAD")
    mutate(tree)
    before = world.count("SELECT count(*) FROM durian_trees")
    problem(world.client.post(BASE, json=tree, headers=world.auth("volunteer")), status, field, text)
    assert world.count("SELECT count(*) FROM durian_trees") == before


def test_tree_outside_every_farm_is_refused(world: World):
    tree = world.tree_in(code="T-OUT", dx=0.02)  # about 2 km away, still in Ea Kly
    problem(world.client.post(BASE, json=tree, headers=world.auth("admin")), 422, "geometry", "outside every")


def test_nan_malformed_and_oversized_bodies(world: World):
    headers = {**world.auth("volunteer"), "content-type": "application/json"}
    nan = '{"type":"Feature","geometry":{"type":"Point","coordinates":[NaN,12.7]},"properties":{"code":"T-NAN","name":"x","province":"Đắk Lắk","commune":"xã Ea Kly","variety":"ri6"}}'
    problem(world.client.post(BASE, content=nan, headers=headers), 422, "geometry", "finite")
    problem(world.client.post(BASE, content='{"type": "Feature", "geometry":', headers=headers), 400, "body")
    problem(world.client.post(BASE, content="[1, 2, 3]", headers=headers), 422)
    big = '{"type":"Feature","geometry":null,"properties":{"notes":"' + "x" * (2 * 1024 * 1024) + '"}}'
    problem(world.client.post(BASE, content=big, headers=headers), 413)
    problem(world.client.post("/api/v1/layers/bridges/features", json=world.tree_in(), headers=world.auth("admin")), 404, contains="unknown layer")


def _create(world: World, who: str = "volunteer", **props) -> tuple[str, str]:
    r = world.client.post(BASE, json=world.tree_in(**props), headers=world.auth(who))
    assert r.status_code == 201, r.text
    return r.json()["id"], r.headers["etag"]


def test_patch_needs_a_current_etag(world: World):
    fid, tag = _create(world, code="T-EDIT")
    url = f"{BASE}/{fid}"
    problem(world.client.patch(url, json={"properties": {"health": "sau_benh"}}, headers=world.auth("volunteer")), 428)
    r = world.client.patch(url, json={"properties": {"health": "sau_benh", "notes": "Nấm hồng"}},
                           headers={**world.auth("volunteer"), "If-Match": tag})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"v2"' and r.json()["properties"]["health"] == "sau_benh"
    stale = world.client.patch(url, json={"properties": {"health": "chet"}}, headers={**world.auth("volunteer"), "If-Match": tag})
    problem(stale, 412)
    assert stale.headers["etag"] == '"v2"'
    assert world.client.get(url).json()["properties"]["health"] == "sau_benh"
    # Merge patch: null clears an optional field; required fields cannot be cleared.
    r = world.client.patch(url, json={"properties": {"notes": None}}, headers={**world.auth("volunteer"), "If-Match": '"v2"'})
    assert r.status_code == 200 and r.json()["properties"]["notes"] is None
    problem(world.client.patch(url, json={"properties": {"variety": None}}, headers={**world.auth("volunteer"), "If-Match": '"v3"'}), 422, "variety")
    problem(world.client.patch(url, json={"properties": {"version": 9}}, headers={**world.auth("volunteer"), "If-Match": '"v3"'}), 422, "version")


def test_two_concurrent_patches_one_wins(world: World):
    fid, tag = _create(world, code="T-RACE")
    url = f"{BASE}/{fid}"
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def edit(health: str) -> None:
        barrier.wait()
        r = world.client.patch(url, json={"properties": {"health": health}}, headers={**world.auth("volunteer"), "If-Match": tag})
        results[health] = r.status_code

    threads = [threading.Thread(target=edit, args=(h,)) for h in ("sau_benh", "chet")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 412], results
    winner = next(h for h, s in results.items() if s == 200)
    final = world.client.get(url).json()["properties"]
    assert final["health"] == winner and final["version"] == 2


def test_delete_and_restore(world: World):
    fid, tag = _create(world, code="T-DEL")
    url = f"{BASE}/{fid}"
    problem(world.client.delete(url, headers=world.auth("volunteer")), 428)
    assert world.client.delete(url, headers={**world.auth("volunteer"), "If-Match": tag}).status_code == 204
    problem(world.client.get(url), 404)
    assert world.client.get(url, headers=world.auth("admin")).json()["properties"]["deleted_at"]
    problem(world.client.post(url + "/restore", headers=world.auth("volunteer")), 403)
    r = world.client.post(url + "/restore", headers=world.auth("admin"))
    assert r.status_code == 200 and world.client.get(url).status_code == 200


def test_batch_is_all_or_nothing_with_indexed_errors(world: World):
    good = [world.tree_in(code=f"T-B{i}", slot=i) for i in range(3)]
    bad = world.tree_in(code="T-B9", slot=3, variety="Durio")
    before = world.count("SELECT count(*) FROM durian_trees")
    body = problem(world.client.post(BASE + "/batch", json={"type": "FeatureCollection", "features": good + [bad]},
                                     headers=world.auth("volunteer")), 422)
    assert [e for e in body["errors"] if e["index"] == 3 and e["field"] == "variety"]
    assert world.count("SELECT count(*) FROM durian_trees") == before
    for f in good:
        f["id"] = str(uuid.uuid4())
    r = world.client.post(BASE + "/batch", json={"type": "FeatureCollection", "features": good}, headers=world.auth("volunteer"))
    assert r.status_code == 201 and r.json()["created"] == 3
    # The batch retried, plus one new feature: the three are returned as they are, one is created.
    extra = world.tree_in(code="T-B4", slot=4)
    r = world.client.post(BASE + "/batch", json={"type": "FeatureCollection", "features": good + [extra]}, headers=world.auth("volunteer"))
    assert r.status_code == 201 and (r.json()["created"], r.json()["existing"]) == (1, 3)
    assert world.count("SELECT count(*) FROM durian_trees") == before + 4
    too_many = {"type": "FeatureCollection", "features": [good[0]] * 5001}
    problem(world.client.post(BASE + "/batch", json=too_many, headers=world.auth("volunteer")), 422)


def test_batch_checks_name_the_feature_at_fault(world: World):
    before = world.count("SELECT count(*) FROM durian_trees")

    def batch(features, query=""):
        return world.client.post(BASE + "/batch" + query, json={"type": "FeatureCollection", "features": features},
                                 headers=world.auth("volunteer"))

    body = problem(batch([world.tree_in(code="T-SAME", slot=0), world.tree_in(code="T-SAME", slot=1)]), 422, field="code")
    assert "appears twice" in body["errors"][0]["reason"]
    existing = world.count("SELECT count(*) FROM durian_trees WHERE code = 'DL-EAKLY-0001-T0001'")
    assert existing == 1
    problem(batch([world.tree_in(code="T-NEW", slot=0), world.tree_in(code="DL-EAKLY-0001-T0001", slot=1)]), 409,
            contains="feature 1: code DL-EAKLY-0001-T0001 already belongs to asset")
    # Two trees of one batch about 1.1 m apart: the second is refused, naming the first.
    body = problem(batch([world.tree_in(code="T-N0", slot=2), world.tree_in(code="T-N1", slot=2, dx=0.00001)]), 409,
                   contains="feature 1: T-N0 is")
    assert body["index"] == 1 and body["nearby"]["code"] == "T-N0"
    body = problem(batch([world.tree_in(code="T-F0", slot=0), world.tree_in(code="T-F1", slot=1, farm_code="DL-NOWHERE-9")]),
                   422, field="farm_code")
    assert body["errors"] == [{"field": "farm_code", "reason": "no durian farm has code DL-NOWHERE-9", "index": 1}]
    far = world.tree_in(code="T-FAR", slot=1, province="Ninh Bình", commune="xã Đồng Hướng")
    problem(batch([world.tree_in(code="T-IN", slot=0), far]), 403, contains="feature 1: geometry: outside the working area")
    assert world.count("SELECT count(*) FROM durian_trees") == before  # nothing of any refused batch was written


def test_history_records_every_change(world: World):
    fid, tag = _create(world, code="T-HIST", health="khoe")
    url = f"{BASE}/{fid}"
    world.client.patch(url, json={"properties": {"health": "sau_benh"}}, headers={**world.auth("volunteer"), "If-Match": tag})
    world.client.patch(url, json={"properties": {"last_yield_kg": 85.5}}, headers={**world.auth("farmer"), "If-Match": '"v2"'})
    world.client.post(url + "/review", json={"state": "approved"}, headers=world.auth("admin"))
    world.client.delete(url, headers={**world.auth("admin"), "If-Match": '"v4"'})
    entries = world.client.get(url + "/history", headers=world.auth("admin")).json()
    assert [(e["version"], e["action"], e["actor"]) for e in entries] == [
        (1, "create", "vol"), (2, "update", "vol"), (3, "update", "farmer"), (4, "review", "admin"), (5, "delete", "admin"),
    ]
    assert entries[0]["changes"]["code"] == {"old": None, "new": "T-HIST"}
    assert entries[1]["changes"] == {"health": {"old": "khoe", "new": "sau_benh"}}
    assert entries[2]["changes"] == {"last_yield_kg": {"old": None, "new": 85.5}}
    assert entries[3]["changes"]["review_state"] == {"old": "received", "new": "approved"}


def test_the_public_reads_who_changed_an_asset_as_a_role_not_an_account(world: World):
    """An account name is often a person's name or phone number: the public (and farmers) read the
    role behind a change; team members and administrators read the account."""
    fid, tag = _create(world, code="T-WHO", health="khoe")  # by the volunteer account "vol"
    url = f"{BASE}/{fid}"
    r = world.client.patch(url, json={"properties": {"last_yield_kg": 40.0}}, headers={**world.auth("farmer"), "If-Match": tag})
    assert r.status_code == 200, r.text
    for who in (None, "farmer"):
        headers = world.auth(who) if who else {}
        assert [e["actor"] for e in world.client.get(url + "/history", headers=headers).json()] == ["volunteer", "farmer"]
        props = world.client.get(url, headers=headers).json()["properties"]
        assert "created_by" not in props and "updated_by" not in props and props["version"] == 2
    assert [e["actor"] for e in world.client.get(url + "/history", headers=world.auth("admin")).json()] == ["vol", "farmer"]
    assert world.client.get(url, headers=world.auth("volunteer")).json()["properties"]["created_by"] == "vol"
    page = world.client.get("/a/T-WHO").text
    assert "· tình nguyện viên · tạo" in page and "· chủ vườn · sửa" in page and "· vol ·" not in page


def test_a_loaded_trees_creation_is_its_file_values_under_later_edits(world: World):
    """A load writes no history row for the trees it creates; their creation is rebuilt from the
    row, with every later edit's old value put back (the geometry's too)."""
    tree = next(t for t in sample_features("durian_trees") if t["properties"]["farm_id"] == world.farm["id"])
    url = f"{BASE}/{tree['id']}"
    assert world.count(f"SELECT count(*) FROM asset_history WHERE asset_id = '{tree['id']}'") == 0
    current = world.client.get(url)
    lon, lat = tree["geometry"]["coordinates"]
    moved = {"type": "Point", "coordinates": [lon + 0.00002, lat]}
    health = "chet" if tree["properties"]["health"] != "chet" else "khoe"
    r = world.client.patch(url, json={"geometry": moved, "properties": {"health": health, "height_m": 3.25}},
                           headers={**world.auth("admin"), "If-Match": current.headers["ETag"]})
    assert r.status_code == 200, r.text
    entries = world.client.get(url + "/history", headers=world.auth("admin")).json()
    assert [(e["version"], e["action"]) for e in entries] == [(1, "create"), (2, "update")]
    created = entries[0]["changes"]
    assert created["health"] == {"old": None, "new": tree["properties"]["health"]}
    assert created["height_m"] == {"old": None, "new": tree["properties"]["height_m"]}
    assert created["code"] == {"old": None, "new": tree["properties"]["code"]}
    assert created["geom"]["new"]["coordinates"] == pytest.approx([lon, lat])
    assert entries[0]["actor"] == "test"
    assert entries[1]["changes"]["health"] == {"old": tree["properties"]["health"], "new": health}
    public = world.client.get(url + "/history").json()  # the public sees the rebuilt creation too, without private fields
    assert public[0]["action"] == "create" and public[0]["changes"]["code"]["new"] == tree["properties"]["code"]


def test_list_filters_search_and_paging(world: World):
    c = world.client
    sick = c.get(BASE, params={"health": "sau_benh", "limit": 1000}).json()
    assert sick["features"] and all(f["properties"]["health"] == "sau_benh" for f in sick["features"])
    farm = c.get(BASE, params={"farm_id": world.farm["id"], "variety": "Ri6,monthong", "planting_year_min": 2015, "limit": 1000}).json()
    assert farm["features"] and all(
        f["properties"]["farm_id"] == world.farm["id"] and f["properties"]["variety"] in ("ri6", "monthong")
        and f["properties"]["planting_year"] >= 2015 for f in farm["features"])
    wifi = c.get("/api/v1/layers/wifi_points/features", params={"q": "Dong Huong"}).json()
    assert [f["properties"]["commune"] for f in wifi["features"]] == ["xã Đồng Hướng"]
    assert c.get("/api/v1/layers/wifi_points/features", params={"commune": "XA DONG HUONG"}).json()["numberReturned"] == 1
    seen, url, pages = set(), BASE + "?limit=400&commune=xã Ea Kly", 0
    while url:
        page = c.get(url).json()
        ids = [f["id"] for f in page["features"]]
        assert not seen & set(ids)
        seen |= set(ids)
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        pages += 1
    assert len(seen) == world.count("SELECT count(*) FROM durian_trees WHERE commune = 'xã Ea Kly'") and pages > 1
    box = c.get(BASE, params={"bbox": "108.29,12.70,108.32,12.73", "limit": 5}).json()
    assert all(108.29 <= f["geometry"]["coordinates"][0] <= 108.32 for f in box["features"])
    problem(c.get(BASE, params={"limit": 5000}), 422, "limit")
    problem(c.get(BASE, params={"colour": "red"}), 422, "colour")
    problem(c.get(BASE, params={"health": "happy"}), 422, "health")
    problem(c.get(BASE, params={"bbox": "1,2,3"}), 422, "bbox")
    problem(c.get(BASE, params={"cursor": "garbage!"}), 422, "cursor")


def test_a_ranked_search_puts_what_was_typed_whole_first(world: World):
    """``sort=relevance``: "sầu riêng số 1" finds farm number 1 before 10–19 (all of them match),
    a tree's code typed in lower case finds that tree first, whatever the id order."""
    c = world.client
    farms = c.get("/api/v1/layers/farms/features", params={"q": "sầu riêng số 1", "sort": "relevance", "limit": 5}).json()
    names = [f["properties"]["name"] for f in farms["features"]]
    assert len(names) == 5 and names[0].startswith("Vườn sầu riêng số 1,") and all(" số 1" in n for n in names), names
    assert [link["rel"] for link in farms["links"]] == ["self"]  # one page
    plain = c.get("/api/v1/layers/farms/features", params={"q": "sau rieng so 1", "limit": 100}).json()
    assert len(plain["features"]) == 11  # 1 and 10-19: the same matches, in id order
    tree = sample_features("durian_trees")[41]["properties"]
    found = c.get(BASE, params={"q": f" {tree['code'].lower()} ", "sort": "relevance", "limit": 3}).json()["features"]
    assert found[0]["properties"]["code"] == tree["code"] and found[0]["searchRank"] == 0  # spaces around: the same
    assert "searchRank" not in c.get(BASE, params={"q": tree["code"]}).json()["features"][0]  # only when ranked
    for odd in ("số 1+", "(", "a\\", "[x", "x{2"):  # the words are matched as text, never as a pattern
        assert c.get(BASE, params={"q": odd, "sort": "relevance"}).json()["features"] == []
    problem(c.get(BASE, params={"q": "x", "sort": "newest"}), 422, "sort")
    problem(c.get(BASE, params={"sort": "relevance"}), 422, "sort")
    problem(c.get(BASE, params={"q": "x", "sort": "relevance", "cursor": "abc"}), 422, "sort")


def test_nearby_and_farm_summary(world: World):
    p = world.farm["geometry"]["coordinates"][0][0][0]
    r = world.client.get("/api/v1/nearby", params={"lon": p[0], "lat": p[1], "radius_m": 300, "layers": "durian_trees", "limit": 5})
    feats = r.json()["features"]
    assert len(feats) == 5
    d = [f["properties"]["distance_m"] for f in feats]
    assert d == sorted(d) and d[-1] <= 300
    problem(world.client.get("/api/v1/nearby", params={"lon": 12.7, "lat": 108.3}), 422, "lon", "swapped")
    s = world.client.get(f"/api/v1/farms/{world.farm['id']}/summary").json()
    n = world.count(f"SELECT count(*) FROM durian_trees WHERE farm_id = '{world.farm['id']}'")
    assert s["trees"] == n == sum(s["by_variety"].values()) == sum(s["by_health"].values()) == sum(s["by_age"].values())
    assert s["trees_per_ha"] == pytest.approx(n / s["area_ha"], rel=0.01)
    assert "owner_phone" not in s["farm"]["properties"]
