"""The labels sheet as a farmer uses it: sign in, issue six codes with the form, get a sheet of just
those six (one A4 page when printed), each QR scanning to its own address."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.web.browser import open_context, shot, small_tap_targets, small_text, watch, zoom_allowed
from tests.world import PASSWORD, World

pytestmark = pytest.mark.browser


def test_farmer_issues_six_codes_and_prints_one_page_of_them(chromium, live, world: World):
    code = world.farm["properties"]["code"]
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/farms/{code}/labels", wait_until="networkidle")
    assert zoom_allowed(page)
    expect(page.locator(".warning")).to_contain_text("GEOMAP_PUBLIC_URL")  # QR codes would point at 127.0.0.1
    expect(page.locator("form.issue")).to_have_count(0)  # not signed in: no form
    page.locator(".controls a.button", has_text="Đăng nhập").click()
    page.fill("input[name=username]", "farmer")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(f"**/farms/{code}/labels")
    assert small_tap_targets(page) == [] and small_text(page) == []
    page.fill("form.issue input[name=count]", "6")
    page.locator("form.issue button").click()
    page.wait_for_load_state("networkidle")
    assert "first=" in page.url and "last=" in page.url
    expect(page.locator(".label")).to_have_count(6)
    codes = page.locator(".label .code").all_inner_texts()
    assert codes == [f"{code}-Q{i:04d}" for i in range(1, 7)]
    shot(page, "labels-new-phone-vi")
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # six labels fit one sticker sheet
    # Reloading the sheet issues nothing more.
    page.reload(wait_until="networkidle")
    assert world.count("SELECT count(*) FROM issued_codes") == 6
    page.set_viewport_size({"width": 1000, "height": 1400})
    path = shot(page, "labels-new-desktop-vi")
    found = {r.text for r in zxingcpp.read_barcodes(Image.open(path))}
    assert found == {f"{live}/a/{c}" for c in codes}
    seen.check()
    context.close()
