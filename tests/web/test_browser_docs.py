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
