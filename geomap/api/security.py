"""Security headers on every response, and rate limits on writes (429 with Retry-After).

Rate limits are token buckets kept in this process, per credential (the Authorization header
or session cookie, hashed) and per client IP. With several workers each keeps its own buckets,
so the effective limit is per worker; put a shared limiter in the reverse proxy for more.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time

from geomap.api.errors import send_problem

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = ("/api/v1/auth/login", "/login", "/logout")


def security_headers(basemap_url: str, inline_scripts: bool = False) -> list[tuple[bytes, bytes]]:
    """Headers added to every response. Scripts come from this site only; ``inline_scripts`` is
    for tipg's own HTML pages under /ogc, which still carry inline scripts."""
    from urllib.parse import urlsplit

    basemap = urlsplit(basemap_url.replace("{s}", "a"))
    img = f"'self' data: blob: {basemap.scheme}://{basemap.netloc}" if basemap.netloc else "'self' data: blob:"
    scripts = "'self' 'unsafe-inline'" if inline_scripts else "'self'"
    csp = (
        "default-src 'self'; "
        f"img-src {img}; "
        f"script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"SAMEORIGIN"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", b"geolocation=(self), camera=(), microphone=()"),
        (b"content-security-policy", csp.encode()),
    ]


class TokenBucket:
    """``rate`` requests per minute with bursts up to ``burst``, per key."""

    def __init__(self, rate_per_min: float, burst: int) -> None:
        self.rate = rate_per_min / 60.0
        self.burst = burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else seconds until a request would be."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                if len(self._state) > 100_000:
                    self._state.clear()
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / self.rate


class SecurityMiddleware:
    """ASGI middleware: security headers everywhere; write rate limits per credential and per IP."""

    def __init__(self, app, basemap_url: str, per_credential_per_min: float, per_ip_per_min: float) -> None:
        self.app = app
        self.headers = security_headers(basemap_url)
        self.ogc_headers = security_headers(basemap_url, inline_scripts=True)
        self.by_credential = TokenBucket(per_credential_per_min, burst=max(10, int(per_credential_per_min / 6)))
        self.by_ip = TokenBucket(per_ip_per_min, burst=max(10, int(per_ip_per_min / 6)))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        raw = (scope.get("raw_path") or b"") + b"?" + (scope.get("query_string") or b"")
        if b"%00" in raw or b"\x00" in raw:
            return await self._reject(send, 400, "Bad request", "NUL characters are not allowed in paths or parameters")
        if scope["method"] in WRITE_METHODS and not scope["path"].startswith(EXEMPT):
            wait = self._limit(scope)
            if wait:
                return await self._too_many(send, wait)

        own = self.ogc_headers if scope["path"].startswith("/ogc") else self.headers

        async def with_headers(message):
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in own if h[0] not in existing]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _limit(self, scope) -> float:
        headers = dict(scope.get("headers") or [])
        credential = headers.get(b"authorization") or _cookie(headers.get(b"cookie", b""))
        ip = (scope.get("client") or ("unknown", 0))[0]
        waits = [self.by_ip.take(f"ip:{ip}")]
        if credential:
            waits.append(self.by_credential.take("cred:" + hashlib.sha256(credential).hexdigest()))
        return max(waits)

    async def _reject(self, send, status: int, title: str, detail: str) -> None:
        await send_problem(send, status, title, detail, self.headers)

    async def _too_many(self, send, wait: float) -> None:
        retry = str(max(1, math.ceil(wait)))
        await send_problem(send, 429, "Too many requests", f"too many writes; retry after {retry} s",
                           [(b"retry-after", retry.encode()), *self.headers])


def _cookie(raw: bytes) -> bytes:
    for part in raw.split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == b"geomap_session":
            return value
    return b""
