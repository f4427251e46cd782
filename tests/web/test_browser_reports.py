"""A citizen reports a broken wifi point from a phone, and the team handles it, in Chromium:
scan the QR → asset page → "Báo sự cố" → form with a photo → follow page ("Mới tiếp nhận");
a team member moves it on the queue page → the follow page shows the new state. In Vietnamese
and English, at 390×844, failing on any page or console error."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from geomap.services.accounts import add_user
from tests.reports.helpers import EMAIL, NAME, PHONE, jpeg_with_gps
from tests.web.browser import open_context, pixels_of, shot, small_tap_targets, small_text, watch, zoom_allowed
from tests.world import PASSWORD, World

pytestmark = pytest.mark.browser
CODE = "NB-WIFI-001"
TEXT = {
    "vi": {"button": "Báo sự cố", "category": "Mất kết nối", "open": "Mới tiếp nhận", "thanks": "Cảm ơn bạn",
           "copied": "Đã sao chép", "send": "Gửi báo cáo", "progress": "Đang xử lý", "sign_in": "Đăng nhập",
           "updated": "Đã cập nhật", "reason": "Tổ đang thay bộ phát wifi", "required": "Hãy chọn loại sự cố.", "chosen": "Đã chọn 1 ảnh."},
    "en": {"button": "Report a problem", "category": "No connection", "open": "Open — received",
           "thanks": "Thank you", "copied": "Copied", "send": "Send the report", "progress": "In progress",
           "sign_in": "Sign in", "updated": "Updated", "reason": "The team is replacing the router",
           "required": "Choose what is wrong.", "chosen": "1 photo(s) chosen."},
}


def _looks_right(page, seen, name: str) -> None:
    assert zoom_allowed(page)
    assert small_tap_targets(page) == [], name
    assert small_text(page) == [], name
    shot(page, name)
    seen.check()


def _scan_qr(page, live: str) -> str:
    """Read the asset page's QR code the way a phone camera would (from a screenshot of it)."""
    path = shot(page.locator("#qr svg"), "reports-qr")
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(path))]
    assert found == [f"{live}/a/{CODE}"]
    return found[0]


