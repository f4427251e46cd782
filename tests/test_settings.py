"""Settings: the public URL printed in QR codes and follow links reaches this server."""

from __future__ import annotations

from geomap.settings import Settings


def test_the_public_url_follows_the_port_unless_set():
    assert Settings(public_url="", port=8177).public_url == "http://127.0.0.1:8177"
    assert Settings(public_url="", host="0.0.0.0", port=9000).public_url == "http://127.0.0.1:9000"
    assert Settings(public_url="https://geomap.example.vn", port=8177).public_url == "https://geomap.example.vn"
