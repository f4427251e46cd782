"""Open311 GeoReport v2 at /open311/v2, checked against the shapes of the specification's examples
(wiki.open311.org/GeoReport_v2): services, definitions, requests GET/POST, errors, discovery, XML.

The PyPI client ``open311`` (1.1, 2011) is Python 2 only (implicit relative imports, urllib2) and
asks for ``service/{code}`` instead of the spec's ``services/{code}``, so it cannot be used here."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from tests.reports.helpers import EMAIL, NAME, PHONE, REPORTS, jpeg_with_gps
from tests.world import World

O = "/open311/v2"
#: Keys every service / service request of the specification's examples has.
SERVICE_KEYS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_KEYS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
                "address", "address_id", "zipcode", "lat", "long", "media_url"}


def _post(world: World, **form):
    data = {"jurisdiction_id": "geomap.vn", "service_code": "wifi_points.mat_ket_noi", "lat": "20.06", "long": "106.05",
            "attribute[asset_code]": "NB-WIFI-001", "description": "Mất wifi ở nhà văn hóa", "email": EMAIL,
            "phone": PHONE, "first_name": "Trần Thị", "last_name": "Báo Cáo", "device_id": "open311-device-0001"}
    data.update(form)
    return world.client.post(f"{O}/requests.json", data={k: v for k, v in data.items() if v is not None})


def test_services_and_definition(world: World):
    services = world.client.get(f"{O}/services.json", params={"jurisdiction_id": "geomap.vn"}).json()
    assert all(set(s) == SERVICE_KEYS for s in services)
    wifi = next(s for s in services if s["service_code"] == "wifi_points.mat_ket_noi")
    assert wifi["service_name"] == "Điểm wifi công cộng: Mất kết nối" and wifi["type"] == "realtime"
    assert {"durian_trees.sau_benh", "border_markers.hu_hong", "heritage_sites.khac"} <= {s["service_code"] for s in services}
    definition = world.client.get(f"{O}/services/wifi_points.mat_ket_noi.json").json()
    assert definition["service_code"] == "wifi_points.mat_ket_noi"
    assert [(a["code"], a["datatype"], a["required"], a["variable"]) for a in definition["attributes"]] == [
        ("asset_code", "string", False, True)]
    xml = ET.fromstring(world.client.get(f"{O}/services.xml").content)
    assert xml.tag == "services" and xml.find("service/service_code").text == services[0]["service_code"]


def test_post_then_follow_the_status(world: World):
    r = _post(world)
    assert r.status_code == 201, r.text
    [created] = r.json()
    rid = created["service_request_id"]
    assert created["token"] and "Đã nhận" in created["service_notice"]
    # not listed until the team publishes it
    assert world.client.get(f"{O}/requests/{rid}.json").status_code == 404
    nb = world.auth("other_volunteer")
    world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "in_progress"}, headers=nb)
    [req] = world.client.get(f"{O}/requests/{rid}.json").json()
    assert REQUEST_KEYS <= set(req)
    assert (req["status"], req["service_code"], req["lat"], req["long"]) == ("open", "wifi_points.mat_ket_noi", 20.06, 106.05)
    assert req["status_notes"].startswith("Đang xử lý") and req["extended_attributes"]["geomap_state"] == "in_progress"
    assert req["address_id"] == "NB-WIFI-001"
    world.client.post(f"{REPORTS}/{rid}/transition", json={"state": "rejected", "public_reason": "Nhầm điểm"}, headers=nb)
    [req] = world.client.get(f"{O}/requests.json", params={"service_request_id": rid}).json()
    assert req["status"] == "closed" and req["status_notes"] == "Từ chối (Rejected): Nhầm điểm"
    for leak in (PHONE, EMAIL, NAME, "Trần Thị"):
        assert leak not in world.client.get(f"{O}/requests.json").text
        assert leak not in world.client.get(f"{O}/requests/{rid}.xml").text
    assert world.client.get(f"{O}/tokens/{created['token']}.json").json() == [{"service_request_id": rid,
                                                                              "token": created["token"]}]


def test_requests_filters(world: World):
    admin = world.auth("admin")
    ids = []
    for code, form in (("wifi_points.mat_ket_noi", {}), ("wifi_points.cham", {}),
                       ("heritage_sites.bien_qr_hong", {"attribute[asset_code]": "NB-NONNUOC", "lat": None, "long": None})):
        r = _post(world, service_code=code, device_id=f"dev-filter-{len(ids)}-x", **form)
        assert r.status_code == 201, r.text
        ids.append(r.json()[0]["service_request_id"])
        world.client.post(f"{REPORTS}/{ids[-1]}/visibility", json={"visible": True}, headers=admin)
    world.client.post(f"{REPORTS}/{ids[1]}/transition", json={"state": "fixed"}, headers=admin)
    get = lambda **p: [r["service_request_id"] for r in world.client.get(f"{O}/requests.json", params=p).json()]  # noqa: E731
    assert sorted(get()) == sorted(ids)
    assert get(service_code="wifi_points.cham") == [ids[1]]
    assert sorted(get(status="open")) == sorted([ids[0], ids[2]]) and get(status="closed") == [ids[1]]
    assert sorted(get(status="open,closed")) == sorted(ids)
    assert get(service_request_id=f"{ids[0]},{ids[2]}") and sorted(get(service_request_id=f"{ids[0]},{ids[2]}")) == sorted(
        [ids[0], ids[2]])
    assert get(start_date="2099-01-01T00:00:00Z") == []
    assert sorted(get(start_date="2020-01-01T00:00:00Z", end_date="2099-01-01T00:00:00+07:00")) == sorted(ids)
    xml = ET.fromstring(world.client.get(f"{O}/requests.xml", params={"service_code": "wifi_points.cham"}).content)
    assert xml.tag == "service_requests" and xml.find("request/status").text == "closed"


def test_errors_in_open311_format(world: World):
    def error(r, status: int, needle: str):
        assert r.status_code == status, r.text
        body = r.json()
        assert isinstance(body, list) and body[0]["code"] == status and needle in " ".join(e["description"] for e in body)

    error(_post(world, service_code="wifi_points.khong_co"), 422, "category")
    error(_post(world, service_code=None), 422, "service_code")
    error(_post(world, lat="48.85", long="2.35", **{"attribute[asset_code]": None}), 422, "outside Vietnam")
    error(_post(world, lat="abc"), 422, "lat")
    error(world.client.get(f"{O}/requests.json", params={"status": "pending"}), 422, "status")
    error(world.client.get(f"{O}/requests.json", params={"start_date": "hôm qua"}), 422, "start_date")
    error(world.client.get(f"{O}/services/khong.co.json"), 404, "service")
    error(world.client.get(f"{O}/requests/00000000-0000-0000-0000-000000000000.json"), 404, "report")
    error(world.client.get(f"{O}/nothing.json"), 404, "Not Found")
    xml = world.client.get(f"{O}/services/khong.co.xml")
    assert xml.status_code == 404 and ET.fromstring(xml.content).find("error/code").text == "404"
    assert world.count("SELECT count(*) FROM reports") == 0


def test_upload_media_and_media_url(world: World):
    big = jpeg_with_gps((2400, 1800))
    big += b"\0" * (2 * 1024 * 1024 - len(big))  # a phone photo of 2 MiB (trailing bytes after the JPEG end)
    r = world.client.post(f"{O}/requests.json", data={"service_code": "wifi_points.mat_ket_noi",
                                                     "attribute[asset_code]": "NB-WIFI-002", "description": "Hỏng"},
                          files={"media": ("a.jpg", big, "image/jpeg")})
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    world.client.post(f"{REPORTS}/{rid}/visibility", json={"visible": True}, headers=world.auth("admin"))
    [req] = world.client.get(f"{O}/requests/{rid}.json").json()
    assert req["media_url"].startswith("http") and "/api/v1/reports/" in req["media_url"]
    bad = world.client.post(f"{O}/requests.json", data={"service_code": "wifi_points.cham", "attribute[asset_code]": "NB-WIFI-003"},
                            files={"media": ("a.jpg", b"GIF89a not a jpeg", "image/jpeg")})
    assert bad.status_code == 422 and "file" in bad.json()[0]["description"]
    assert world.count("SELECT count(*) FROM reports") == 1  # the report with a bad photo was not half-written
    r = _post(world, service_code="heritage_sites.xuong_cap", **{"attribute[asset_code]": "NB-NONNUOC", "lat": None,
                                                                 "long": None}, media_url="https://example.vn/anh.jpg")
    assert r.status_code == 201


def test_post_as_json(world: World):
    r = world.client.post(f"{O}/requests.json", json={"service_code": "heritage_sites.rac_thai", "description": "Rác",
                                                      "attribute": {"asset_code": "NB-NONNUOC"}, "email": EMAIL})
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    world.client.post(f"{REPORTS}/{rid}/visibility", json={"visible": True}, headers=world.auth("admin"))
    [req] = world.client.get(f"{O}/requests/{rid}.json").json()
    assert req["address_id"] == "NB-NONNUOC" and (req["lat"], req["long"]) == (20.255, 105.98)
    bad = world.client.post(f"{O}/requests.xml", json=["not", "an", "object"])
    assert bad.status_code == 400 and ET.fromstring(bad.content).find("error/code").text == "400"


def test_discovery(world: World):
    d = world.client.get(f"{O}/discovery.json").json()
    [endpoint] = d["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2" and endpoint["url"].endswith("/open311/v2")
    assert "application/json" in endpoint["formats"]
    assert ET.fromstring(world.client.get(f"{O}/discovery.xml").content).tag == "discovery"