def _report(page, seen, lang: str, tmp_path) -> str:
    """From the asset page, send a report with a photo; return the follow link."""
    words = TEXT[lang]
    page.locator("#report-button", has_text=words["button"]).click()
    page.wait_for_url(f"**/a/{CODE}/report*")
    expect(page.locator("#category option")).to_contain_text([words["category"]])
    _looks_right(page, seen, f"report-form-phone-{lang}")
    page.locator("button.send").click()  # no category chosen: the browser keeps the form, nothing is sent
    assert page.evaluate("document.getElementById('category').validity.valueMissing")
    photo = tmp_path / "wifi.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.select_option("#category", label=words["category"])
    page.fill("#description", "Wifi ở nhà văn hóa xóm 4 mất kết nối từ sáng")
    page.set_input_files("#photos", str(photo))
    expect(page.locator("#photo-count")).to_have_text(words["chosen"])
    page.fill("#reporter_name", NAME)
    page.fill("#reporter_phone", PHONE)
    page.fill("#reporter_email", EMAIL)
    page.locator("button.send", has_text=words["send"]).click()
    page.wait_for_url("**/r/**")
    expect(page.locator(".notice")).to_contain_text(words["thanks"])
    expect(page.locator("#report-state")).to_have_text(words["open"])
    expect(page.locator(".photos img")).to_have_count(1)
    assert page.locator(".photos img").evaluate("img => img.complete && img.naturalWidth > 0")
    body = page.locator("main").inner_text()
    assert NAME not in body and PHONE not in body and EMAIL not in body
    link = page.locator("#follow-url").get_attribute("href")
    page.locator("#copy-link").click()
    expect(page.locator("#copy-status")).to_have_text(words["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == link.split("?")[0]
    return link


def _handle(chromium, live: str, lang: str) -> None:
    """A team member signs in, finds the report on the queue page and starts work on it."""
    words = TEXT[lang]
    context = open_context(chromium, live, "phone", lang)
    page = context.new_page()
    seen = watch(page, live)
    seen.allowed.append("401")  # the queue asks for sign-in with a 401 page
    page.goto(f"{live}/reports/queue" + ("?lang=en" if lang == "en" else ""), wait_until="networkidle")
    page.locator("main a.button", has_text=words["sign_in"]).click()
    page.fill("input[name=username]", "nb_lead")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url("**/reports/queue*")
    card = page.locator(".report-card", has_text=CODE)
    expect(card).to_have_count(1)
    expect(card.locator(".reporter")).to_contain_text(PHONE)  # the owning team sees the contact
    card.locator("select[name=state]").select_option("in_progress")
    card.locator("textarea[name=public_reason]").fill(words["reason"])
    card.locator("button[type=submit]").click()
    page.wait_for_url("**/reports/queue?done=in_progress*")
    expect(card.locator(".notice")).to_contain_text(words["updated"])  # said on the card just changed
    expect(card.locator(".state")).to_have_text(words["progress"])
    seen.allowed.clear()
    _looks_right(page, seen, f"report-queue-phone-{lang}")
    page.goto(f"{live}/a/{CODE}" + ("?lang=en" if lang == "en" else ""), wait_until="networkidle")
    page.locator("a.queue-link").click()  # a team member finds the queue from any page
    page.wait_for_url("**/reports/queue*")
    expect(page.locator(".report-card")).to_have_count(1)
    seen.check()
    context.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_scan_report_follow_and_the_team_handles_it(chromium, live, world: World, lang: str, tmp_path):
    with world.engine.begin() as conn:
        add_user(conn, "nb_lead", "volunteer", team_code="NB-DOANTN-01", password=PASSWORD)
    words = TEXT[lang]
    context = open_context(chromium, live, "phone", lang)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live)
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/a/{CODE}" + ("?lang=en" if lang == "en" else ""), wait_until="networkidle")
    page.goto(_scan_qr(page, live), wait_until="networkidle")
    expect(page.locator("#report-button")).to_be_visible()
    _looks_right(page, seen, f"report-asset-phone-{lang}")
    follow = _report(page, seen, lang, tmp_path)
    _looks_right(page, seen, f"report-follow-phone-{lang}")
    assert world.count("SELECT count(*) FROM report_photos") == 1

    _handle(chromium, live, lang)

    page.goto(follow, wait_until="networkidle")
    expect(page.locator("#report-state")).to_have_text(words["progress"])
    expect(page.locator(".reason")).to_have_text(words["reason"])
    expect(page.locator(".report-history li")).to_have_count(2)
    expect(page.locator(".report-history li").last).to_contain_text(words["reason"])
    _looks_right(page, seen, f"report-follow-progress-phone-{lang}")
    page.goto(f"{live}/a/{CODE}" + ("?lang=en" if lang == "en" else ""), wait_until="networkidle")
    expect(page.locator("#asset-reports li")).to_contain_text([words["progress"]])
    page.locator("#asset-reports").scroll_into_view_if_needed()
    _looks_right(page, seen, f"report-asset-list-phone-{lang}")
    context.close()


def _public_report(world: World) -> dict:
    """A wifi outage reported through the API and acknowledged by its team (so it is public)."""
    made = world.client.post("/api/v1/reports", json={"category": "wifi_points.mat_ket_noi", "asset_code": CODE,
                                                      "reporter_phone": PHONE})
    assert made.status_code == 201, made.text
    report = made.json()["report"]
    moved = world.client.post(f"/api/v1/reports/{report['id']}/transition", json={"state": "acknowledged"},
                              headers=world.auth("other_volunteer"))
    assert moved.status_code == 200, moved.text
    return report


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_map_shows_open_reports_and_a_tap_offers_the_nearest_assets(chromium, live, world: World, lang: str):
    report = _public_report(world)
    lon, lat = report["location"]["lon"], report["location"]["lat"]
    context = open_context(chromium, live, "phone", lang)
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/{'?lang=en' if lang == 'en' else ''}#18/{lat}/{lon}", wait_until="networkidle")
    expect(page.locator("path.geomap-report")).to_have_count(0)  # the layer is optional: off at first
    page.click("#menu")
    page.locator("#reports-toggle").check()
    expect(page.locator("#map")).to_have_attribute("data-reports", "1")
    page.click("#sheet-close")
    marker = page.locator("path.geomap-report")
    expect(marker).to_have_count(1)
    marker.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(TEXT[lang]["category"])
    expect(page.locator(".leaflet-popup-content a")).to_have_text(f"{CODE} →")
    page.keyboard.press("Escape")
    def tap_east(degrees: float) -> None:
        x, y = page.evaluate("([lat, lon]) => { const p = geomap.map.latLngToContainerPoint([lat, lon]);"
                             " const r = geomap.map.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
                             [lat, lon + degrees])
        page.mouse.click(x, y)

    # A tap about 65 m away finds nothing within 50 m, so the search widens to 500 m.
    tap_east(0.0006)
    page.locator("button.report-here").click()
    expect(page.locator("a.near-asset", has_text=CODE)).to_have_count(1)
    page.keyboard.press("Escape")
    # Tap an empty spot about 15 m east of the wifi point.
    tap_east(0.00014)
    here = page.locator("button.report-here")
    expect(here).to_have_text("Báo sự cố tại đây" if lang == "vi" else "Report a problem here")
    here.click()
    nearest = page.locator("a.near-asset")
    expect(nearest.first).to_contain_text(CODE)
    assert page.locator(".report-here-popup").evaluate("p => [...p.querySelectorAll('a, button')].every("
                                                   "e => e.getBoundingClientRect().height >= 44)")
    assert small_text(page) == []
    shot(page, f"report-map-here-phone-{lang}")
    nearest.first.click()
    page.wait_for_url(f"**/a/{CODE}/report*")
    expect(page.locator("h1")).to_have_text(TEXT[lang]["button"])
    seen.check()
    context.close()


ERRORS = {
    "vi": {"other": "Khác", "four": "Chỉ gửi được tối đa 3 ảnh.", "description": "bắt buộc khi chọn “Khác”",
           "phone": "Số điện thoại không hợp lệ", "top": "Chưa gửi được", "again": "hãy chọn lại ảnh"},
    "en": {"other": "Other", "four": "At most 3 photos can be sent.", "description": "needed for “Other”",
           "phone": "That is not a phone number", "top": "Not sent yet", "again": "choose them again"},
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_form_mistakes_come_back_as_plain_messages(chromium, live, world: World, lang: str, tmp_path):
    words = ERRORS[lang]
    context = open_context(chromium, live, "phone", lang)
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/a/{CODE}/report" + ("?lang=en" if lang == "en" else ""), wait_until="networkidle")
    photos = []
    for i in range(4):
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(jpeg_with_gps((60, 40)))
        photos.append(str(path))
    page.set_input_files("#photos", photos)
    expect(page.locator("#photos-error")).to_have_text(words["four"])
    page.select_option("#category", label=words["other"])
    page.fill("#reporter_phone", "gọi cho tôi")
    page.locator("button.send").click()  # four photos: the page keeps the form and says why
    expect(page.locator("#photos-error")).to_be_visible()
    assert world.count("SELECT count(*) FROM reports") == 0
    page.set_input_files("#photos", photos[:1])
    expect(page.locator("#photos-error")).to_be_hidden()
    seen.allowed.append("422")  # the server answers the form with its messages
    page.locator("button.send").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".form-message")).to_contain_text(words["top"])
    expect(page.locator("#description-error")).to_contain_text(words["description"])
    expect(page.locator("#reporter_phone ~ .field-error").first).to_contain_text(words["phone"])
    expect(page.locator("#reporter_phone")).to_have_value("gọi cho tôi")  # what was typed is kept
    expect(page.locator("#photos-again")).to_contain_text(words["again"])  # the one photo must be chosen again
    page.fill("#description", "x" * 1990)
    expect(page.locator("#description-count")).to_contain_text("1990/2")
    assert "problem+json" not in page.content() and '"errors"' not in page.content()
    assert world.count("SELECT count(*) FROM reports") == 0
    seen.allowed.clear()
    _looks_right(page, seen, f"report-form-errors-phone-{lang}")
    context.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_reporting_a_known_problem_says_thanks_for_confirming(chromium, live, world: World, lang: str):
    made = world.client.post("/api/v1/reports", json={"category": "wifi_points.mat_ket_noi", "asset_code": CODE})
    assert made.status_code == 201
    context = open_context(chromium, live, "phone", lang)
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/a/{CODE}/report" + ("?lang=en" if lang == "en" else ""), wait_until="networkidle")
    page.select_option("#category", value="cham")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#similar")).to_be_hidden()  # nobody reported a slow connection
    page.select_option("#category", label=TEXT[lang]["category"])
    expect(page.locator("#similar")).to_be_visible()
    expect(page.locator("#similar")).to_contain_text({"vi": "đã được báo (1 lượt)", "en": "already been reported (1×)"}[lang])
    expect(page.locator("#similar")).to_contain_text({"vi": "riêng ảnh thì không được gửi kèm", "en": "photos are not added"}[lang])
    page.locator("button.send").click()
    page.wait_for_url("**/r/**")
    thanks = {"vi": "Sự cố này đã được báo — cảm ơn bạn đã xác nhận",
              "en": "This problem was already reported — thank you for confirming"}[lang]
    expect(page.locator(".notice")).to_have_text(thanks)
    expect(page.locator("#report-state")).to_have_text(TEXT[lang]["open"])
    assert world.count("SELECT count(*) FROM reports") == 1
    assert world.count("SELECT interest_count FROM reports") == 2
    _looks_right(page, seen, f"report-me-too-phone-{lang}")
    context.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_problem_where_no_asset_is_reported_at_the_spot(chromium, live, world: World, lang: str):
    """A tap on the map far from any asset offers to report at the spot itself; the form shows the
    spot on a small map, its point can be dragged to where the problem is, and the report is sent there."""
    wifi = world.client.get(f"/api/v1/layers/wifi_points/features?q={CODE}").json()["features"][0]
    lon, lat = wifi["geometry"]["coordinates"]
    q = "?lang=en" if lang == "en" else ""
    context = open_context(chromium, live, "phone", lang)
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/{q}#17/{lat}/{lon + 0.01}", wait_until="networkidle")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("button.report-here").click()
    spot = page.locator("a.near-spot")
    expect(spot).to_have_text("Báo sự cố tại chính vị trí này" if lang == "vi" else "Report a problem at this very spot")
    assert spot.bounding_box()["height"] >= 44
    shot(page, f"report-spot-popup-phone-{lang}")
    spot.click()
    page.wait_for_url("**/report?lon=*", wait_until="networkidle")
    expect(page.locator("h1")).to_have_text("Báo sự cố tại một vị trí" if lang == "vi" else "Report a problem at a spot")
    marker = page.locator(".spot-marker")
    expect(marker).to_be_visible()
    png = shot(page.locator("#spot-map"), f"report-spot-map-phone-{lang}")
    assert pixels_of(png, ["#d50000"])["#d50000"] > 150  # the spot is drawn, a red point
    before = float(page.input_value("#spot-lon"))
    assert abs(before - (lon + 0.01)) < 1e-4
    m = marker.bounding_box()
    page.mouse.move(m["x"] + m["width"] / 2, m["y"] + m["height"] / 2)
    page.mouse.down()
    page.mouse.move(m["x"] + m["width"] / 2 + 60, m["y"] + m["height"] / 2, steps=6)
    page.mouse.up()
    expect(page.locator("#spot-where")).not_to_contain_text(f"{before:.5f}")
    moved = float(page.input_value("#spot-lon"))
    assert moved > before + 1e-5  # dragged east
    page.select_option("#category", "wifi_points.mat_ket_noi")
    page.fill("#description", "Cột wifi mới chưa có trên bản đồ, không vào được mạng")
    _looks_right(page, seen, f"report-spot-phone-{lang}")
    page.click("button.send")
    page.wait_for_url("**/r/**", wait_until="networkidle")
    expect(page.locator("main")).to_contain_text(TEXT[lang]["category"])
    assert world.count(f"SELECT count(*) FROM reports WHERE asset_id IS NULL AND abs(ST_X(geom) - {moved}) < 1e-6") == 1
    seen.check()
    context.close()


