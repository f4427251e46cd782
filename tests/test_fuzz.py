"""Schema-driven fuzzing: Schemathesis over the whole OpenAPI schema (API, pages' JSON, /ogc), as
public, volunteer, farmer and admin. Seeded and bounded here; ``scripts/fuzz.sh`` runs longer.

Checks: no 5xx, responses conform to the documented schemas, status codes and content types.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.world import World, serve

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.fixture
def fuzz_server(world: World, settings):
    yield from serve(settings, write_rate_per_token=1_000_000, write_rate_per_ip=1_000_000)


@pytest.mark.parametrize("role", [None, "volunteer", "farmer", "admin"])
def test_no_server_errors_and_schema_conformance(fuzz_server, world: World, role, tmp_path):
    args = [str(SCHEMATHESIS), "run", f"{fuzz_server}/openapi.json", "--checks", CHECKS,
            "--max-examples", os.environ.get("GEOMAP_FUZZ_EXAMPLES", "6"), "--seed", "20261122",
            "--workers", "2", "--exclude-path-regex", "^/(ogc/collections/\\{collectionId\\}/tiles/\\{tileMatrixSetId\\}/(style|tilejson)|health)",
            "--report", "junit", "--report-dir", str(tmp_path)]
    if role:
        args += ["-H", f"Authorization: Bearer {world.tokens[role]}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    tail = proc.stdout[-4000:]
    assert proc.returncode == 0, tail
    assert " passed" in tail and "generated" in tail
