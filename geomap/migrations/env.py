"""Alembic environment: geomap's metadata, online migrations only."""

from alembic import context
from alembic.operations import ops
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from geomap import check_constraints  # noqa: F401  (registers the CHECK comparator)
from geomap.codes import trigger_sql
from geomap.layers.registry import layer_names
from geomap.tables import build_metadata

config = context.config
target_metadata = build_metadata()


def include_object(obj, name, type_, reflected, compare_to):
    """Leave PostGIS's own tables (spatial_ref_sys...) alone."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def write_revision(ctx, revision, directives) -> None:
    """GeoAlchemy's rewrites, then: a new layer table gets the code trigger (geomap/codes.py)."""
    alembic_helpers.writer(ctx, revision, directives)
    layers = set(layer_names())
    for script in directives:
        upgrade_ops = script.upgrade_ops
        out = []
        for op in upgrade_ops.ops:
            out.append(op)
            if isinstance(op, ops.CreateTableOp) and op.table_name in layers:
                out.extend(ops.ExecuteSQLOp(sql) for sql in trigger_sql(op.table_name))
        upgrade_ops.ops[:] = out


def run_migrations_online() -> None:
    """Run migrations in one transaction on a real connection."""
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            process_revision_directives=write_revision,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
