"""``geomap teams …`` and ``geomap users …``: volunteer teams, users and their tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from geomap.cli_common import fail, upgrade_and_publish
from geomap.settings import Settings

teams_app = typer.Typer(help="Volunteer teams (tổ công nghệ số) and their working areas.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)


def _accounts(fn):
    """Run ``fn(conn)`` in one transaction on the configured database, reporting domain errors."""
    from geomap.database import open_engine
    from geomap.errors import GeomapError

    with open_engine(Settings()) as engine:
        upgrade_and_publish(engine.url.render_as_string(hide_password=False))
        try:
            with engine.begin() as conn:
                return fn(conn)
        except GeomapError as exc:
            fail(exc.message)


@teams_app.command("add")
def teams_add(
    code: str = typer.Argument(..., help="Team code, e.g. DL-EAKLY-01"),
    name: str = typer.Option(..., "--name", help="Team name"),
    province: list[str] = typer.Option([], "--province", help="Province of the working area (repeatable)"),
    commune: list[str] = typer.Option([], "--commune", help="Commune of the working area (repeatable)"),
    area: Optional[Path] = typer.Option(None, "--area", help="GeoJSON file with the working-area polygon"),
    layer: list[str] = typer.Option([], "--layer", help="Layer the team may tag (repeatable; default: all but border markers)"),
) -> None:
    """Add a team with its working area and the layers it may tag."""
    from geomap.services.accounts import add_team

    geometry = None
    if area is not None:
        data = json.loads(area.read_text(encoding="utf-8"))
        if data.get("type") == "FeatureCollection":
            data = data["features"][0]
        geometry = data.get("geometry", data)
    _accounts(lambda conn: add_team(conn, code, name, province, commune, layer or None, geometry))
    typer.echo(f"team {code} added")


@users_app.command("add")
def users_add(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="admin, volunteer or farmer"),
    team: Optional[str] = typer.Option(None, "--team", help="Team code (volunteers)"),
    farm: list[str] = typer.Option([], "--farm", help="Farm code the farmer owns (repeatable)"),
    name: Optional[str] = typer.Option(None, "--name", help="Display name"),
    password: Optional[str] = typer.Option(
        None, "--password", help="Password for web sign-in (or set GEOMAP_NEW_PASSWORD; omit for token-only)",
        envvar="GEOMAP_NEW_PASSWORD",
    ),
) -> None:
    """Add a user."""
    from geomap.services.accounts import add_user

    _accounts(lambda conn: add_user(conn, username, role, team, farm, password, name))
    typer.echo(f"user {username} ({role}) added")


@users_app.command("token")
def users_token(
    username: str = typer.Argument(...),
    days: Optional[float] = typer.Option(None, "--days", help="Expire after this many days (default: never)"),
    label: Optional[str] = typer.Option(None, "--label", help="What the token is for (e.g. the phone)"),
) -> None:
    """Create an API token. It is printed once and stored only as a hash."""
    from geomap.services.accounts import issue_credential

    secret = _accounts(lambda conn: issue_credential(conn, username, "token", days, label))
    typer.echo(secret)


@users_app.command("revoke")
def users_revoke(username: str = typer.Argument(...)) -> None:
    """Revoke every token and session of a user."""
    from geomap.services.accounts import revoke

    n = _accounts(lambda conn: revoke(conn, username))
    typer.echo(f"revoked {n} credential(s) of {username}")


@teams_app.command("reports")
def teams_reports(
    code: str = typer.Argument(..., help="Team code"),
    webhook_url: Optional[str] = typer.Option(None, "--webhook-url", help="Where new and changed reports are POSTed"),
    secret: Optional[str] = typer.Option(None, "--secret", envvar="GEOMAP_WEBHOOK_SECRET",
                                         help="HMAC-SHA256 key of the signature (default: a new random one, printed once)"),
    auto_publish: Optional[bool] = typer.Option(None, "--auto-publish/--check-first",
                                                help="Publish the team's new reports at once, or after a member checks them"),
    clear_webhook: bool = typer.Option(False, "--clear-webhook", help="Stop sending webhooks"),
) -> None:
    """Set how a team receives citizen reports: its webhook and whether reports are public at once."""
    from geomap.reports.webhooks import configure_team

    out = _accounts(lambda conn: configure_team(conn, code, webhook_url=webhook_url, secret=secret,
                                                auto_publish=auto_publish, clear_webhook=clear_webhook))
    typer.echo(f"team {code}: webhook {out['webhook_url'] or 'none'}, auto-publish {'on' if out['auto_publish'] else 'off'}")
    if webhook_url is not None and secret is None:
        typer.echo(f"webhook secret (shown once; the receiver checks X-Geomap-Signature with it): {out['webhook_secret']}")


@teams_app.command("deliveries")
def teams_deliveries(code: str = typer.Argument(..., help="Team code"),
                     limit: int = typer.Option(20, "--limit", help="How many, newest first")) -> None:
    """The team's webhook delivery log."""
    from geomap.reports.webhooks import deliveries

    for d in _accounts(lambda conn: deliveries(conn, code, limit=limit)):
        typer.echo(f"{d['id']}\t{d['created_at']:%Y-%m-%d %H:%M:%S}\t{d['event']}\t{d['status']}\t"
                   f"attempts={d['attempts']}\t{d['last_status_code'] or ''}\t{d['last_error'] or ''}")
