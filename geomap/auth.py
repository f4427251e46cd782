"""Credentials: API tokens and browser sessions, stored only as hashes; passwords with scrypt.

A token is shown once (``geomap users token``) and looked up by its SHA-256; a password is
kept as an scrypt hash and checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

TOKEN_PREFIX = "gm_"
SESSION_COOKIE = "geomap_session"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class TeamRights:
    """What a volunteer's team may tag, and whether it has a working-area polygon (read with the
    caller, so a field write does not look the team up again)."""

    code: str
    provinces: tuple[str, ...]
    communes: tuple[str, ...]
    layers: tuple[str, ...]
    has_area: bool


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, and what that role is tied to (team, farms)."""

    role: str  # "public", "volunteer", "farmer" or "admin"
    user_id: str | None = None
    username: str = "public"
    team_code: str | None = None
    farm_ids: frozenset[str] = field(default_factory=frozenset)
    read_after: str | None = None  # WAL position of this user's last write (read replicas)
    team: TeamRights | None = None  # the team named by team_code, as it was when the caller was looked up

    @property
    def is_admin(self) -> bool:
        """Whether this principal may do everything."""
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """Name written into created_by/updated_by and history."""
        return self.username


PUBLIC = Principal(role="public")


def new_secret() -> str:
    """A fresh random token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def bearer_secret(authorization: str) -> str | None:
    """The token of an ``Authorization`` header value: scheme ``Bearer`` in any case, then the
    token (surrounding spaces dropped). None when the header is not a usable bearer credential.
    Authentication and the rate limits both parse the header with this, so however the header
    is spelled, one token is one credential."""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def secret_hash(secret: str) -> str:
    """The stored form of a token or session id."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    """scrypt hash with a random salt, as ``scrypt$salt$hash`` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    if not stored or not stored.startswith("scrypt$"):
        # Spend the same time as a real check so unknown users are not told apart.
        hashlib.scrypt(password.encode("utf-8"), salt=b"0" * 16, **_SCRYPT)
        return False
    _, salt, digest = stored.split("$")
    actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), **_SCRYPT)
    return hmac.compare_digest(actual, base64.b64decode(digest))
