"""The ``geomap`` command: serve, db, load, export, sample-data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from geomap.cli_accounts import teams_app, users_app
from geomap.cli_common import fail as _fail
from geomap.cli_common import upgrade_and_publish as _upgrade
from geomap.settings import Settings

app = typer.Typer(
    help="geomap — bản đồ tài sản số cộng đồng (community asset map).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database: migrations and the embedded PostGIS.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(teams_app, name="teams")
app.add_typer(users_app, name="users")


def _parse_bbox(bbox: Optional[str]) -> tuple[float, float, float, float] | None:
    if not bbox:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
    except ValueError:
        _fail("--bbox takes minlon,minlat,maxlon,maxlat")
    if not (x0 < x1 and y0 < y1):
        _fail("--bbox needs minlon < maxlon and minlat < maxlat")
    return (x0, y0, x1, y1)


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="Address to listen on (default GEOMAP_HOST, 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, help="Port (default GEOMAP_PORT, 8000)."),
    sample_data: bool = typer.Option(False, "--sample-data", help="Load data/geojson when the database holds no assets."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="App processes (stateless; they share the database)."),
) -> None:
    """Apply pending migrations and serve the API and map pages."""
    import os

    import uvicorn

    from geomap.api.app import create_app
    from geomap.api.proxies import SERVER_OPTIONS
    from geomap.database import Database, make_engine

    # --host/--port as if set in the environment: the settings (their public URL too) and any
    # worker processes see them
    os.environ.update({k: str(v) for k, v in (("GEOMAP_HOST", host), ("GEOMAP_PORT", port)) if v is not None})
    settings = Settings()
    host, port = settings.host, settings.port
    if workers == 1 and not sample_data:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level, **SERVER_OPTIONS)
        return
    db = Database(settings)  # this process keeps the embedded server registered while workers run
    try:
        url = db.open()
        _upgrade(url)
        if sample_data:
            engine = make_engine(url)
            try:
                _load_sample_if_empty(engine)
            finally:
                engine.dispose()
        if workers == 1:
            uvicorn.run(create_app(settings.model_copy(update={"database_url": url}), migrate=False),
                        host=host, port=port, log_level=settings.log_level, **SERVER_OPTIONS)
        else:
            os.environ.update(GEOMAP_DATABASE_URL=url, GEOMAP_MIGRATE_ON_START="false")
            uvicorn.run("geomap.api.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                        log_level=settings.log_level, **SERVER_OPTIONS)
    finally:
        db.close()


def _load_sample_if_empty(engine) -> None:
    from geomap.io.load import load_paths
    from geomap.services.health import layer_counts

    if any(layer_counts(engine).values()):
        return
    files = sorted(Path("data/geojson").glob("*.geojson"))
    if not files:
        typer.echo("no sample data under data/geojson; run `geomap sample-data` to make it", err=True)
        return
    typer.echo(f"loading sample data from data/geojson ({len(files)} files)...")
    for result in load_paths(engine, files, actor="sample-data"):
        typer.echo(f"  {result.layer}: {result.inserted} new")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from geomap.database import Database
    from geomap.migrate import current

    db = Database(Settings())
    try:
        url = db.open()
        _upgrade(url, revision)
        typer.echo(f"database at revision {current(url)}")
    finally:
        db.close()


@db_app.command("revision")
def db_revision(message: str = typer.Option(..., "-m", "--message", help="What the migration does.")) -> None:
    """Autogenerate a migration from the layer registry (after adding or changing a layer).

    The database is first brought to the newest migration (schema only: a layer declared in the
    registry but without a table yet must not be published), then compared with the registry.
    """
    from geomap.database import Database
    from geomap.migrate import revision, upgrade

    db = Database(Settings())
    try:
        url = db.open()
        upgrade(url)
        revision(url, message)
        typer.echo("review the new file under geomap/migrations/versions/, then run `geomap db upgrade`")
    finally:
        db.close()


@db_app.command("status")
def db_status() -> None:
    """Where the database is, and the embedded server's state."""
    from geomap.embedded import EmbeddedPostgres

    settings = Settings()
    if settings.database_url:
        typer.echo(json.dumps({"external": True}, indent=2))
        return
    typer.echo(json.dumps(EmbeddedPostgres(settings.home_dir, run_as=settings.pg_user).status(), indent=2))


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostGIS now, even if a geomap process still uses it."""
    from geomap.embedded import EmbeddedPostgres

    settings = Settings()
    EmbeddedPostgres(settings.home_dir, run_as=settings.pg_user).stop_now()
    typer.echo("embedded PostGIS stopped")


@db_app.command("remove")
def db_remove(yes: bool = typer.Option(False, "--yes", help="Yes, delete the embedded database and all its data.")) -> None:
    """Stop the embedded PostGIS and delete its cluster (all data), also when its files live under
    /var/lib/geomap/clusters. Refused while a geomap process still uses it."""
    from geomap.embedded import EmbeddedPostgres

    if not yes:
        _fail("this deletes every asset in the embedded database; add --yes to confirm")
    settings = Settings()
    pg = EmbeddedPostgres(settings.home_dir, run_as=settings.pg_user)
    if not pg.remove():
        _fail(f"geomap processes {pg.live_clients()} still use the embedded PostGIS; stop them first")
    typer.echo(f"embedded PostGIS removed ({pg.data})")


@db_app.command("replica")
def db_replica(
    stop: bool = typer.Option(False, "--stop", help="Stop the replica instead."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Copy the primary afresh (pg_basebackup) first."),
) -> None:
    """Start a streaming replica of the embedded PostGIS (to try read replicas on one machine).

    Prints the URL to put in GEOMAP_READ_DATABASE_URLS. The replica keeps running until
    ``geomap db replica --stop``; it follows the primary whenever the primary runs.
    """
    from geomap.embedded import EmbeddedPostgres, EmbeddedReplica
    from geomap.errors import GeomapError

    settings = Settings()
    primary = EmbeddedPostgres(settings.home_dir, run_as=settings.pg_user)
    replica = EmbeddedReplica(settings.home_dir / "replica", primary, run_as=settings.pg_user)
    if stop:
        replica.stop_now()
        typer.echo("replica stopped")
        return
    if primary.running_port() is None:
        raise GeomapError("the embedded PostGIS is not running: start `geomap serve` (make run) first")
    if rebuild:
        replica.rebuild()
    url = replica.acquire()
    replica.release_registration()
    typer.echo(f"GEOMAP_READ_DATABASE_URLS={url}")


@app.command()
def load(
    paths: list[Path] = typer.Argument(..., help="GeoJSON, GeoPackage, Shapefile (.shp or zipped) or CSV files; any CRS with a .prj."),
    layer: Optional[str] = typer.Option(None, "--layer", help="Layer name (default: from the file name)."),
    repair: bool = typer.Option(False, "--repair", help="Repair invalid polygons instead of refusing them."),
) -> None:
    """Validate and load asset files; each file is all-or-nothing and reloading is idempotent."""
    from geomap.database import open_engine
    from geomap.errors import GeomapError, InvalidInput
    from geomap.io.load import load_file, path_order

    settings = Settings()
    with open_engine(settings) as engine:
        _upgrade(engine.url.render_as_string(hide_password=False))
        failed = False
        for path in sorted(paths, key=path_order):
            try:
                for r in load_file(engine, path, layer_name=layer, repair=repair, progress=None,
                                     max_vertices=settings.geometry_max_vertices):
                    same = " (this file was loaded last and nothing was written since)" if r.same_file else ""
                    typer.echo(f"{r.layer}: {r.inserted} new, {r.updated} updated, {r.unchanged} unchanged "
                               f"(from {r.source}){same}")
            except InvalidInput as exc:
                failed = True
                typer.secho(f"{exc.source}: nothing written; {len(exc.problems)} problem(s):", fg=typer.colors.RED, err=True)
                for p in exc.problems[:50]:
                    typer.echo(f"  {p.describe()}", err=True)
                if len(exc.problems) > 50:
                    typer.echo(f"  ... and {len(exc.problems) - 50} more", err=True)
            except GeomapError as exc:
                failed = True
                detail = f" ({exc.log_detail})" if exc.log_detail else ""
                typer.secho(f"error: {exc.message}{detail} (nothing written)", fg=typer.colors.RED, err=True)
    if failed:
        raise typer.Exit(1)


@app.command()
def export(
    layer: str = typer.Argument(..., help="Layer name."),
    fmt: str = typer.Option("geojson", "--format", "-f", help="geojson, gpkg, csv, kml or shp (zipped)."),
    crs: Optional[str] = typer.Option(None, "--crs", help="Output CRS, e.g. EPSG:9218 (VN-2000 / TM-3 108°30′)."),
    labels: Optional[str] = typer.Option(None, "--labels", help="vi or en: enum values as labels."),
    bbox: Optional[str] = typer.Option(None, "--bbox", help="minlon,minlat,maxlon,maxlat"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write (default LAYER.FORMAT)."),
    include_private: bool = typer.Option(
        False, "--include-private", help="Administrators: include personal data (owner name, phone)."
    ),
) -> None:
    """Export one layer; public attributes only unless --include-private."""
    from geomap.database import open_engine
    from geomap.crs import resolve
    from geomap.errors import InvalidInput
    from geomap.io.export import DRIVERS, SUFFIXES, export_layer
    from geomap.layers.registry import UnknownLayer, get_layer

    if fmt not in DRIVERS:
        _fail(f"unknown format '{fmt}'; use one of {', '.join(DRIVERS)}")
    try:
        lyr = get_layer(layer)
    except UnknownLayer as exc:
        _fail(str(exc))
    try:
        target = resolve(crs)
    except InvalidInput as exc:
        _fail(exc.message)
    if labels not in (None, "vi", "en"):
        _fail("--labels takes vi or en")
    box = _parse_bbox(bbox)
    out = output or Path(f"{layer}.{SUFFIXES.get(fmt, fmt)}")
    with open_engine(Settings()) as engine:
        n = export_layer(engine, lyr, fmt, out, bbox=box, include_private=include_private,  # type: ignore[arg-type]
                         target=target, labels=labels)
    typer.echo(f"wrote {n} features to {out}")


def _on_database(fn) -> None:
    """Run ``fn(url, home)`` with the configured database open (embedded or external)."""
    from geomap.database import Database

    settings = Settings()
    db = Database(settings)
    try:
        fn(db.open(), settings.home_dir)
    finally:
        db.close()


@app.command("backup")
def backup_cmd(output: Path = typer.Argument(..., help="Backup file to write (.tar)")) -> None:
    """Back up the database (pg_dump) and the photos into one file."""
    from geomap.backup import backup

    _on_database(lambda url, home: backup(url, home, output))
    typer.echo(f"backup written to {output}")


@app.command("restore")
def restore_cmd(archive: Path = typer.Argument(..., help="A file made by `geomap backup`")) -> None:
    """Restore a backup into the configured database (replacing geomap's tables) and photos."""
    from geomap.backup import restore

    _on_database(lambda url, home: restore(url, home, archive))
    typer.echo(f"restored {archive}")


@app.command("sample-data")
def sample_data(
    output: Path = typer.Option(Path("data/geojson"), "-o", "--output"),
    seed: int = typer.Option(7, help="Same seed, same files."),
    trees: int = typer.Option(10_000, help="How many durian trees."),
) -> None:
    """Regenerate the sample GeoJSON files (one per layer)."""
    from geomap.sampledata import generate

    counts = generate(output, seed=seed, n_trees=trees)
    for name, n in counts.items():
        typer.echo(f"{output / (name + '.geojson')}: {n} features")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except Exception as exc:  # last resort: a clear message, not a traceback, for known errors
        from geomap.embedded import EmbeddedError
        from geomap.errors import GeomapError

        if isinstance(exc, (EmbeddedError, GeomapError)):
            detail = getattr(exc, "log_detail", None)
            typer.secho(f"error: {exc}" + (f" ({detail})" if detail else ""), fg=typer.colors.RED, err=True)
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
