"""Photos: type by bytes, size limit, EXIF GPS stripped, thumbnails, permissions."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import text

from tests.world import World
from tests.api.test_features import BASE, problem


def _jpeg_with_gps(size=(800, 600)) -> bytes:
    img = Image.new("RGB", size, (30, 140, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (12.0, 42.0, 30.0), 3: "E", 4: (108.0, 18.0, 5.0)}
    exif[0x8825] = gps
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def _tree(world: World) -> str:
    with world.engine.connect() as conn:
        return conn.execute(text("SELECT id::text FROM durian_trees WHERE farm_id = :f LIMIT 1"), {"f": world.farm["id"]}).scalar_one()


def test_upload_strips_gps_and_makes_a_thumbnail(world: World):
    tid = _tree(world)
    data = _jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the original has GPS
    r = world.client.post(f"{BASE}/{tid}/photos", files={"file": ("cay.jpg", data, "image/jpeg")}, headers=world.auth("volunteer"))
    assert r.status_code == 201, r.text
    photo = r.json()
    assert (photo["width"], photo["height"], photo["content_type"]) == (800, 600, "image/jpeg")
    listed = world.client.get(f"{BASE}/{tid}/photos").json()
    assert [p["id"] for p in listed] == [photo["id"]]
    served = world.client.get(photo["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(served.content))
    assert not img.getexif().get_ifd(0x8825) and 0x8825 not in img.getexif()
    thumb = Image.open(io.BytesIO(world.client.get(photo["thumbnail_url"]).content))
    assert max(thumb.size) == 320


def test_lying_oversized_and_bomb_images_are_refused(world: World):
    tid = _tree(world)
    url, h = f"{BASE}/{tid}/photos", world.auth("volunteer")
    problem(world.client.post(url, files={"file": ("x.jpg", b"%PDF-1.4 not an image", "image/jpeg")}, headers=h), 422, "file")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    problem(world.client.post(url, files={"file": ("x.png", gif.getvalue(), "image/png")}, headers=h), 422, "file", "GIF")
    truncated = _jpeg_with_gps()[:2000]
    problem(world.client.post(url, files={"file": ("x.jpg", truncated, "image/jpeg")}, headers=h), 422, "file")
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")  # a few KB on disk, 400 Mpx in memory
    problem(world.client.post(url, files={"file": ("bomb.png", bomb.getvalue(), "image/png")}, headers=h), 422, "file", "too large")
    problem(world.client.post(url, files={"file": ("big.jpg", b"\xff" * (11 * 1024 * 1024), "image/jpeg")}, headers=h), 413)
    problem(world.client.post(url, files={"file": ("x.jpg", _jpeg_with_gps(), "image/jpeg")}), 401)
    problem(world.client.post(url, files={"file": ("x.jpg", _jpeg_with_gps(), "image/jpeg")}, headers=world.auth("other_farmer")), 403)
    problem(world.client.get("/api/v1/photos/..%2F..%2Fetc%2Fpasswd"), 404)
    problem(world.client.get("/api/v1/photos/not-a-uuid.jpg"), 404)
    assert world.count("SELECT count(*) FROM photos") == 0


def _png(size) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 180, 40)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def test_pixels_are_bounded_before_decoding(world: World, settings):
    """A 6000×6000 PNG is ~100 KiB on the wire and ~150 MB decoded: refused from its header."""
    url, h = f"{BASE}/{_tree(world)}/photos", world.auth("volunteer")
    data = _png((6000, 6000))
    assert len(data) < 1024 * 1024
    body = problem(world.client.post(url, files={"file": ("big.png", data, "image/png")}, headers=h), 422, "file")
    assert "6000×6000" in body["detail"] and "megapixels" in body["detail"]
    # The bound is a setting.
    from fastapi.testclient import TestClient

    from geomap.api.app import create_app

    with TestClient(create_app(settings.model_copy(update={"photo_max_pixels": 400_000}))) as small:
        problem(small.post(url, files={"file": ("a.jpg", _jpeg_with_gps((800, 600)), "image/jpeg")}, headers=h), 422, "file", "0.4 megapixels")
        assert small.post(url, files={"file": ("a.jpg", _jpeg_with_gps((600, 600)), "image/jpeg")}, headers=h).status_code == 201
    assert world.count("SELECT count(*) FROM photos") == 1


def test_photo_uploads_get_the_photo_body_limit_by_post_and_by_put():
    from geomap.api.limits import MiB, limit_for

    base = "/api/v1/layers/durian_trees/features/0b6f0a52-8a64-4c38-9d55-0f4f3c2b7a11/photos"
    assert limit_for(base) == limit_for(base + "/5f1e0a52-8a64-4c38-9d55-0f4f3c2b7a12") == 11 * MiB
    assert limit_for("/api/v1/layers/durian_trees/features") == 1 * MiB
    assert limit_for("/api/v1/layers/durian_trees/features/batch") == 24 * MiB
