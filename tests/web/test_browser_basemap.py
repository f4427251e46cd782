"""Offline, the maps draw a light outline basemap served by the app — with the Hoàng Sa and
Trường Sa archipelagos shown as Vietnam's — instead of a grey void."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.browser import open_context, shot, watch
from tests.world import World

pytestmark = pytest.mark.browser

LABELS = {"vi": ("Quần đảo Hoàng Sa (Việt Nam)", "Quần đảo Trường Sa (Việt Nam)"),
          "en": ("Hoang Sa archipelago (Viet Nam)", "Truong Sa archipelago (Viet Nam)")}


@pytest.mark.parametrize("size,lang", [("phone", "vi"), ("desktop", "en")])
def test_public_map_draws_the_outline_and_the_archipelagos_offline(chromium, live, world: World, size, lang):
    context = open_context(chromium, live, size, lang)  # imagery cannot load: everything outside is cut off
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/?lang={lang}#6/14.5/108.5", wait_until="networkidle")
    expect(page.locator(".leaflet-outline-pane path.geomap-outline-vn")).to_have_count(1, timeout=20000)
    assert page.locator(".leaflet-outline-pane path.geomap-outline").count() > 20  # neighbours and coastline too
    for label in LABELS[lang]:
        expect(page.locator(".geomap-archipelago span", has_text=label)).to_be_visible()
    assert page.locator(".leaflet-outline-pane .geomap-island").count() >= 10  # the islands themselves
    page.goto(f"{live}/?lang={lang}", wait_until="networkidle")  # the first view of the whole country
    legend = page.locator(".geomap-legend").bounding_box()  # open on a desktop: it must not cover them
    view = page.locator("#map").bounding_box()
    for label in LABELS[lang]:
        expect(page.locator(".geomap-archipelago span", has_text=label)).to_be_visible()
        box = page.locator(".geomap-archipelago span", has_text=label).bounding_box()
        # Whole, not cut off at the screen's edge: the first view holds the archipelagos too.
        assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"], (label, box, view)
        assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"], (label, box, view)
        assert (box["x"] + box["width"] <= legend["x"] or box["x"] >= legend["x"] + legend["width"]
                or box["y"] + box["height"] <= legend["y"] or box["y"] >= legend["y"] + legend["height"]), (label, box, legend)
    assert any("world-atlas" in u and u.startswith(live) for u in seen.requests)  # served by the app
    shot(page, f"outline-map-{size}-{lang}")
    seen.check()
    context.close()


def test_orchard_and_asset_pages_get_the_outline_offline(chromium, live, world: World):
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/a/NB-NONNUOC", wait_until="networkidle")
    expect(page.locator(".leaflet-outline-pane path.geomap-outline-vn")).to_have_count(1, timeout=20000)
    page.goto(f"{live}/farms/{world.farm['properties']['code']}", wait_until="networkidle")
    expect(page.locator(".leaflet-outline-pane path.geomap-outline-vn")).to_have_count(1, timeout=20000)
    seen.check()
    context.close()