def test_what_was_typed_in_a_report_survives_switching_the_language(chromium, live, world: World):
    """A visitor half-way through the form taps the language link: the form comes back in the other
    language with the category, description and contact still filled in, once (a reload after that
    is a blank form); on the spot form too, at the point as the visitor moved it."""
    wifi = world.client.get(f"/api/v1/layers/wifi_points/features?q={CODE}").json()["features"][0]
    lon, lat = wifi["geometry"]["coordinates"]
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    for start, category, to in ((f"/a/{CODE}/report", "Mất kết nối", "en"), (f"/report?lon={lon + 0.01}&lat={lat}&lang=en", "No connection", "vi")):
        page.goto(live + start, wait_until="networkidle")
        if "lon=" in start:  # the point is moved by a tap on the small map: the switch keeps it there
            box = page.locator("#spot-map").bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
            moved = page.locator("#spot-lon").input_value(), page.locator("#spot-lat").input_value()
            assert float(moved[0]) > lon + 0.01
        page.select_option("#category", label=category)
        page.fill("#description", "Bộ phát wifi tắt từ sáng")
        page.fill("#reporter_name", NAME)
        page.fill("#reporter_phone", PHONE)
        page.locator("a.lang-switch").click()
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == to
        expect(page.locator("#description")).to_have_value("Bộ phát wifi tắt từ sáng")
        expect(page.locator("#reporter_name")).to_have_value(NAME)
        expect(page.locator("#reporter_phone")).to_have_value(PHONE)
        assert page.locator("#category").input_value() != ""
        expect(page.locator("#description-count")).to_contain_text("24/2")
        if "lon=" in start:
            kept = page.locator("#spot-lon").input_value(), page.locator("#spot-lat").input_value()
            assert [round(float(v), 6) for v in kept] == [round(float(v), 6) for v in moved]
        if to == "en":
            shot(page, "report-draft-kept-phone-en")
        page.reload(wait_until="networkidle")
        expect(page.locator("#description")).to_have_value("")
    assert world.count("SELECT count(*) FROM reports") == 0
    assert seen.errors == []
    context.close()
