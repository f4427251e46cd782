"""The field app's "Việc của tôi" lists the citizen reports of the volunteer's own team (read
only), each with a link that opens its place on the map."""

from __future__ import annotations

from playwright.sync_api import expect, sync_playwright

from tests.conftest import sample_features
from tests.field.conftest import ARTIFACTS, Phone, launch
from tests.field.test_offline_capture import sign_in_with_token
from tests.world import World


def _report(world: World, **body) -> dict:
    made = world.client.post("/api/v1/reports", json=body)
    assert made.status_code == 201, made.text
    return made.json()["report"]


def test_my_work_lists_my_teams_open_reports_and_opens_them_on_the_map(live, world: World):
    wifi = _report(world, category="wifi_points.mat_ket_noi", asset_code="NB-WIFI-001",
                   description="Wifi mất từ sáng", reporter_phone="+84 912 345 678")
    tree = next(t for t in sample_features("durian_trees") if t["properties"]["farm_id"] == world.farm["id"])
    _report(world, category="durian_trees.do_nga", asset_code=tree["properties"]["code"])  # another team's
    lon, lat = wifi["location"]["lon"], wifi["location"]["lat"]
    with sync_playwright() as p:
        browser = launch(p)
        phone = Phone(browser, live, lon, lat)
        page = phone.page
        sign_in_with_token(page, live, world.tokens["other_volunteer"])
        page.click("[data-tab=work]")
        mine = page.locator("#list-reports li.report")
        expect(page.locator("#my-reports")).to_have_attribute("data-loaded", "1")
        expect(mine).to_have_count(1)
        expect(mine).to_contain_text("Mất kết nối · NB-WIFI-001")
        expect(mine.locator(".state")).to_have_text("Mới tiếp nhận")
        expect(mine).not_to_contain_text("+84 912")  # the list shows no contact
        assert page.evaluate("[...document.querySelectorAll('#my-reports a, #my-reports button')]"
                             ".every(e => e.getBoundingClientRect().height >= 44)")
        page.screenshot(path=str(ARTIFACTS / "field-my-reports-phone-vi.png"))
        mine.locator("a", has_text="Xem trên bản đồ").click()
        page.wait_for_url("**/#18/**")
        page.wait_for_function("window.geomap && window.geomap.map")
        center = page.evaluate("(() => { const c = geomap.map.getCenter(); return [c.lng, c.lat]; })()")
        assert abs(center[0] - lon) < 1e-4 and abs(center[1] - lat) < 1e-4
        assert phone.errors == [], phone.errors
        browser.close()


def test_my_work_in_english_and_nothing_for_a_farmer(live, world: World):
    _report(world, category="wifi_points.cham", asset_code="NB-WIFI-001")
    with sync_playwright() as p:
        browser = launch(p)
        phone = Phone(browser, live, 105.9, 20.2)
        page = phone.page
        page.goto(live + "/field?lang=en")
        page.fill("#signin-form input[name=token]", world.tokens["other_volunteer"])
        page.click("#signin-form button[type=submit]")
        page.click("[data-tab=work]")
        expect(page.locator("#my-reports h2")).to_have_text("Citizen reports for my team")
        expect(page.locator("#list-reports li.report")).to_contain_text(["Slow connection · NB-WIFI-001"])
        page.screenshot(path=str(ARTIFACTS / "field-my-reports-phone-en.png"))
        page.click("#signout")
        expect(page.locator("#signin-form")).to_be_visible()  # signed out on the phone before leaving the page
        sign_in_with_token(page, live, world.tokens["farmer"])
        page.click("[data-tab=work]")
        expect(page.locator("#list-queue")).to_be_attached()
        expect(page.locator("#my-reports")).to_have_count(0)  # farmers have no team queue
        assert phone.errors == [], phone.errors
        browser.close()
