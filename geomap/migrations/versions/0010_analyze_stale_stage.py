"""geomap_analyze_stale(table, rows): ANALYZE a staging table whose statistics describe another
number of rows than it holds now, decided in the database

A field write stages its few rows in a per-connection temporary table, which needs statistics even
for one row (without them the planner guesses it large and scans a million-row layer to join it).
The write used to read the table's ``reltuples`` back and send ``ANALYZE`` when they differed: a
result to wait for, so the statements after it could not go in the same round trip.

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION geomap_analyze_stale(stage regclass, n bigint) RETURNS void LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF (SELECT reltuples FROM pg_class WHERE oid = stage) IS DISTINCT FROM n THEN "
        "EXECUTE format('ANALYZE %s', stage); "
        "END IF; "
        "END $$"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION geomap_analyze_stale(regclass, bigint)")
