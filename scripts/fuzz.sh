#!/usr/bin/env bash
# A longer Schemathesis run than the suite's, against a running geomap (default: make run's).
#   scripts/fuzz.sh [BASE_URL] [EXAMPLES]      e.g. scripts/fuzz.sh http://127.0.0.1:8000 200
# Set GEOMAP_FUZZ_TOKEN to fuzz as a signed-in role. Raise the server's write limits first
# (GEOMAP_WRITE_RATE_PER_TOKEN / _PER_IP) or many writes will be answered 429.
set -euo pipefail
base="${1:-http://127.0.0.1:8000}"
examples="${2:-200}"
auth=()
[ -n "${GEOMAP_FUZZ_TOKEN:-}" ] && auth=(-H "Authorization: Bearer ${GEOMAP_FUZZ_TOKEN}")
exec "$(dirname "$0")/../.venv/bin/schemathesis" run "$base/openapi.json" "${auth[@]}" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-examples "$examples" --workers 2 --report junit --report-dir test-artifacts/fuzz
