"""Privacy sweep: a reporter's name, phone and e-mail appear on no public surface — the reports
API (list, one, follow link, CSV), assets (features, history, downloads in every format), /ogc
collections and items, vector tiles, the asset page /a/{code}, and Open311 — nor to a volunteer
of another team. The owning team does see them (the sweep could fail)."""

from __future__ import annotations

from geomap.services.tiles import tile_of
from tests.reports.helpers import EMAIL, NAME, PHONE, REPORTS
from tests.world import World

PHONE2 = "0987 654 321"
LEAKS = (PHONE, PHONE.replace(" ", ""), "912345678", PHONE2, "987654321", EMAIL, NAME, "Báo Cáo", "Phạm Riêng Tư")


def _make_reports(world: World) -> list[dict]:
    made = []
    bodies = [
        {"category": "wifi_points.mat_ket_noi", "asset_code": "NB-WIFI-001", "description": "Mất wifi"},
        {"category": "heritage_sites.bien_qr_hong", "asset_code": "NB-NONNUOC", "description": "Biển QR gãy"},
        {"category": "wifi_points.khac", "lon": 106.2, "lat": 20.3, "description": "Cột wifi nghiêng"},
    ]
    for i, body in enumerate(bodies):
        r = world.client.post(REPORTS, json={**body, "reporter_name": NAME if i != 2 else "Phạm Riêng Tư",
                                             "reporter_phone": PHONE if i != 1 else PHONE2, "reporter_email": EMAIL,
                                             "device_id": f"privacy-device-{i:04d}"})
        assert r.status_code == 201, r.text
        made.append(r.json())
    admin = world.auth("admin")
    world.client.post(f"{REPORTS}/{made[0]['report']['id']}/transition", json={"state": "acknowledged"}, headers=admin)
    for m in made[1:]:
        world.client.post(f"{REPORTS}/{m['report']['id']}/visibility", json={"visible": True}, headers=admin)
    world.client.post(f"{REPORTS}/{made[1]['report']['id']}/transition",
                      json={"state": "closed", "public_reason": "Đã sửa biển"}, headers=admin)
    return made


def _public_urls(world: World, made: list[dict]) -> list[str]:
    wifi_id = world.client.get("/api/v1/layers/wifi_points/features", params={"q": "NB-WIFI-001"}).json()["features"][0]["id"]
    urls = [REPORTS, f"{REPORTS}/download", f"{REPORTS}/categories", f"{REPORTS}?state=open,acknowledged,closed"]
    for m in made:
        urls += [f"{REPORTS}/{m['report']['id']}", f"{REPORTS}/follow/{m['follow_token']}",
                 f"/open311/v2/requests/{m['report']['id']}.json", f"/open311/v2/requests/{m['report']['id']}.xml"]
    urls += ["/open311/v2/requests.json", "/open311/v2/requests.xml", "/open311/v2/services.json",
             f"/api/v1/layers/wifi_points/features/{wifi_id}", f"/api/v1/layers/wifi_points/features/{wifi_id}/history",
             "/api/v1/layers/wifi_points/features", "/api/v1/layers/heritage_sites/features", "/a/NB-WIFI-001",
             "/a/NB-NONNUOC", "/ogc/collections", "/ogc/collections/wifi_points/items?limit=100",
             "/ogc/collections/heritage_sites/items?limit=100&f=json", "/ogc/collections/wifi_points/items?f=html"]
    for layer in ("wifi_points", "heritage_sites"):
        urls += [f"/api/v1/layers/{layer}/download?format={f}" for f in ("geojson", "csv", "kml", "gpkg")]
        for z in (8, 15):
            x, y = tile_of(106.05, 20.06, z)
            urls.append(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    return urls


def test_no_contact_on_any_public_surface(world: World):
    made = _make_reports(world)
    checked = 0
    for url in _public_urls(world, made):
        for who in (None, "volunteer"):  # the public, and a volunteer of a team that does not own these reports
            r = world.client.get(url, headers=world.auth(who))
            assert r.status_code == 200, (url, r.status_code, r.text[:300])
            for leak in LEAKS:
                assert leak.encode() not in r.content, (url, who, leak)
            checked += 1
    assert checked >= 60
    # the sweep would see them: the owning team's view has them
    team = world.client.get(f"{REPORTS}/{made[0]['report']['id']}", headers=world.auth("other_volunteer"))
    assert PHONE in team.text and EMAIL in team.text and NAME in team.text
    queue = world.client.get(f"{REPORTS}/queue?all_states=true", headers=world.auth("admin")).text
    assert PHONE2 in queue and "Phạm Riêng Tư" in queue


def test_csv_neutralises_formulas(world: World):
    r = world.client.post(REPORTS, json={"category": "wifi_points.cham", "asset_code": "NB-WIFI-003",
                                         "description": '=HYPERLINK("http://x","bấm")', "reporter_phone": PHONE})
    rid = r.json()["report"]["id"]
    world.client.post(f"{REPORTS}/{rid}/visibility", json={"visible": True}, headers=world.auth("admin"))
    csv_text = world.client.get(f"{REPORTS}/download").text
    assert "'=HYPERLINK(" in csv_text and PHONE not in csv_text
    assert world.client.get(f"{REPORTS}/{rid}").json()["description"] == '=HYPERLINK("http://x","bấm")'
