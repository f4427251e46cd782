"""Knowing that a file was already loaded into exactly the data it would load into again.

A data officer reloads the same export after a failed upload or "just to be sure"; at a million
trees reading, validating and comparing it costs a minute to change nothing. After each load the
loader records the file's SHA-256 (with the options that shape the result) and a fingerprint of
the layer's state: rows, the sum of their versions and the last ``updated_at``, of the layer and
of the layers it references (a tree's farm can be filled in by containment). Any write since —
a field edit, a delete, a restore, another load — changes the fingerprint, and the next load of
the file runs in full. Only when both match is the load answered "nothing changed" at once.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import Connection, text

from geomap.layers.registry import get_layer
from geomap.sql import q

SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


def file_digest(path: Path, *options: object) -> str:
    """SHA-256 of the file (and of a Shapefile's or CSV's sidecar files) and the load options."""
    path = Path(path)
    digest = hashlib.sha256(repr(options).encode())
    parts = [path] + [path.with_suffix(s) for s in SIDECARS if path.suffix.lower() in (".shp", ".csv")]
    for part in parts:
        if part.exists():
            with open(part, "rb") as fh:
                digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


def state(conn: Connection, layers: list[str]) -> str:
    """Fingerprint of the rows of ``layers`` and of the layers they reference."""
    tables = []
    for name in layers:
        layer = get_layer(name)
        tables += [layer.table] + [get_layer(a.ref_layer).table for a in layer.ref_attributes if a.ref_layer]
    parts = " || '/' || ".join(
        f"(SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(updated_at)::text, '') FROM {q(t)})"
        for t in sorted(set(tables))
    )
    return conn.execute(text(f"SELECT {parts}")).scalar_one()


def already_loaded(conn: Connection, digest: str) -> list[tuple[str, str, int]] | None:
    """``(layer, label, features)`` of each layer of the file, when loading it again would change
    nothing (it was the last thing to write its layers); else None."""
    row = conn.execute(text("SELECT state, results FROM loaded_files WHERE digest = :d"), {"d": digest}).first()
    if row is None or row.state != state(conn, [r[0] for r in row.results]):
        return None
    return [(layer, label, int(n)) for layer, label, n in row.results]


def remember(conn: Connection, digest: str, results: list[tuple[str, str, int]]) -> None:
    """Record, in the load's own transaction, that this file has just been loaded."""
    conn.execute(
        text("INSERT INTO loaded_files (digest, results, state) VALUES (:d, CAST(:r AS jsonb), :s) "
             "ON CONFLICT (digest) DO UPDATE SET results = EXCLUDED.results, state = EXCLUDED.state, at = now()"),
        {"d": digest, "r": json.dumps(results, ensure_ascii=False), "s": state(conn, [r[0] for r in results])},
    )
