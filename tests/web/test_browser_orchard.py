"""The farmer's orchard in a real Chromium: the map draws every tree in its colour (checked on the
pixels of a screenshot, with no basemap), on a phone and a desktop, in Vietnamese and English;
health updates say whether they were saved, online, offline and on a conflict."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from geomap.layers.registry import get_layer
from tests.web.browser import open_context, pixels_of, shot, small_tap_targets, small_text, watch, zoom_allowed
from tests.world import PASSWORD, World

pytestmark = pytest.mark.browser
HEALTH = {c.value: c.color for c in get_layer("durian_trees").attr("health").choices}
VARIETY = {c.value: c.color for c in get_layer("durian_trees").attr("variety").choices}


def _counts(world: World, column: str) -> dict[str, int]:
    from sqlalchemy import text

    with world.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {column}, count(*) FROM durian_trees WHERE farm_id = :f GROUP BY 1"),
                            {"f": world.farm["id"]}).all()
    return {k: n for k, n in rows}


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_orchard_map_draws_every_tree_in_its_health_colour(chromium, live, world: World, size):
    code = world.farm["properties"]["code"]
    by_health = _counts(world, "health")
    assert by_health.get("khoe") and by_health.get("sau_benh"), "the sample farm has healthy and sick trees"
    for lang in ("vi", "en"):
        context = open_context(chromium, live, size, lang)
        page = context.new_page()
        seen = watch(page, live)
        page.goto(f"{live}/farms/{code}", wait_until="networkidle")
        assert page.evaluate("document.documentElement.lang") == lang
        png = shot(page.locator(".orchardmap"), f"orchard-{size}-{lang}")
        seen_px = pixels_of(png, [HEALTH["khoe"], HEALTH["sau_benh"]])
        # Every tree is a filled dot of its health colour (a few dozen pixels each, a few more where dots touch).
        assert seen_px[HEALTH["khoe"]] >= 8 * by_health["khoe"], seen_px
        assert seen_px[HEALTH["sau_benh"]] >= 8 * by_health["sau_benh"], seen_px
        legend = page.locator("#orchard-legend")
        expect(legend).to_contain_text("Sâu bệnh" if lang == "vi" else "Pests/disease")
        expect(legend).to_contain_text(str(by_health["sau_benh"]))
        expect(page.locator(".leaflet-control-scale-line")).to_be_visible()
        assert zoom_allowed(page)
        assert small_tap_targets(page) == []
        assert small_text(page) == []
        shot(page, f"orchard-page-{size}-{lang}")
        seen.check()
        context.close()


def test_orchard_recolours_by_variety_and_keeps_the_mode_in_the_url(chromium, live, world: World):
    code = world.farm["properties"]["code"]
    by_variety = _counts(world, "variety")
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/farms/{code}", wait_until="networkidle")
    expect(page.locator("#orchard-legend")).to_contain_text("Khỏe")
    page.locator(".modes a.mode[data-mode=variety]").click()
    expect(page.locator("#orchard-legend")).to_contain_text("Ri6")
    assert "color=variety" in page.url
    png = shot(page.locator(".orchardmap"), "orchard-variety-phone-vi")
    colors = [VARIETY[v] for v in by_variety]
    px = pixels_of(png, colors + [HEALTH["sau_benh"]])
    for variety, n in by_variety.items():
        assert px[VARIETY[variety]] >= 4 * n, (variety, px)
    assert px[HEALTH["sau_benh"]] < 20, "health colours are gone once coloured by variety"
    # The language switch keeps the colour mode.
    page.locator("header a.lang-switch").click()
    page.wait_for_load_state("networkidle")
    assert "color=variety" in page.url and "lang=en" in page.url
    expect(page.locator(".modes a.mode.on")).to_have_attribute("data-mode", "variety")
    seen.check()
    context.close()


def test_a_chosen_language_holds_on_a_phone_preferring_another(chromium, live, world: World):
    """A Vietnamese orchard (``?lang=vi``) on a phone set to English: the legends and labels the
    script draws from the trees' data, and the links it builds, stay Vietnamese."""
    code = world.farm["properties"]["code"]
    context = open_context(chromium, live, "phone", "en")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/farms/{code}?lang=vi", wait_until="networkidle")
    page.locator(".modes a.mode[data-mode=variety]").click()
    page.locator(".modes a.mode[data-mode=health]").click()
    legend = page.locator("#orchard-legend")
    expect(legend).to_contain_text("Khỏe")  # drawn by the script from trees.json
    expect(legend).not_to_contain_text("Healthy")
    link = page.locator("table a[href^='/a/']").first
    assert link.get_attribute("href").endswith("?lang=vi")
    link.click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "vi"
    shot(page, "orchard-tree-kept-vi-on-english-phone")
    seen.check()
    context.close()


