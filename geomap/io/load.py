"""``geomap load``: read, validate and bulk-write asset files, each file all-or-nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from tqdm import tqdm

from geomap.errors import InvalidInput, LoadError
from geomap.io import fingerprint
from geomap.io.read import Source, read_source
from geomap.io.validate import validate_slices
from geomap.io.staging import copy_to_stage
from geomap.io.write import WriteResult, check_stage, upsert_stage
from geomap.layers.registry import LAYERS

log = logging.getLogger(__name__)

#: Files with at least this many features (or, when the count is only known after reading, this
#: many bytes) show a progress bar on a terminal.
PROGRESS_MIN = 20_000
PROGRESS_MIN_BYTES = 10_000_000
#: The bar: what the load is doing first, then how far it is; short enough that an 80-column
#: terminal still shows the bar. Until a GeoJSON has been read its total is unknown: a count.
BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]"
COUNT_FORMAT = "{desc}: {n_fmt} [{elapsed}, {rate_fmt}]"


#: Memory for each sort and hash of a load's set-based statements (this transaction only). The
#: join of a million staged rows with a million-tree layer, which finds the rows a reload leaves
#: as they are, takes 3.3 s in one batch against 5.3 s in eight with the server's 32 MB.
LOAD_WORK_MEM = "256MB"

T = TypeVar("T")
_END = object()


def one_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items``, each produced in a worker thread while the caller uses the one before: a file's
    next slice is validated while the previous one is copied to the database. An error in either
    stops both (the worker finishes the slice it is on)."""
    with ThreadPoolExecutor(1, thread_name_prefix="geomap-validate") as pool:
        pending = pool.submit(next, items, _END)
        while (item := pending.result()) is not _END:
            pending = pool.submit(next, items, _END)
            yield item


def _layer_rank(name: str) -> int:
    """Where layer ``name`` comes in the registry (referenced layers first); unknown names last."""
    names = [layer.name for layer in LAYERS]
    return names.index(name) if name in names else len(names)


def _load_source(conn, source: Source, bar: tqdm, actor: str, repair: bool, max_vertices: int | None) -> WriteResult:
    """One layer of the file, inside the load's transaction: three stages at once — GDAL reads the
    next batch while the one before is validated and the one before that is copied — then the
    set-based checks and the write with history."""
    layer, label = source.layer, source.label
    bar.set_description_str(f"{layer.name}: reading")  # and validating and copying
    with closing(one_ahead(source.frames)) as frames:
        slices = validate_slices(layer, frames, label, repair=repair, max_vertices=max_vertices)
        with closing(one_ahead(slices)) as staged:
            copied = copy_to_stage(conn, layer, staged, progress=bar)
    if bar.total is None:
        bar.total, bar.bar_format = 2 * copied, BAR_FORMAT
        bar.refresh()
    bar.set_description_str(f"{layer.name}: checking")  # references, containment and codes
    check_stage(conn, layer, label)
    bar.set_description_str(f"{layer.name}: writing")  # with history
    result = upsert_stage(conn, layer, actor, label, copied)
    bar.update(copied)
    return result


def load_file(
    engine: Engine,
    path: Path,
    layer_name: str | None = None,
    repair: bool = False,
    actor: str = "loader",
    progress: bool | None = None,
    max_vertices: int | None = None,
) -> list[WriteResult]:
    """Load one file in one transaction; raise :class:`InvalidInput`/:class:`LoadError` on any problem.

    A GeoPackage with several layers is loaded referenced-layers-first, still in one transaction.
    A file that was the last thing loaded into its layers, which nothing has written since, is
    answered "nothing changed" without being read again (:mod:`geomap.io.fingerprint`).
    """
    digest = fingerprint.file_digest(Path(path), layer_name, repair, max_vertices) if Path(path).exists() else None
    if digest is not None:
        with engine.connect() as conn:
            done = fingerprint.already_loaded(conn, digest)
        if done is not None:
            return [WriteResult(layer, label, n, same_file=True) for layer, label, n in done]
    sources = sorted(read_source(Path(path), layer_name), key=lambda source: _layer_rank(source.layer.name))
    counts = [source.count for source in sources]
    total = None if None in counts else sum(counts)
    large = Path(path).stat().st_size >= PROGRESS_MIN_BYTES if total is None else total >= PROGRESS_MIN
    results: list[WriteResult] = []
    # progress=True: always; None: for large files, when stderr is a terminal; False: never.
    disable = False if progress else (None if progress is None and large else True)
    # Each feature counts twice: once when copied to the database, once when written with its
    # history. A GeoJSON's count is known once it has been read.
    with tqdm(total=None if total is None else 2 * total, desc=f"load {Path(path).name}", unit=" steps",
              bar_format=COUNT_FORMAT if total is None else BAR_FORMAT, disable=disable) as bar:
        try:
            with engine.begin() as conn:
                conn.execute(text(f"SET LOCAL work_mem = '{LOAD_WORK_MEM}'"))
                for source in sources:
                    results.append(_load_source(conn, source, bar, actor, repair, max_vertices))
                bar.set_description_str("committing")
                fingerprint.remember(conn, digest, [(r.layer, r.source, r.features) for r in results])
        except IntegrityError as exc:  # whatever the checks and integrity_errors did not name
            log.warning("load of %s refused by the database: %s", path, exc.orig)
            raise LoadError(f"{path}: the database refused the data; nothing was written") from None
    return results


def load_paths(engine: Engine, paths: Iterable[Path], **kwargs) -> list[WriteResult]:
    """Load several files, each in its own transaction, in layer order (farms before trees)."""
    results: list[WriteResult] = []
    for path in sorted(paths, key=path_order):
        results.extend(load_file(engine, path, **kwargs))
    return results


def path_order(path: Path) -> tuple[int, str]:
    """Sort key that puts referenced layers' files first (farms before durian_trees)."""
    stem = Path(path).name.split(".")[0]
    return _layer_rank(stem), str(path)


__all__ = ["load_file", "load_paths", "InvalidInput", "LoadError", "WriteResult"]
