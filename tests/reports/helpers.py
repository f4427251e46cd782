"""Shared bits of the report tests: posting a report, a JPEG with GPS in its EXIF."""

from __future__ import annotations

import io
import uuid

from PIL import Image

from tests.world import World

REPORTS = "/api/v1/reports"
PHONE = "+84 912 345 678"
EMAIL = "nguoi.bao.su.co.7391@example.vn"
NAME = "Trần Thị Báo Cáo"


def report_body(**overrides) -> dict:
    """A wifi outage at NB-WIFI-001 with the reporter's (private) contact."""
    body = {"category": "wifi_points.mat_ket_noi", "asset_code": "NB-WIFI-001",
            "description": "Wifi ở nhà văn hóa xóm 4 mất kết nối từ sáng", "reporter_name": NAME,
            "reporter_phone": PHONE, "reporter_email": EMAIL, "client_id": str(uuid.uuid4()),
            "device_id": "dev-" + uuid.uuid4().hex}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_report(world: World, headers: dict | None = None, **overrides):
    """POST a report; returns the response."""
    return world.client.post(REPORTS, json=report_body(**overrides), headers=headers or {})


def jpeg_with_gps(size=(640, 480)) -> bytes:
    """A JPEG whose EXIF carries a GPS position (as a phone photo does)."""
    img = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (20.0, 3.0, 36.0), 3: "E", 4: (106.0, 3.0, 0.0)}
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()
