"""The public map in a real Chromium, offline, as a person sees it: the map takes the screen on a
phone, clusters show their counts and zoom in when tapped, trees are coloured by health, search
lists its results and goes to them, filters and position live in the URL and survive a language
switch, controls do not cover each other, and nothing on the page errs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from playwright.sync_api import expect

from geomap.layers.registry import get_layer
from geomap.web.i18n import translator
from tests.conftest import sample_features
from tests.web.browser import open_context, pixels_of, shot, small_tap_targets, small_text, watch, zoom_allowed
from tests.world import PASSWORD, World

pytestmark = pytest.mark.browser
TREES = get_layer("durian_trees")
HEALTH = {c.value: c.color for c in TREES.attr("health").choices}


def _hash(page) -> tuple[int, float, float]:
    z, lat, lon = re.search(r"#(\d+)/(-?[\d.]+)/(-?[\d.]+)$", page.url).groups()
    return int(z), float(lat), float(lon)


def _overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def _count(text: str) -> float:
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


#: For a layer at the map's zoom: the assets its clusters hold, and the totals its visible clusters show.
SUMS = """name => { const g = geomap.layers[name]; let counted = 0, shown = 0;
  for (const [key, tile] of Object.entries(g._vectorTiles)) {
    if (+key.split(":")[2] !== g._tileZoom) continue;
    for (const c of tile._counts || []) { counted += c.count; if (c.path.style.display !== "none") shown += c.total; }
  }
  return [counted, shown]; }"""


def _visible_counts(page) -> list[dict]:
    """The cluster counts a person can see, with their boxes, once the map has settled."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page.evaluate("""() => Array.from(document.querySelectorAll('.leaflet-counts-pane .geomap-count span'))
        .map(t => [t, t.getBoundingClientRect()])
        .filter(([t, r]) => r.width > 0 && getComputedStyle(t).display !== 'none')
        .map(([t, r]) => ({x: r.left, y: r.top, width: r.width, height: r.height, text: t.textContent}))""")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_map_takes_the_screen_and_draws_clusters_with_counts(chromium, live, world: World, size):
    for lang in ("vi", "en"):
        context = open_context(chromium, live, size, lang)
        page = context.new_page()
        seen = watch(page, live)
        page.goto(live + "/", wait_until="networkidle")
        assert page.evaluate("document.documentElement.lang") == lang
        expect(page.locator("#sheet")).to_be_hidden()  # filters and layers wait in a closed sheet
        counts = page.locator(".leaflet-counts-pane .geomap-count span")
        expect(counts.first).to_be_attached()
        numbers = [_count(t) for t in counts.all_text_contents()]
        assert max(numbers) >= 1000, numbers  # 10,000 sample trees gathered into a few clusters
        labels = _visible_counts(page)  # clusters of neighbouring cells fold into one: no count overprints another
        assert not [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:] if _overlaps(a, b)], labels
        counted, shown = page.evaluate(SUMS, "durian_trees")  # folding loses no tree from the sums shown
        assert counted == shown == world.count("SELECT count(*) FROM durian_trees WHERE deleted_at IS NULL"), (counted, shown)
        viewport = page.viewport_size
        box = page.locator("#map").bounding_box()
        assert box["width"] * box["height"] >= 0.8 * viewport["width"] * viewport["height"], box
        png = shot(page.locator("#map"), f"map-{size}-{lang}")
        # The tree clusters are drawn (85% opaque: within 24 of their colour over the basemap's).
        assert pixels_of(png, [TREES.style.color], tolerance=24)[TREES.style.color] > 200
        controls = {name: page.locator(sel).bounding_box() for name, sel in {
            "zoom": ".leaflet-control-zoom", "locate": ".geomap-locate", "legend": ".geomap-legend",
            "scale": ".leaflet-control-scale", "attribution": ".leaflet-control-attribution",
            "bar": ".mapbar", "header": "header.top"}.items()}
        for a in controls:
            for b in controls:
                if a < b:
                    assert not _overlaps(controls[a], controls[b]), (a, b, controls[a], controls[b])
        # Tiles are asked for only where each layer has data: Ninh Bình's wifi points fill one or two tiles.
        wifi = {u.split("?")[0] for u in seen.requests if "/tiles/wifi_points/" in u}
        tiles = {u.split("?")[0] for u in seen.requests if "/tiles/" in u}
        assert 1 <= len(wifi) <= 2 and len(tiles) <= 6 * 3, sorted(tiles)
        assert zoom_allowed(page)
        assert small_tap_targets(page) == []
        assert small_text(page) == []
        # A cluster tapped zooms in on it (the URL follows the map).
        z0, _, _ = _hash(page)
        biggest = max(counts.all(), key=lambda t: _count(t.text_content()))
        tb = biggest.bounding_box()
        page.mouse.click(tb["x"] + tb["width"] / 2, tb["y"] + tb["height"] / 2)
        expect(page).to_have_url(re.compile(rf"#{z0 + 2}/"))
        seen.check()
        context.close()


def test_the_map_follows_a_changed_address_hash(chromium, live, world: World):
    """A link to another place of the same page (only #z/lat/lon changes) moves the map there."""
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(live + "/#6/16.0/106.0", wait_until="networkidle")
    assert _hash(page)[0] == 6
    lon, lat = world.farm["geometry"]["coordinates"][0][0][0]
    page.evaluate(f"location.hash = '#16/{lat}/{lon}'")
    page.wait_for_function("geomap.map.getZoom() === 16")
    center = page.evaluate("geomap.map.getCenter()")
    assert abs(center["lat"] - lat) < 1e-3 and abs(center["lng"] - lon) < 1e-3, center
    expect(page).to_have_url(re.compile(r"#16/"))
    seen.check()
    context.close()


def test_trees_coloured_by_health_and_farms_visible_when_trees_filtered(chromium, live, world: World):
    farm = world.farm
    lon, lat = sample_features("durian_trees")[0]["geometry"]["coordinates"]
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/#18/{lat}/{lon}", wait_until="networkidle")
    expect(page.locator(".leaflet-tile-container svg path").first).to_be_attached()
    png = shot(page.locator("#map"), "map-trees-by-health-phone-vi")
    assert pixels_of(png, [HEALTH["khoe"]])[HEALTH["khoe"]] > 300
    # Filter to sick trees from the sheet: only non-empty filters in the URL, position kept, farms still drawn.
    page.locator("#menu").click()
    expect(page.locator("#sheet")).to_be_visible()
    page.select_option("#filters select[name=health]", "sau_benh")
    page.locator("#filters button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    parts = urlsplit(page.url)
    assert parse_qsl(parts.query) == [("health", "sau_benh")]
    assert parts.fragment.startswith("18/")
    trees = [u for u in seen.requests if "/tiles/durian_trees/" in u]
    assert trees and all("health=sau_benh" in u for u in trees[-3:])
    assert any("/tiles/farms/" in u for u in seen.requests[-40:]), "farm boundaries stay on the map"
    expect(page.locator("#sheet")).to_be_hidden()
    png = shot(page.locator("#map"), "map-sick-trees-phone-vi")
    px = pixels_of(png, [HEALTH["khoe"], get_layer("farms").style.color])
    assert px[HEALTH["khoe"]] < 30  # healthy trees are filtered out
    # The language switch keeps the filter and the position.
    page.locator("header a.lang-switch").click()
    page.wait_for_load_state("networkidle")
    parts = urlsplit(page.url)
    assert dict(parse_qsl(parts.query)) == {"health": "sau_benh", "lang": "en"}
    assert parts.fragment.startswith("18/")
    page.locator("#menu").click()
    expect(page.locator("#filters select[name=health]")).to_have_value("sau_benh")
    shot(page, "map-sick-trees-sheet-phone-en")
    seen.check()
    context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_search_lists_results_and_goes_to_them(chromium, live, world: World, size):
    context = open_context(chromium, live, size, "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(live + "/", wait_until="networkidle")
    page.fill("#search input[name=q]", "dong huong")
    page.locator("#search button").click()
    page.wait_for_load_state("networkidle")
    assert parse_qsl(urlsplit(page.url).query) == [("q", "dong huong")]
    results = page.locator("#results button.result")
    expect(results).to_have_count(2)
    expect(results.first).to_contain_text("Đồng Hướng")
    shot(page, f"map-search-{size}-vi")
    results.first.click()
    expect(page).to_have_url(re.compile(r"#1[5-8]/20\.0"))
    shot(page, f"map-search-result-{size}-vi")
    seen.check()
    # What was typed whole comes first: farm number 1, before 10-19 and trees named after them.
    ranked = context.new_page()
    seen = watch(ranked, live)
    ranked.goto(live + "/?q=" + quote("sầu riêng số 1"), wait_until="networkidle")
    expect(ranked.locator("#results button.result").first).to_contain_text("Vườn sầu riêng số 1,")
    # Chosen, the farm is drawn with its trees: the words searched for do not filter the map.
    ranked.locator("#results button.result").first.click()
    ranked.wait_for_load_state("networkidle")
    trees = ranked.locator(".leaflet-tile-container svg path.leaflet-interactive")
    expect(trees.nth(30)).to_be_attached()
    assert not [u for u in seen.requests if "/tiles/" in u and "q=" in u]
    shot(ranked, f"map-search-farm-{size}-vi")
    seen.check()
    context.close()


def test_a_chosen_language_survives_a_search_on_a_phone_preferring_another(chromium, live, world: World):
    """A phone set to English, on the map a volunteer opened in Vietnamese (``?lang=vi``): the
    search keeps the page in Vietnamese, and so do the links the map's script builds."""
    t_vi = translator("vi")
    context = open_context(chromium, live, "phone", "en")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(live + "/?lang=vi", wait_until="networkidle")
    expect(page.locator("#search input[name=q]")).to_have_attribute("placeholder", t_vi("search"))
    page.fill("#search input[name=q]", "dong huong")
    page.locator("#search button").click()
    page.wait_for_load_state("networkidle")
    assert sorted(parse_qsl(urlsplit(page.url).query)) == [("lang", "vi"), ("q", "dong huong")]
    assert page.locator("html").get_attribute("lang") == "vi"
    expect(page.locator("#results button.result").first).to_contain_text("Đồng Hướng")
    expect(page.locator("#search button")).to_have_text(t_vi("find"))
    assert page.evaluate("geomap.config().langParam") == "?lang=vi"
    shot(page, "map-search-kept-vi-on-english-phone")
    seen.check()
    context.close()


@pytest.mark.parametrize("zoom", [20, 15])
def test_asset_popup_leads_to_its_page_and_qr(chromium, live, world: World, zoom):
    """From z16 the popup names the tree; at z15 (no names in its tiles) it heads with its code."""
    import zxingcpp
    from PIL import Image

    tree = sample_features("durian_trees")[0]
    code = tree["properties"]["code"]
    lon, lat = tree["geometry"]["coordinates"]
    context = open_context(chromium, live, "desktop", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/?layer=durian_trees&q={code}#{zoom}/{lat}/{lon}", wait_until="networkidle")
    page.locator(".leaflet-tile-container svg path.leaflet-interactive").first.wait_for(state="attached")
    page.locator("#sheet-close").click()
    page.locator(".leaflet-tile-container svg path.leaflet-interactive").first.wait_for(state="attached")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(TREES.vi)
    if zoom > 15:
        expect(popup.locator("b")).to_have_text(tree["properties"]["name"])
    else:  # trees 2 px apart: the tap may land on a neighbour, named by its code
        code = popup.locator("b").inner_text()
        assert re.fullmatch(r"[A-Z0-9-]+", code) and code.split("-")[:-1] == tree["properties"]["code"].split("-")[:-1]
    expect(popup).to_contain_text(code)
    expect(popup).not_to_contain_text("undefined")
    assert page.locator(".leaflet-popup-close-button").bounding_box()["height"] >= 44  # a thumb can close it
    shot(page, f"popup-z{zoom}")
    popup.locator("a.geomap-detail").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/a/{code}")
    expect(page.locator("#asset-map .leaflet-interactive")).to_have_count(1)  # the small map shows the tree
    expect(page.locator("#orchard-link")).to_have_attribute("href", f"/farms/{world.farm['properties']['code']}" if
                                                            tree["properties"]["farm_id"] == world.farm["id"] else re.compile("/farms/"))
    qr = page.locator("figure#qr svg")
    assert qr.bounding_box()["width"] > 100
    path = shot(qr, "detail-qr")
    [decoded] = zxingcpp.read_barcodes(Image.open(path))
    assert decoded.text == page.url
    seen.check()
    context.close()


def test_sign_in_returns_to_the_map_with_my_orchard(chromium, live, world: World):
    context = open_context(chromium, live, "phone", "vi")
    page = context.new_page()
    seen = watch(page, live)
    page.goto(f"{live}/?health=chet", wait_until="networkidle")
    expect(page.locator("#my-orchard")).to_have_count(0)
    page.locator("header a.sign-in").click()
    page.fill("input[name=username]", "farmer")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/" and "health=chet" in page.url
    page.locator("#my-orchard").click()
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == f"/farms/{world.farm['properties']['code']}"
    seen.check()
    context.close()
