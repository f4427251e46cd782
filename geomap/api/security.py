"""Security headers on every response (HSTS over HTTPS), and rate limits (429 with Retry-After).

Write limits are token buckets kept in this process, per credential and per client address.
The credential is the secret that authenticates (a bearer token parsed exactly as
authentication parses it, or the session cookie), keyed by its stored hash, so no spelling of
the header makes a new bucket. The client address is the TCP peer's unless that peer is a
trusted proxy (:mod:`geomap.api.proxies`). Sign-in has its own growing delays
(:mod:`geomap.api.signin`). With several workers each keeps its own counters, so the
effective limit is per worker; put a shared limiter in the reverse proxy for more.
"""

from __future__ import annotations

import math
import secrets

from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from geomap.problems import send_problem
from geomap.api.proxies import TrustedProxies
from geomap.api.signin import PATHS as SIGN_IN_PATHS, SignInGuard
from geomap.api.throttle import TokenBucket
from geomap.auth import SESSION_COOKIE, bearer_secret, secret_hash
from geomap.settings import Settings

OGC_PREFIX = "/ogc"
#: Key in the ASGI scope's state under which this request's CSP nonce is kept.
CSP_NONCE = "csp_nonce"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = ("/api/v1/auth/login", "/login", "/logout")  # sign-in has its own limits


def security_headers(basemap_url: str, nonce: str | None = None) -> list[tuple[bytes, bytes]]:
    """Headers added to every response. Scripts come from this site only; ``nonce`` admits the
    inline scripts of tipg's HTML pages under /ogc, which carry this request's nonce
    (geomap/ogc/app.py writes it into their templates) — never ``'unsafe-inline'``."""
    from urllib.parse import urlsplit

    basemap = urlsplit(basemap_url.replace("{s}", "a"))
    img = f"'self' data: blob: {basemap.scheme}://{basemap.netloc}" if basemap.netloc else "'self' data: blob:"
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
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


class SecurityMiddleware:
    """ASGI middleware: security headers everywhere (HSTS over HTTPS); write rate limits per
    credential and per client address; growing delays on sign-in."""

    def __init__(self, app, basemap_url: str, per_credential_per_min: float, per_ip_per_min: float,
                 settings: Settings | None = None) -> None:
        settings = settings or Settings(_env_file=None)
        self.app = app
        self.headers = security_headers(basemap_url)
        self.basemap_url = basemap_url
        self.hsts = (b"strict-transport-security", f"max-age={settings.hsts_max_age_s}".encode())
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.by_credential = TokenBucket(per_credential_per_min, burst=max(10, int(per_credential_per_min / 6)))
        self.by_ip = TokenBucket(per_ip_per_min, burst=max(10, int(per_ip_per_min / 6)))
        self.sign_in = SignInGuard(settings.sign_in_free_failures_per_account, settings.sign_in_free_failures_per_ip,
                                   settings.sign_in_max_delay_s)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        raw = (scope.get("raw_path") or b"") + b"?" + (scope.get("query_string") or b"")
        if b"%00" in raw or b"\x00" in raw:
            return await self._reject(send, 400, "Bad request", "NUL characters are not allowed in paths or parameters")
        client = self.proxies.client(scope)
        own = self._ogc_headers(scope) if scope["path"].startswith(OGC_PREFIX) else self.headers
        headers = own + [self.hsts] if client.https else own
        if scope["method"] == "POST" and scope["path"] in SIGN_IN_PATHS:
            return await self.sign_in(self._with_headers(headers), scope, receive, send, client.address, headers)
        if scope["method"] in WRITE_METHODS and not scope["path"].startswith(EXEMPT):
            wait = self._limit(scope, client.address)
            if wait:
                return await self._too_many(send, wait, headers)
        await self._with_headers(headers)(scope, receive, send)

    def _with_headers(self, headers: list[tuple[bytes, bytes]]):
        async def app(scope, receive, send):
            async def with_headers(message):
                if message["type"] == "http.response.start":
                    existing = {k.lower() for k, _ in message.get("headers", [])}
                    message["headers"] = list(message.get("headers", [])) + [h for h in headers if h[0] not in existing]
                await send(message)

            await self.app(scope, receive, with_headers)

        return app

    def _ogc_headers(self, scope) -> list[tuple[bytes, bytes]]:
        """Headers for /ogc, with a fresh nonce that tipg's HTML templates read from the scope."""
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})[CSP_NONCE] = nonce
        return security_headers(self.basemap_url, nonce=nonce)

    def _limit(self, scope, address: str) -> float:
        waits = [self.by_ip.take(f"ip:{address}")]
        credential = credential_key(scope)
        if credential:
            waits.append(self.by_credential.take(credential))
        return max(waits)

    async def _reject(self, send, status: int, title: str, detail: str) -> None:
        await send_problem(send, status, title, detail, self.headers)

    async def _too_many(self, send, wait: float, headers: list[tuple[bytes, bytes]]) -> None:
        retry = str(max(1, math.ceil(wait)))
        await send_problem(send, 429, "Too many requests", f"too many writes; retry after {retry} s",
                           [(b"retry-after", retry.encode()), *headers])


def credential_key(scope) -> str | None:
    """The bucket of the credential authentication will use: the bearer token when an
    Authorization header is sent (parsed as :func:`geomap.auth.bearer_secret` parses it, the
    first header as Starlette reads it), else the session cookie; keyed by the secret's stored
    hash. None when the request carries no usable credential (it can only be refused)."""
    headers = Headers(scope=scope)
    auth = headers.get("authorization")
    if auth is not None:
        secret = bearer_secret(auth)
        return "token:" + secret_hash(secret) if secret else None
    cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
    return "session:" + secret_hash(cookie) if cookie else None
