"""Scanning a tree's QR label from a (fake) camera opens it for edit with its ETag; when the
tree changed meanwhile the server says 412 and the app shows both versions field by field;
the volunteer's choice is what is stored, and nothing is overwritten silently."""

from __future__ import annotations

import numpy as np
import pytest
import segno
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from tests.conftest import sample_features
from tests.field.conftest import ARTIFACTS, Phone, launch
from tests.field.test_offline_capture import sign_in_with_token
from tests.world import World

pytestmark = pytest.mark.browser


def qr_video(path, text: str, size=(640, 480), frames: int = 10) -> str:
    """A .y4m video (4:2:0) whose every frame shows a QR code of ``text``."""
    qr = segno.make(text, error="m")
    buf = path.with_suffix(".png")
    qr.save(str(buf), scale=8, border=4)
    code = Image.open(buf).convert("L")
    frame = Image.new("L", size, 255)
    frame.paste(code, ((size[0] - code.width) // 2, (size[1] - code.height) // 2))
    y = np.asarray(frame, dtype=np.uint8).tobytes()
    uv = bytes([128]) * ((size[0] // 2) * (size[1] // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + y + uv + uv)
    return str(path)


def test_scan_opens_the_tree_and_a_conflicting_edit_shows_the_choice(live, world: World, tmp_path):
    tree = next(t for t in sample_features("durian_trees") if t["properties"]["farm_id"] == world.farm["id"])
    code = tree["properties"]["code"]
    video = qr_video(tmp_path / "label.y4m", f"{live}/a/{code}")
    lon, lat = tree["geometry"]["coordinates"]
    with sync_playwright() as p:
        browser = launch(p, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                             f"--use-file-for-fake-video-capture={video}"])
        phone = Phone(browser, live, lon, lat)
        phone.expected_statuses = {412}  # the conflict this test makes
        page = phone.page
        sign_in_with_token(page, live, world.tokens["volunteer"])
        page.click("[data-tab=scan]")
        expect(page.locator("#form-title")).to_contain_text("Sửa tài sản", timeout=20000)
        expect(page.locator("#f-code")).to_have_value(code)

        # Meanwhile an administrator changes the same tree.
        headers = world.auth("admin")
        current = world.client.get(f"/api/v1/layers/durian_trees/features/{tree['id']}", headers=headers)
        changed = world.client.patch(
            f"/api/v1/layers/durian_trees/features/{tree['id']}",
            json={"properties": {"health": "sau_benh", "height_m": 7.5}},
            headers={**headers, "If-Match": current.headers["ETag"]})
        assert changed.status_code == 200

        page.locator(".field[data-name=health] .choice", has_text="Chết").click()
        page.screenshot(path=str(ARTIFACTS / "field-edit.png"), full_page=True)
        page.click("#capture-form button[type=submit]")
        page.click("[data-tab=work]")
        record = page.locator("#list-queue li.record[data-state=attention]")
        expect(record).to_have_count(1, timeout=20000)
        row = record.locator("table.conflict tr[data-field=health]")
        expect(row).to_contain_text("Chết")
        expect(row).to_contain_text("Sâu bệnh")
        expect(record.locator(".problem")).to_contain_text("người khác sửa")
        page.screenshot(path=str(ARTIFACTS / "field-conflict.png"), full_page=True)
        # Nothing was overwritten while the volunteer had not chosen.
        assert world.count(f"SELECT count(*) FROM durian_trees WHERE id = '{tree['id']}' AND health = 'sau_benh'") == 1

        record.locator("button.primary").click()  # keep mine (the default choice)
        expect(page.locator("#list-today li.record[data-state=sent]")).to_have_count(1, timeout=20000)
        assert world.count(f"SELECT count(*) FROM durian_trees WHERE id = '{tree['id']}' "
                           "AND health = 'chet' AND height_m = 7.5") == 1
        assert phone.errors == []
        browser.close()


def test_a_farmer_scans_a_tree_and_updates_its_health(live, world: World, tmp_path):
    from tests.field.test_field_pages import sign_in_with_password

    tree = [t for t in sample_features("durian_trees") if t["properties"]["farm_id"] == world.farm["id"]][2]
    video = qr_video(tmp_path / "label.y4m", f"{live}/a/{tree['properties']['code']}")
    lon, lat = tree["geometry"]["coordinates"]
    with sync_playwright() as p:
        browser = launch(p, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                             f"--use-file-for-fake-video-capture={video}"])
        phone = Phone(browser, live, lon, lat)
        page = phone.page
        sign_in_with_password(page, live, "farmer")  # a farmer lands on the scanner
        expect(page.locator("#form-title")).to_contain_text("Sửa tài sản", timeout=20000)
        names = page.locator("#fields .field").evaluate_all("els => els.map(e => e.dataset.name)")
        layers = world.client.get("/api/v1/layers").json()["layers"]
        trees = next(layer for layer in layers if layer["name"] == "durian_trees")
        assert names == [f["name"] for f in trees["fields"] if f.get("farmer_writable")]
        page.locator(".field[data-name=health] .choice", has_text="Sâu bệnh").click()
        page.fill("#f-height_m", "9.5")
        page.screenshot(path=str(ARTIFACTS / "field-farmer.png"), full_page=True)
        page.click("#capture-form button[type=submit]")
        page.click("[data-tab=work]")
        expect(page.locator("#list-today li.record[data-state=sent]")).to_have_count(1, timeout=20000)
        assert world.count(f"SELECT count(*) FROM durian_trees WHERE id = '{tree['id']}' AND health = 'sau_benh' "
                           "AND height_m = 9.5 AND updated_by = 'farmer'") == 1
        assert phone.errors == []
        browser.close()


def test_scanning_an_unregistered_label_starts_a_capture_with_its_code(live, world: World, tmp_path):
    video = qr_video(tmp_path / "label.y4m", f"{live}/a/NHAN-MOI-0042")
    lon, lat = world.tree_in(slot=4)["geometry"]["coordinates"]
    with sync_playwright() as p:
        browser = launch(p, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                             f"--use-file-for-fake-video-capture={video}"])
        phone = Phone(browser, live, lon, lat)
        page = phone.page
        sign_in_with_token(page, live, world.tokens["volunteer"])
        page.click("[data-tab=scan]")
        expect(page.locator("#f-code")).to_have_value("NHAN-MOI-0042", timeout=20000)
        expect(page.locator("#form-title")).to_have_text("Cây sầu riêng")
        expect(page.locator("#flash")).to_contain_text("Mã chưa có trên bản đồ")
        page.fill("#f-name", "Cây nhãn mới")
        page.locator(".field[data-name=variety] .choice", has_text="Ri6").click()
        expect(page.locator("#gps-status.good")).to_be_visible()
        page.click("#capture-form button[type=submit]")
        page.click("[data-tab=work]")
        expect(page.locator("#list-today li.record[data-state=sent]")).to_have_count(1, timeout=20000)
        assert world.count("SELECT count(*) FROM durian_trees WHERE code = 'NHAN-MOI-0042'") == 1
        assert phone.errors == []
        browser.close()
