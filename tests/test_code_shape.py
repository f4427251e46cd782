"""The shape the code promises (README, STYLE): small modules, short functions, imports that run
downhill at the top of each module. A change that breaks it fails here, not in a review."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "geomap"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
#: The command line imports lazily so that `geomap --help` starts fast (not to dodge a cycle).
LAZY_IMPORTS_ALLOWED = {"geomap/cli.py", "geomap/cli_common.py", "geomap/cli_accounts.py"}
#: Which packages a package may import (what sits below it). Pages and the API sit on top.
LOWER = {
    "geomap/layers": {"geomap.layers"},
    "geomap/services": {"geomap.services", "geomap.layers", "geomap.io", "geomap.sql", "geomap.auth", "geomap.errors",
                        "geomap.schemas", "geomap.geometry", "geomap.history", "geomap.integrity", "geomap.codes",
                        "geomap.tables", "geomap.settings", "geomap.migrate", "geomap.crs"},
    "geomap/io": {"geomap.io", "geomap.crs", "geomap.layers", "geomap.sql", "geomap.errors", "geomap.schemas", "geomap.geometry",
                  "geomap.history", "geomap.integrity", "geomap.tables", "geomap.settings", "geomap.migrate"},
    "geomap/migrations": {"geomap.tables", "geomap.layers", "geomap.check_constraints", "geomap.codes", "geomap.sql"},
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/versions/" not in rel:
            yield rel, ast.parse(path.read_text(encoding="utf-8"))


def test_modules_and_functions_stay_small():
    too_big = []
    for rel, tree in _modules():
        lines = len((ROOT / rel).read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{rel}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_big.append(f"{rel}:{node.lineno} {node.name}(): {length} lines")
    assert too_big == []


def test_geomap_imports_sit_at_the_top_of_modules():
    hidden = []
    for rel, tree in _modules():
        if rel in LAZY_IMPORTS_ALLOWED:
            continue
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geomap"):
                        hidden.append(f"{rel}:{node.lineno} from {node.module}")
    assert hidden == []


def test_imports_run_downhill():
    uphill = []
    for rel, tree in _modules():
        allowed = next((ok for prefix, ok in LOWER.items() if rel.startswith(prefix + "/")), None)
        if allowed is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geomap."):
                if not any(node.module == a or node.module.startswith(a + ".") for a in allowed):
                    uphill.append(f"{rel}:{node.lineno} imports {node.module}")
    assert uphill == []
