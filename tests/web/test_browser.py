"""The pages in a real headless Chromium (Debian's), driven by Playwright, against a live server.

Screenshots go to ``test-artifacts/``. Basemap imagery is the only thing allowed to fail
(there is no internet here); every other request must succeed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import ROOT, sample_features
from tests.world import World

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture
def browser_page(live):
    ARTIFACTS.mkdir(exist_ok=True)
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="vi-VN")
        page = context.new_page()
        page.failures = []  # type: ignore[attr-defined]
        page.requests = []  # type: ignore[attr-defined]
        page.route("**/*", lambda route: route.abort() if not route.request.url.startswith(live) else route.continue_())
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("requestfailed", lambda r: page.failures.append(r.url))
        page.on("response", lambda r: page.failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        yield page
        browser.close()


def _own_failures(page, live) -> list[str]:
    return [u for u in page.failures if live in u]


def test_map_loads_toggles_and_filters(browser_page, live):
    page = browser_page
    page.goto(live + "/", wait_until="networkidle")
    # (Locator waits, not wait_for_function: the pages' CSP forbids eval, which that would need.)
    expect(page.locator(".leaflet-control-layers-overlays input")).to_have_count(6)
    page.wait_for_timeout(500)
    assert _own_failures(page, live) == []
    assert page.evaluate("document.documentElement.lang") == "vi"
    tiles = [u for u in page.requests if "/tiles/durian_trees/" in u]
    assert tiles, "no vector tiles requested"
    drawn = page.evaluate("document.querySelectorAll('.leaflet-overlay-pane svg path, .leaflet-tile-container svg path').length")
    assert drawn > 0
    page.screenshot(path=str(ARTIFACTS / "map.png"))
    # Toggle the trees off in the layer control: the layer leaves the map.
    assert page.evaluate("geomap.map.hasLayer(geomap.layers.durian_trees)")
    page.locator(".leaflet-control-layers-overlays label", has_text="Cây sầu riêng").locator("input").uncheck()
    assert not page.evaluate("geomap.map.hasLayer(geomap.layers.durian_trees)")
    page.locator(".leaflet-control-layers-overlays label", has_text="Cây sầu riêng").locator("input").check()
    assert page.evaluate("geomap.map.hasLayer(geomap.layers.durian_trees)")
    # Filter to sick trees: the URL carries the filter, tiles are asked with it, other layers go.
    page.select_option("select[name=health]", "sau_benh")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".leaflet-control-layers-overlays input")).to_have_count(1)
    assert "health=sau_benh" in page.url
    assert any("health=sau_benh" in u for u in page.requests if "/tiles/durian_trees/" in u)
    assert page.evaluate("Object.keys(geomap.layers).sort()") == ["durian_trees"]
    page.screenshot(path=str(ARTIFACTS / "map-sick-trees.png"))
    assert _own_failures(page, live) == []


def test_click_asset_popup_detail_and_qr(browser_page, live):
    page = browser_page
    tree = sample_features("durian_trees")[0]
    lon, lat = tree["geometry"]["coordinates"]
    page.goto(live + f"/?layer=durian_trees&q={tree['properties']['code']}", wait_until="networkidle")
    expect(page.locator(".leaflet-control-layers-overlays input")).to_have_count(1)
    page.evaluate(f"geomap.map.setView([{lat}, {lon}], 19, {{animate: false}})")
    page.locator(".leaflet-tile-container svg path.leaflet-interactive").first.wait_for(state="attached")
    page.wait_for_timeout(300)
    size = page.evaluate("(() => { const s = geomap.map.getSize(); return [s.x, s.y]; })()")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + size[0] / 2, box["y"] + size[1] / 2)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert tree["properties"]["code"] in popup.inner_text()
    page.screenshot(path=str(ARTIFACTS / "popup.png"))
    popup.locator("a.geomap-detail").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/a/{tree['properties']['code']}")
    qr = page.locator("figure#qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 100
    assert page.locator("figure#qr").get_attribute("data-url") == f"{live}/a/{tree['properties']['code']}"
    page.screenshot(path=str(ARTIFACTS / "detail.png"), full_page=True)
    # A QR reader pointed at the screen: the code shown decodes to this very page.
    import zxingcpp
    from PIL import Image

    qr.screenshot(path=str(ARTIFACTS / "detail-qr.png"))
    [decoded] = zxingcpp.read_barcodes(Image.open(ARTIFACTS / "detail-qr.png"))
    assert decoded.text == page.url
    assert _own_failures(page, live) == []


def test_farmer_updates_health_from_the_orchard_page(browser_page, live, world: World):
    from tests.world import PASSWORD

    page = browser_page
    code = world.farm["properties"]["code"]
    page.goto(live + f"/login?next=/farms/{code}")
    page.fill("input[name=username]", "farmer")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(f"**/farms/{code}")
    row = page.locator("table.trees tr[data-id]").first
    tree_id = row.get_attribute("data-id")
    row.locator("select.health").select_option("chet")
    row.locator("button.save").click()
    expect(row.locator(".status")).to_contain_text("✓")
    page.screenshot(path=str(ARTIFACTS / "orchard.png"), full_page=True)
    assert world.count(f"SELECT count(*) FROM durian_trees WHERE id = '{tree_id}' AND health = 'chet'") == 1
    page.goto(live + f"/farms/{code}/labels")
    page.pdf(path=str(ARTIFACTS / "labels.pdf"), format="A4")
    assert page.locator(".label").count() >= 1
    # The printed labels scan: every QR on the first screenful decodes to its tree's page.
    page.set_viewport_size({"width": 900, "height": 1400})
    page.screenshot(path=str(ARTIFACTS / "labels.png"))
    import zxingcpp
    from PIL import Image

    found = {r.text for r in zxingcpp.read_barcodes(Image.open(ARTIFACTS / "labels.png"))}
    fully_visible = page.evaluate("[...document.querySelectorAll('.label')].filter(e => e.getBoundingClientRect().bottom <= 1400).length")
    every = {f"{live}/a/{c}" for c in page.locator(".label .code").all_inner_texts()}
    assert fully_visible >= 15 and len(found) >= fully_visible and found <= every
