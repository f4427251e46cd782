"""A large load into an empty layer builds its secondary indexes and foreign keys after the insert.

Maintaining the spatial index, the plain B-trees and a per-row foreign-key check while a million
rows go in cost ~20 s of a 1M-tree load's insert, and the trigram search index's pending list
~14 s more; building the same indexes once afterwards (PostgreSQL sorts the points for the GiST
build and collects the trigrams in memory for the GIN build) and validating each foreign key in one
set-based query takes far less (bench/NOTES.md has the measurements). Everything happens
in the load's transaction: a load that fails rolls the dropped indexes and constraints back with it.

Only for an empty layer the loading role owns, because ``DROP INDEX`` locks the table until the load commits: readers of
that layer (and writers of the farms its trees reference) wait for the load, which is acceptable
for a first import and not for a layer people are already using. Unique indexes stay (the upsert
and the code rule need them). A load into a layer that has rows keeps every index; its search
index takes the entries into its pending list and merges them once (:func:`geomap.io.write.upsert_stage`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

from geomap.layers.base import Layer
from geomap.sql import q

#: Staged rows from which a load into an empty layer builds its indexes afterwards.
BULK_ROWS = 5_000
#: Memory for each index build after a large load (this transaction only).
BUILD_MEMORY = "256MB"

_DEFERRABLE_INDEXES = """
    SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am a ON a.oid = i.relam
     WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisunique AND a.amname IN ('btree', 'gist', 'gin')
     ORDER BY i.relname
"""
_FOREIGN_KEYS = """
    SELECT conname AS name, pg_get_constraintdef(oid) AS definition
      FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname
"""


@contextmanager
def built_after(conn: Connection, layer: Layer, staged: int) -> Iterator[bool]:
    """Around a load's insert: when ``staged`` is large and the layer holds no row, drop its
    non-unique B-tree/GiST/GIN indexes and foreign keys, and create them again after the block.
    Yields whether it did."""
    table = q(layer.table)
    empty = staged >= BULK_ROWS and conn.execute(text(
        f"SELECT NOT EXISTS (SELECT 1 FROM {table}) AND pg_has_role(c.relowner, 'USAGE') "
        f"FROM pg_class c WHERE c.oid = CAST(:t AS regclass)"), {"t": layer.table}).scalar_one()
    if not empty:
        yield False
        return
    indexes = conn.execute(text(_DEFERRABLE_INDEXES), {"t": layer.table}).all()
    keys = conn.execute(text(_FOREIGN_KEYS), {"t": layer.table}).all()
    for key in keys:
        conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {q(key.name)}"))
    for index in indexes:
        conn.execute(text(f"DROP INDEX {q(index.name)}"))
    yield True
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'"))
    for index in indexes:
        conn.execute(text(index.definition))
    for key in keys:
        conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {q(key.name)} {key.definition}"))
