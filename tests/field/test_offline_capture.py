"""Offline capture: a volunteer with no network captures two trees with photos, reloads the
page while offline (the app and its queue survive), comes back online, and both trees and
their photos arrive exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.field.conftest import ARTIFACTS
from tests.world import World

pytestmark = pytest.mark.browser


def jpeg(path, color) -> str:
    Image.new("RGB", (2400, 1800), color).save(path, format="JPEG", quality=90)
    return str(path)


def sign_in_with_token(page, live: str, token: str) -> None:
    page.goto(live + "/field")
    expect(page.locator("#signin-form")).to_be_visible()
    page.fill("#signin-form input[name=token]", token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()


def wait_for_service_worker(page) -> None:
    page.wait_for_function("navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready.then(() => true)")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def capture_tree(page, code: str, photo: str | list[str]) -> None:
    page.click("button.layer[data-layer=durian_trees]")
    expect(page.locator("#capture-form")).to_be_visible()
    expect(page.locator("#gps-status.good")).to_contain_text("m")
    page.fill("#f-code", code)
    page.fill("#f-name", "Cây " + code)
    page.locator(".field[data-name=variety] .choice", has_text="Ri6").click()
    page.fill("#f-planting_year", "2019")
    page.set_input_files("#photo-input", photo)
    expect(page.locator("#photo-thumbs img")).to_have_count(len(photo) if isinstance(photo, list) else 1)
    page.click("#capture-form button[type=submit]")
    expect(page.locator("#capture-form")).to_be_hidden()


def test_offline_capture_survives_reload_and_arrives_once(phone, live, world: World, tmp_path):
    page = phone.page
    sign_in_with_token(page, live, world.tokens["volunteer"])
    assert page.evaluate("document.documentElement.lang") == "vi"
    page.reload()  # the service worker now controls the page
    expect(page.locator("#app")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.screenshot(path=str(ARTIFACTS / "field-home.png"))

    before = world.count("SELECT count(*) FROM durian_trees")
    phone.context.set_offline(True)
    expect(page.locator("#net")).to_have_text("Mất mạng — vẫn ghi được")
    spots = [world.tree_in(slot=i)["geometry"]["coordinates"] for i in (0, 1)]
    photos = {1: [jpeg(tmp_path / "p1a.jpg", (30, 120, 40)), jpeg(tmp_path / "p1b.jpg", (90, 20, 40))],
              2: [jpeg(tmp_path / "p2.jpg", (200, 120, 40))]}  # several photos per asset
    for i, (lon, lat) in enumerate(spots, start=1):
        phone.move(lon, lat)
        capture_tree(page, f"FIELD-T{i}", photos[i])
    page.click("[data-tab=work]")
    expect(page.locator("#list-queue li.record")).to_have_count(2)
    expect(page.locator("#list-queue li.record[data-state=waiting]")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "field-queue-offline.png"), full_page=True)

    with page.expect_download() as download:  # the last resort: every unsent record, photos included
        page.click("#export")
    exported = json.loads(Path(download.value.path()).read_text())
    assert sorted(r["feature"]["properties"]["code"] for r in exported["records"]) == ["FIELD-T1", "FIELD-T2"]
    assert sorted(len(r["photos"]) for r in exported["records"]) == [1, 2]
    assert all(p["data"].startswith("data:image/jpeg;base64,") for r in exported["records"] for p in r["photos"])

    page.reload()  # offline: the app shell comes from the service worker, the queue from IndexedDB
    expect(page.locator("#app")).to_be_visible()
    page.click("[data-tab=work]")
    expect(page.locator("#list-queue li.record")).to_have_count(2)
    assert world.count("SELECT count(*) FROM durian_trees") == before

    phone.context.set_offline(False)
    expect(page.locator("#list-today li.record[data-state=sent]")).to_have_count(2, timeout=20000)
    expect(page.locator("#list-queue li.record")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "field-sent.png"), full_page=True)
    assert world.count("SELECT count(*) FROM durian_trees") == before + 2
    for i, code in ((1, "FIELD-T1"), (2, "FIELD-T2")):
        assert world.count(f"SELECT count(*) FROM durian_trees WHERE code = '{code}' AND created_by = 'vol'") == 1
        assert world.count(  # resized on the phone: 2400 × 1800 → 1600 × 1200
            "SELECT count(*) FROM photos p JOIN durian_trees t ON t.id = p.asset_id "
            f"WHERE t.code = '{code}' AND p.width = 1600 AND p.height = 1200") == len(photos[i])
    assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'FIELD-T1' AND planting_year = 2019 "
                       "AND gps_accuracy_m <= 10 AND team_code = 'DL-EAKLY-01'") == 1
    assert phone.errors == []
