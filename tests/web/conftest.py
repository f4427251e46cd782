"""One Chromium per web test module (a context per page keeps them apart).

Per module, not per session: Playwright's sync API runs its own event loop, and the field app's
tests start Playwright themselves; a session-long one left running here made them fail when
they ran after these (``pytest tests/web tests/field``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.web.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def chromium():
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
