"""Password sign-in with a session cookie (for the web pages), sign-out, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from geomap.api.deps import SESSION_COOKIE, EngineDep, PrincipalDep, SettingsDep
from geomap.api.schemas import LoginIn
from geomap.services import accounts

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
SESSION_DAYS = 14


@router.post("/login", summary="Sign in with a password; sets a secure session cookie")
def login(body: LoginIn, engine: EngineDep, settings: SettingsDep, response: Response) -> dict:
    """Open a browser session (HttpOnly, SameSite=Lax, Secure behind HTTPS)."""
    with engine.begin() as conn:
        secret = accounts.sign_in(conn, body.username, body.password, days=SESSION_DAYS)
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=SESSION_DAYS * 86400, httponly=True, samesite="lax",
        secure=settings.public_url.startswith("https://"), path="/",
    )
    return {"signed_in": body.username}


@router.post("/logout", summary="Sign out (revokes the session)")
def logout(request: Request, engine: EngineDep, response: Response) -> dict:
    """End the browser session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with engine.begin() as conn:
            accounts.revoke_secret(conn, secret)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"signed_in": None}


@router.get("/me", summary="Who the credentials belong to")
def me(principal: PrincipalDep) -> dict:
    """Role, team and farms of the caller (``public`` without credentials)."""
    return {"username": principal.username, "role": principal.role, "team": principal.team_code,
            "farms": sorted(principal.farm_ids)}
