"""One Chromium for the web tests (a context per page keeps them apart)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.web.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def chromium():
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
