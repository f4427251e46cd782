"""What the ``geomap`` commands share: failing with a clear message, and bringing the database
to the newest schema with its OGC views published."""

from __future__ import annotations

import typer


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def upgrade_and_publish(url: str, revision: str = "head") -> None:
    """Apply the schema migrations, then (at the newest one) publish the OGC views."""
    from geomap.migrate import upgrade
    from geomap.ogc.views import publish_views

    upgrade(url, revision)
    if revision == "head":
        publish_views(url)