def _sign_in_at_orchard(page, live: str, code: str) -> None:
    page.goto(f"{live}/farms/{code}", wait_until="networkidle")
    page.locator("header a.sign-in").click()
    page.fill("input[name=username]", "farmer")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(f"**/farms/{code}")  # back where the farmer was


def test_farmer_saves_health_and_is_told_when_it_did_not_work(chromium, live, world: World):
    code = world.farm["properties"]["code"]
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    _sign_in_at_orchard(page, live, code)
    expect(page.locator(".private")).to_contain_text(world.farm["properties"]["owner_phone"])
    first = page.locator("table.trees tbody tr").first
    tree_code = first.locator("td a").inner_text()
    first.locator("select.health").select_option("chet")
    first.locator("button.save").click()
    expect(first.locator(".save-status")).to_have_text("✓ Đã lưu")
    assert world.count(f"SELECT count(*) FROM durian_trees WHERE code = '{tree_code}' AND health = 'chet'") == 1
    # Offline: nothing is sent, and the farmer is told so in Vietnamese.
    context.set_offline(True)
    first.locator("select.health").select_option("khoe")
    first.locator("button.save").click()
    expect(first.locator(".save-status")).to_contain_text("Không có mạng")
    context.set_offline(False)
    assert world.count(f"SELECT count(*) FROM durian_trees WHERE code = '{tree_code}' AND health = 'chet'") == 1
    # Someone else changed the tree meanwhile: a plain Vietnamese reason, not the API's English.
    tree_id = world.count(f"SELECT id::text FROM durian_trees WHERE code = '{tree_code}'")
    version = world.count(f"SELECT version FROM durian_trees WHERE code = '{tree_code}'")
    r = world.client.patch(f"/api/v1/layers/durian_trees/features/{tree_id}", json={"properties": {"height_m": 5}},
                           headers={**world.auth("admin"), "If-Match": f'"v{version}"'})
    assert r.status_code == 200
    seen.allowed.append("status of 412")  # the conflict is the point of this step
    first.locator("button.save").click()
    expect(first.locator(".save-status")).to_contain_text("vừa được người khác sửa")
    shot(page, "orchard-save-conflict-phone-vi")
    seen.check()
    context.close()


def test_the_owner_updates_a_tree_from_the_page_its_label_opens(chromium, live, world: World):
    code = world.count(f"SELECT code FROM durian_trees WHERE farm_id = '{world.farm['id']}' AND health = 'khoe' ORDER BY code LIMIT 1")
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/a/{code}", wait_until="networkidle")
    expect(page.locator("#tree-health")).to_have_count(0)  # the public cannot edit
    page.locator("header a.sign-in").click()
    page.fill("input[name=username]", "farmer")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(f"**/a/{code}")
    page.select_option("#tree-health select.health", "sau_benh")
    page.locator("#tree-health button.save").click()
    expect(page.locator("#tree-health .save-status")).to_have_text("✓ Đã lưu")
    expect(page.locator("table.attrs tr[data-attr=health] td")).to_have_text("Sâu bệnh")
    assert world.count(f"SELECT health FROM durian_trees WHERE code = '{code}'") == "sau_benh"
    context.set_offline(True)
    page.locator("#tree-health button.save").click()
    expect(page.locator("#tree-health .save-status")).to_contain_text("Không có mạng")
    context.set_offline(False)
    assert small_tap_targets(page) == [] and small_text(page) == []
    shot(page, "tree-page-owner-phone-vi")
    seen.check()
    context.close()
