# geomap — two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)

.PHONY: run test system-deps system-deps-test venv assets bench clean

run: system-deps venv assets
	$(BIN)/geomap serve --sample-data

test: system-deps-test venv assets
	$(BIN)/pytest -q

system-deps:
	@scripts/install-system-deps.sh

system-deps-test:
	@scripts/install-system-deps.sh --test

venv: $(STAMP)

# Map pages serve Leaflet and its plugins themselves (offline-safe), installed from the lock file.
assets: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

# The benchmark suite (1,000,000 trees; about half an hour on 2 cores): writes docs/BENCHMARKS.md.
bench: system-deps-test venv assets
	@command -v wrk >/dev/null || $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q wrk
	$(BIN)/python -m bench.run

clean:
	-$(BIN)/geomap db stop 2>/dev/null
	-$(BIN)/geomap db remove --yes 2>/dev/null  # its files may live under /var/lib/geomap/clusters
	rm -rf $(VENV) .geomap node_modules
