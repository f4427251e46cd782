"""The capture form's map: always there for a new asset (working area, assets around, the GPS
position), and the layer's spacing checked against those assets even when the network is gone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import sample_features
from tests.field.conftest import ARTIFACTS
from tests.field.test_offline_capture import sign_in_with_token
from tests.world import World


def test_the_form_map_shows_assets_around_and_warns_offline_within_the_spacing(phone, live, world: World):
    page = phone.page
    tree = next(t for t in sample_features("durian_trees") if t["properties"]["farm_id"] == world.farm["id"])
    lon, lat = tree["geometry"]["coordinates"]
    sign_in_with_token(page, live, world.tokens["volunteer"])
    phone.move(lon + 0.00001, lat)  # about 1 m from the tree: within the layer's 2 m spacing
    page.click("button.layer[data-layer=durian_trees]")
    expect(page.locator("#gps-status.good")).to_be_visible()
    # The map is there without asking to place by hand: working area, trees around, the GPS dot.
    expect(page.locator("#map .leaflet-container, #map.leaflet-container").first).to_be_visible()
    expect(page.locator("#map path.asset").first).to_be_attached(timeout=10000)
    assert page.locator("#map path.asset").count() >= 2
    expect(page.locator("#map path.here")).to_have_count(1)
    # No imagery here (no internet): the map says so, and its zoom buttons are thumb-sized.
    expect(page.locator("#map .map-note")).to_contain_text("Không tải được ảnh nền")
    sizes = page.locator("#map .leaflet-control-zoom a").evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])")
    assert len(sizes) == 2 and all(w >= 44 and h >= 44 for w, h in sizes), sizes
    page.screenshot(path=str(ARTIFACTS / "field-form-map.png"), full_page=True)

    # The network drops before saving: the warning comes from the assets already on the map.
    phone.context.set_offline(True)
    page.fill("#f-code", "FIELD-SPACING")
    page.fill("#f-name", "Cây sát cây khác")
    page.locator(".field[data-name=variety] .choice", has_text="Ri6").click()
    page.click("#capture-form button[type=submit]")
    expect(page.locator("#form-error")).to_contain_text(tree["properties"]["code"])
    expect(page.locator("#form-error")).to_contain_text("m).")
    page.screenshot(path=str(ARTIFACTS / "field-spacing-warning.png"), full_page=True)
    page.click("#form-error button.nearby-other")  # another tree: saved anyway, confirmed
    expect(page.locator("#capture-form")).to_be_hidden()
    assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'FIELD-SPACING'") == 0
    phone.context.set_offline(False)
    page.click("[data-tab=work]")
    expect(page.locator("#list-today li.record[data-state=sent]")).to_have_count(1, timeout=20000)
    assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'FIELD-SPACING'") == 1
    assert phone.errors == []
