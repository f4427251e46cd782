"""/docs draws the API documentation offline, under a CSP that forbids inline scripts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.browser import open_context, shot, watch
from tests.world import World

pytestmark = pytest.mark.browser


def test_docs_draw_offline_with_a_strict_csp(chromium, live, world: World):
    context = open_context(chromium, live, "desktop", "en")
    page = context.new_page()
    seen = watch(page, live)
    response = page.goto(live + "/docs", wait_until="networkidle")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline'; style" not in csp.split("script-src")[1].split(";")[0]
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/layers")
    assert not [u for u in seen.requests if not u.startswith(live)]  # nothing from a CDN
    shot(page, "docs-desktop-en")
    seen.check()
    context.close()


def test_pages_carry_no_inline_scripts(world: World):
    import re

    code = world.farm["properties"]["code"]
    for path in ("/", f"/farms/{code}", f"/a/{code}", f"/farms/{code}/labels", "/login", "/docs", "/a/NOPE"):
        html = world.client.get(path).text
        inline = [m for m in re.findall(r"<script([^>]*)>", html) if "src=" not in m and 'type="application/json"' not in m]
        assert inline == [], (path, inline)
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers either


def test_ogc_html_runs_its_scripts_under_a_nonce_not_unsafe_inline(chromium, live, world: World):
    import re

    first = world.client.get("/ogc/collections/durian_trees/items?f=html&limit=5")
    second = world.client.get("/ogc/collections/durian_trees/items?f=html&limit=5")
    nonces = []
    for r in (first, second):
        csp = r.headers["content-security-policy"]
        scripts = csp.split("script-src")[1].split(";")[0]
        assert "unsafe-inline" not in scripts
        nonce = re.search(r"'nonce-([^']+)'", scripts).group(1)
        inline = re.findall(r"<script([^>]*)>", r.text)
        assert inline and all("src=" in attrs or f'nonce="{nonce}"' in attrs for attrs in inline), inline
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # fresh per response
    # In a browser: the items page's own script runs (it draws the features on its Leaflet map).
    context = open_context(chromium, live, "desktop", "en")
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live + "/ogc/collections/durian_trees/items?f=html&limit=5", wait_until="networkidle")
    expect(page.locator(".leaflet-marker-pane img")).to_have_count(5)  # one marker per tree listed
    assert refused == []
    shot(page, "ogc-items-desktop-en")
    context.close()
