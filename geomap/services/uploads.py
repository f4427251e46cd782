"""Administrators' bulk upload: asset files (any CRS with a .prj) saved to a scratch folder and loaded.

A request carries one asset file — GeoJSON, GeoPackage, CSV, a zipped Shapefile, or a ``.shp``
with its ``.shx``/``.dbf``/``.prj``/``.cpg`` sidecars — and is all-or-nothing like ``geomap load``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from geomap.auth import Principal
from geomap.errors import FieldProblem, Forbidden, GeomapError, InvalidInput
from geomap.io.load import load_file
from geomap.io.write import WriteResult

MAIN_SUFFIXES = (".geojson", ".json", ".gpkg", ".csv", ".zip", ".shp")
SIDECAR_SUFFIXES = (".shx", ".dbf", ".prj", ".cpg")
SAFE_NAME = re.compile(r"^[\w][\w.\- ]{0,120}$")


def _checked_names(names: list[str]) -> tuple[list[str], str]:
    """The files' plain names and the one asset file among them; :class:`InvalidInput` otherwise."""
    plain = [Path(n or "").name for n in names]
    bad = [n for n in plain if not SAFE_NAME.match(n) or not n.lower().endswith(MAIN_SUFFIXES + SIDECAR_SUFFIXES)]
    if bad:
        raise InvalidInput([FieldProblem("files", f"'{bad[0][:80]}' is not a .geojson, .gpkg, .csv, .zip or "
                                                  "Shapefile part (.shp .shx .dbf .prj .cpg)")])
    mains = [n for n in plain if n.lower().endswith(MAIN_SUFFIXES)]
    if len(mains) != 1:
        raise InvalidInput([FieldProblem("files", f"send exactly one asset file per upload (found {len(mains)}), "
                                                  "plus a Shapefile's sidecars")])
    if len(set(plain)) != len(plain):
        raise InvalidInput([FieldProblem("files", "two files have the same name")])
    return plain, mains[0]


def load_upload(engine: Engine, principal: Principal, files: list[tuple[str, BinaryIO]], layer_name: str | None,
                max_vertices: int | None = None) -> list[WriteResult]:
    """Save ``files`` (name, stream) side by side and load the asset file among them (administrators)."""
    if not principal.is_admin:
        raise Forbidden("only administrators upload asset files")
    names, main = _checked_names([name for name, _ in files])
    folder = Path(tempfile.mkdtemp(prefix="geomap-upload-"))
    try:
        for name, (_, stream) in zip(names, files):
            with open(folder / name, "wb") as out:
                shutil.copyfileobj(stream, out)
        results = load_file(engine, folder / main, layer_name=layer_name or None, actor=principal.actor,
                            progress=False, max_vertices=max_vertices)
    except InvalidInput as exc:  # name the uploaded file, not the scratch folder
        raise InvalidInput(exc.problems, source=main) from None
    except GeomapError as exc:
        raise type(exc)(exc.message.replace(f"{folder}/", ""), log_detail=exc.log_detail) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results
