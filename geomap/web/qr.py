"""QR codes of asset pages, at error-correction level H (survives a weathered, dirty label)."""

from __future__ import annotations

import io
from ipaddress import ip_address
from urllib.parse import quote, urlsplit

import segno


def asset_url(public_url: str, code: str) -> str:
    """The absolute URL a label's QR code opens."""
    return f"{public_url.rstrip('/')}/a/{quote(code, safe='')}"


def qr_svg(url: str, scale: int = 4, inline: bool = True) -> str:
    """SVG of the QR code for ``url`` (inline markup, or a standalone document)."""
    qr = segno.make(url, error="h", micro=False)
    buf = io.BytesIO()
    # omitsize: a viewBox instead of fixed width/height, so CSS can size the code without clipping it.
    qr.save(buf, kind="svg", scale=scale, border=4, xmldecl=not inline, svgns=True, nl=False,
            title=url if not inline else None, omitsize=inline)
    return buf.getvalue().decode()


def qr_png(url: str, scale: int = 10) -> bytes:
    """PNG of the QR code for ``url``."""
    buf = io.BytesIO()
    segno.make(url, error="h", micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine only (QR codes printed with it open nothing elsewhere)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
