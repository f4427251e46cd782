#!/usr/bin/env bash
# Installs the system packages geomap needs, only those that are missing.
#   scripts/install-system-deps.sh          # PostgreSQL + PostGIS + Python venv (make run)
#   scripts/install-system-deps.sh --test   # ... plus Chromium and GDAL's command-line tools (make test)
set -euo pipefail

want=()
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1; }

python3 -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv python3-pip)
command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
[ -n "$(pg_major)" ] && [ -x "/usr/lib/postgresql/$(pg_major)/bin/initdb" ] || want+=(postgresql)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  command -v ogrinfo >/dev/null 2>&1 || want+=(gdal-bin)
fi

apt_install() {
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "missing system packages: $*" >&2
    echo "install them as root: apt-get install -y --no-install-recommends $*" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${GEOMAP_APT_UPDATED:-}" ]; then $SUDO apt-get update -q; export GEOMAP_APT_UPDATED=1; fi
  $SUDO apt-get install -y -q --no-install-recommends "$@"
}

if [ ${#want[@]} -gt 0 ]; then
  echo "installing system packages: ${want[*]}"
  apt_install "${want[@]}"
fi

major="$(pg_major)"
if [ ! -f "/usr/share/postgresql/${major}/extension/postgis.control" ]; then
  echo "installing PostGIS for PostgreSQL ${major}"
  apt_install "postgresql-${major}-postgis-3"
fi
