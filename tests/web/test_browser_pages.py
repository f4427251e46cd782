"""Every page at phone and desktop size, in Vietnamese and English: no page or console error,
zoom allowed, tap targets of 44 px, text of 16 px; the asset page's map draws its asset; errors
are pages in the page's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from geomap.layers.registry import get_layer
from tests.web.browser import open_context, pixels_of, shot, small_tap_targets, small_text, watch, zoom_allowed
from tests.world import World

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_asset_labels_login_and_error_pages_as_a_person_sees_them(chromium, live, world: World, size):
    code = world.farm["properties"]["code"]
    heritage = get_layer("heritage_sites")
    pages = {"asset": "/a/NB-NONNUOC", "farm-asset": f"/a/{code}", "labels": f"/farms/{code}/labels",
             "login": "/login", "unknown-farm": "/farms/NO-SUCH-FARM", "unregistered": "/a/NO-SUCH-CODE"}
    for lang in ("vi", "en"):
        context = open_context(chromium, live, size, lang)
        for name, path in pages.items():
            page = context.new_page()
            seen = watch(page, live)
            if name in ("unknown-farm", "unregistered"):
                seen.allowed.append("status of 404")
            response = page.goto(live + path, wait_until="networkidle")
            assert page.evaluate("document.documentElement.lang") == lang, name
            assert zoom_allowed(page), name
            assert small_tap_targets(page) == [], name
            assert small_text(page) == [], name
            if name == "asset":
                expect(page.locator("#asset-map .leaflet-interactive")).to_have_count(1)
                png = shot(page.locator("#asset-map"), f"asset-map-{size}-{lang}")
                assert pixels_of(png, [heritage.style.color])[heritage.style.color] > 100
                expect(page.locator("#open-in-maps")).to_have_attribute("href", "geo:20.255000,105.980000?q=20.255000,105.980000")
            if name == "unknown-farm":
                assert response.status == 404 and "text/html" in response.headers["content-type"]
                expect(page.locator(".error")).to_have_text("Không tìm thấy trang hoặc mã này." if lang == "vi"
                                                             else "This page or code was not found.")
            shot(page, f"page-{name}-{size}-{lang}")
            seen.check()
            page.close()
        context.close()
