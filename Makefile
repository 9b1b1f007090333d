# The two commands of the README: `make serve` and `make test`. Each does all the set-up it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed

.PHONY: serve test test-fast lint setup assets browser clients

# Serving needs the runtime dependencies only; the tests add the test extras (pytest, Playwright, atheris...).
serve: $(RUNTIME) assets
	$(BIN)/kgraph serve

test: setup browser clients
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/ruff format --check src tests bench fuzz
	$(BIN)/mypy
	$(BIN)/pytest

# The inner loop while changing code: everything but the slow and the browser tests (about 4 minutes on 2 cores).
test-fast: setup
	$(BIN)/pytest -q -m "not slow and not browser"

lint: setup
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/ruff format --check src tests bench fuzz
	$(BIN)/mypy

setup: $(STAMP) assets

# The query page's editor (YASGUI) and the resource pages' map (Leaflet, topojson-client and the world-atlas country
# outlines, public domain Natural Earth data), from the npm lock file into the git-ignored static/vendor/: served
# locally, never from a CDN or a tile server, so the pages work offline.
VENDOR := src/kgraph/web/static/vendor
YASGUI := node_modules/@zazuko/yasgui/build
LEAFLET := node_modules/leaflet/dist

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p $(VENDOR)
	cp $(YASGUI)/yasgui.min.js $(YASGUI)/yasgui.min.js.map $(YASGUI)/yasgui.min.css $(VENDOR)/
	mkdir -p $(VENDOR)/leaflet
	cp -r $(LEAFLET)/leaflet.js $(LEAFLET)/leaflet.js.map $(LEAFLET)/leaflet.css $(LEAFLET)/images $(VENDOR)/leaflet/
	cp node_modules/topojson-client/dist/topojson-client.min.js node_modules/world-atlas/countries-50m.json $(VENDOR)/
	touch $@

# The SPARQL clients of tests/web/test_clients.py that are not Python packages (Comunica), from their lock file.
clients: tests/clients/node_modules/.installed

tests/clients/node_modules/.installed: tests/clients/package.json tests/clients/package-lock.json
	cd tests/clients && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Debian's Chromium for the browser tests (pytest -m browser), installed only when missing.
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)
