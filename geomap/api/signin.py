"""Password guessing is slowed down per account and per client address.

Both sign-in doors (``POST /api/v1/auth/login`` and the ``POST /login`` form) pass through
:class:`SignInGuard`: an attempt is counted as a failure *before* the password is checked (so
parallel guesses are counted too) and forgiven when it succeeds or was not a guess at all (a
malformed body). After ``free`` failures each further attempt waits 1 s, 2 s, 4 s… up to the
maximum delay; an attempt that comes too early gets 429 with ``Retry-After`` and the password
is not even looked at. A success clears the account's failures, not the address's.
"""

from __future__ import annotations

import json
import math
import unicodedata

from starlette.requests import Request

from geomap.api.bodies import read_body, replay
from geomap.api.limits import limit_for
from geomap.api.throttle import Backoff
from geomap.problems import send_problem

API_LOGIN = "/api/v1/auth/login"
PAGE_LOGIN = "/login"
PATHS = (API_LOGIN, PAGE_LOGIN)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def account_key(username: str) -> str:
    """One key for every spelling of a username that could reach the same account."""
    return "acct:" + unicodedata.normalize("NFC", username.strip()).casefold()


async def username_of(scope, body: bytes) -> str | None:
    """The username a sign-in body carries, parsed the way the routes parse it (last key wins)."""
    media = Request(scope).headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media in FORM_TYPES:
            form = await Request(scope, replay(body, _nothing)).form()
            value = form.get("username")
        else:
            data = json.loads(body)
            value = data.get("username") if isinstance(data, dict) else None
    except Exception:  # any body the route itself will refuse (400/422): not a password guess
        return None
    return value if isinstance(value, str) else None


async def _nothing():
    return {"type": "http.disconnect"}


class SignInGuard:
    """Growing delays for sign-in, per account and per client address (one per app)."""

    def __init__(self, free_per_account: int, free_per_address: int, max_delay: float, clock=None) -> None:
        extra = {"clock": clock} if clock else {}
        self.accounts = Backoff(free_per_account, max_delay, **extra)
        self.addresses = Backoff(free_per_address, max_delay, **extra)

    async def __call__(self, app, scope, receive, send, address: str, headers: list) -> None:
        """Run the sign-in request ``scope`` through ``app`` unless it has to wait."""
        body, whole = await read_body(receive, limit_for(scope["path"]))
        receive = replay(body, receive)
        user = await username_of(scope, body) if whole else None
        keys = [(self.addresses, "ip:" + address)] + ([(self.accounts, account_key(user))] if user else [])
        wait = max(counter.wait(key) for counter, key in keys)
        if wait > 0:
            return await _too_early(scope, send, wait, headers)
        for counter, key in keys:
            counter.fail(key)
        status = 0

        async def watch(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, watch)
        finally:
            if status and status < 400:  # signed in: the account starts afresh, the address gets one back
                self.addresses.undo("ip:" + address)
                if user:
                    self.accounts.reset(account_key(user))
            elif status != 401:  # not a password check (bad body, server trouble): not a guess
                for counter, key in keys:
                    counter.undo(key)


async def _too_early(scope, send, wait: float, headers: list) -> None:
    retry = str(max(1, math.ceil(wait)))
    extra = [(b"retry-after", retry.encode()), *headers]
    if scope["path"] == PAGE_LOGIN:
        body = (
            '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Đăng nhập</title></head>'
            '<body style="font-size:18px;font-family:sans-serif;margin:1rem">'
            f"<p>Đã có quá nhiều lần đăng nhập sai. Vui lòng thử lại sau {retry} giây.</p>"
            f'<p lang="en">Too many failed sign-ins. Please try again in {retry} s.</p>'
            '<p><a href="/login">Đăng nhập / Sign in</a></p></body></html>'
        ).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})
        return
    await send_problem(send, 429, "Too many requests",
                       f"too many failed sign-ins for this account or address; try again in {retry} s", extra)
