"""Teams, users and their credentials (used by the CLI and by sign-in)."""

from __future__ import annotations

import datetime as dt
import hmac
import json

from sqlalchemy import Connection, text

from geomap import prepared
from geomap.auth import PUBLIC, Principal, TeamRights, check_password, hash_password, new_secret, secret_hash
from geomap.errors import Conflict, GeomapError, NotFound, Unauthorized
from geomap.layers.registry import LAYERS, get_layer

ROLES = ("admin", "volunteer", "farmer")


def add_team(
    conn: Connection,
    code: str,
    name: str,
    provinces: list[str] = (),
    communes: list[str] = (),
    layers: list[str] | None = None,
    area_geojson: dict | None = None,
) -> None:
    """Create a team with its working area (provinces/communes and/or a polygon) and layers."""
    if layers is None:
        layers = [layer.name for layer in LAYERS if layer.taggable_by_default]
    for name_ in layers:
        get_layer(name_)
    if not provinces and not communes and area_geojson is None:
        raise GeomapError("a team needs a working area: --province, --commune or --area")
    exists = conn.execute(text("SELECT 1 FROM teams WHERE code = :c"), {"c": code}).first()
    if exists:
        raise Conflict(f"team {code} already exists")
    conn.execute(
        text(
            "INSERT INTO teams (code, name, provinces, communes, layers, area) VALUES (:code, :name, :p, :c, :l, "
            "CASE WHEN CAST(:area AS text) IS NULL THEN NULL "
            "ELSE ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(CAST(:area AS text)), 4326)) END)"
        ),
        {"code": code, "name": name, "p": list(provinces), "c": list(communes), "l": list(layers),
         "area": json.dumps(area_geojson) if area_geojson else None},
    )


def add_user(
    conn: Connection,
    username: str,
    role: str,
    team_code: str | None = None,
    farm_codes: list[str] = (),
    password: str | None = None,
    display_name: str | None = None,
) -> str:
    """Create a user; return its id. Volunteers need a team, farmers at least one farm."""
    if role not in ROLES:
        raise GeomapError(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
    if role == "volunteer" and not team_code:
        raise GeomapError("a volunteer belongs to a team: give --team")
    if role == "farmer" and not farm_codes:
        raise GeomapError("a farmer owns at least one farm: give --farm CODE")
    if team_code and not conn.execute(text("SELECT 1 FROM teams WHERE code = :c"), {"c": team_code}).first():
        raise NotFound(f"no team has code {team_code}")
    if conn.execute(text("SELECT 1 FROM users WHERE username = :u"), {"u": username}).first():
        raise Conflict(f"user {username} already exists")
    user_id = conn.execute(
        text(
            "INSERT INTO users (username, display_name, role, team_code, password_hash) "
            "VALUES (:u, :d, :r, :t, :p) RETURNING id"
        ),
        {"u": username, "d": display_name, "r": role, "t": team_code,
         "p": hash_password(password) if password else None},
    ).scalar_one()
    for code in farm_codes:
        farm = conn.execute(text("SELECT id FROM farms WHERE code = :c AND deleted_at IS NULL"), {"c": code}).first()
        if farm is None:
            raise NotFound(f"no farm has code {code}")
        conn.execute(text("INSERT INTO user_farms (user_id, farm_id) VALUES (:u, :f)"), {"u": user_id, "f": farm.id})
    return str(user_id)


def _user_id(conn: Connection, username: str) -> str:
    row = conn.execute(text("SELECT id FROM users WHERE username = :u"), {"u": username}).first()
    if row is None:
        raise NotFound(f"no user called {username}")
    return str(row.id)


def issue_credential(conn: Connection, username: str, kind: str = "token", days: float | None = None, label: str | None = None) -> str:
    """Create a token (or session id) for ``username``; the secret is returned once, stored hashed."""
    user_id = _user_id(conn, username)
    secret = new_secret()
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days) if days else None
    conn.execute(
        text("INSERT INTO credentials (user_id, kind, secret_hash, label, expires_at) VALUES (:u, :k, :h, :l, :e)"),
        {"u": user_id, "k": kind, "h": secret_hash(secret), "l": label, "e": expires},
    )
    return secret


def revoke(conn: Connection, username: str) -> int:
    """Revoke every live token and session of ``username``; return how many."""
    user_id = _user_id(conn, username)
    return conn.execute(
        text("UPDATE credentials SET revoked_at = now() WHERE user_id = :u AND revoked_at IS NULL"), {"u": user_id}
    ).rowcount


def revoke_secret(conn: Connection, secret: str) -> None:
    """Revoke one token or session (sign-out)."""
    conn.execute(text("UPDATE credentials SET revoked_at = now() WHERE secret_hash = :h"), {"h": secret_hash(secret)})


def principal_for_secret(conn: Connection, secret: str, kind: str) -> Principal:
    """The principal holding ``secret``, or :class:`Unauthorized`. One query: credential, user,
    farms, the user's read fence (see geomap/replicas.py) and the user's team."""
    digest = secret_hash(secret)
    row = prepared.execute(
        conn,
        "SELECT c.secret_hash, c.expires_at, c.revoked_at, u.id AS user_id, u.username, u.role, u.team_code, "
        "u.active, ARRAY(SELECT f.farm_id::text FROM user_farms f WHERE f.user_id = u.id) AS farm_ids, "
        "(SELECT r.lsn FROM read_fences r WHERE r.user_id = u.id) AS read_after, "
        "t.code AS team, t.provinces, t.communes, t.layers, t.area IS NOT NULL AS has_area "
        "FROM credentials c JOIN users u ON u.id = c.user_id LEFT JOIN teams t ON t.code = u.team_code "
        "WHERE c.secret_hash = :h AND c.kind = :k",
        {"h": digest, "k": kind},
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        raise Unauthorized("unknown token" if kind == "token" else "not signed in")
    if row.revoked_at is not None:
        raise Unauthorized("this token has been revoked" if kind == "token" else "signed out")
    if row.expires_at is not None and row.expires_at < dt.datetime.now(dt.timezone.utc):
        raise Unauthorized("this token has expired" if kind == "token" else "session expired; sign in again")
    if not row.active:
        raise Unauthorized("this account is disabled")
    team = None if row.team is None else TeamRights(row.team, tuple(row.provinces), tuple(row.communes),
                                                     tuple(row.layers), row.has_area)
    return Principal(role=row.role, user_id=str(row.user_id), username=row.username, team_code=row.team_code,
                     farm_ids=frozenset(row.farm_ids), read_after=row.read_after, team=team)


def sign_in(conn: Connection, username: str, password: str, days: float = 14) -> str:
    """Check a password and open a session; return the session secret for the cookie."""
    row = conn.execute(text("SELECT password_hash, active FROM users WHERE username = :u"), {"u": username}).first()
    if not check_password(password, row.password_hash if row else None) or not row.active:
        raise Unauthorized("wrong username or password")
    return issue_credential(conn, username, kind="session", days=days, label="browser")


__all__ = ["PUBLIC", "add_team", "add_user", "issue_credential", "principal_for_secret"]
