"""A farm boundary captured on the phone: vertices tapped on the map and taken from the GPS,
undo, the live area in ha, sent as a MultiPolygon through the offline outbox, stored once."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.field.conftest import ARTIFACTS
from tests.field.test_offline_capture import sign_in_with_token, wait_for_service_worker
from tests.world import World


def test_an_offline_farm_boundary_arrives_once_as_a_multipolygon(phone, live, world: World):
    page = phone.page
    lon, lat = world.tree_in(slot=4)["geometry"]["coordinates"]
    phone.move(lon, lat)
    sign_in_with_token(page, live, world.tokens["volunteer"])
    wait_for_service_worker(page)
    page.click("button.layer[data-layer=farms]")
    expect(page.locator("#shape-tools")).to_be_visible()
    expect(page.locator("#place-on-map")).to_be_hidden()
    expect(page.locator("#gps-status.good")).to_be_visible()
    expect(page.locator("#map path.here")).to_have_count(1)
    phone.context.set_offline(True)

    page.click("#vertex-gps")  # walking the boundary: the first corner from the GPS
    expect(page.locator("#shape-status")).to_contain_text("1 đỉnh")
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((70, 0), (70, 70), (0, 70), (-50, 90)):
        page.mouse.click(cx + dx, cy + dy)
    expect(page.locator("#shape-status")).to_contain_text("5 đỉnh")
    page.click("#vertex-undo")
    expect(page.locator("#shape-status")).to_contain_text("4 đỉnh")
    status = page.locator("#shape-status").inner_text()
    area = float(status.split("·")[1].strip().split(" ")[0])
    assert 0.05 < area < 1.0, status  # about 40 m x 40 m at zoom 18
    page.fill("#f-code", "FIELD-FARM-1")
    page.fill("#f-name", "Vườn đo bằng điện thoại")
    page.fill("#f-owner_name", "Nguyễn Văn Ba")
    page.screenshot(path=str(ARTIFACTS / "field-farm-boundary.png"), full_page=True)
    page.click("#capture-form button[type=submit]")
    expect(page.locator("#capture-form")).to_be_hidden()
    assert world.count("SELECT count(*) FROM farms WHERE code = 'FIELD-FARM-1'") == 0

    phone.context.set_offline(False)
    page.click("[data-tab=work]")
    expect(page.locator("#list-today li.record[data-state=sent]")).to_have_count(1, timeout=20000)
    assert world.count("SELECT count(*) FROM farms WHERE code = 'FIELD-FARM-1' AND GeometryType(geom) = 'MULTIPOLYGON' "
                       "AND ST_NPoints(geom) = 5 AND ST_IsValid(geom) AND created_by = 'vol'") == 1
    stored = world.count("SELECT round(area_ha::numeric, 2) * 100 FROM farms WHERE code = 'FIELD-FARM-1'")
    assert abs(float(stored) / 100 - area) <= 0.02, (stored, area)
    assert phone.errors == []
