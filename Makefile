# Two commands for a new machine: `make run` (set up, migrate, seed the demo trust, serve on
# http://127.0.0.1:5000) and `make test` (set up, run the whole suite). Everything else here
# is what they call.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app preceptor

.PHONY: run test setup lint serve clean bench-capacity bench

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed static/vendor/.copied static/vendor/.compressed

# Python packages into a virtual environment; redone when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Front-end packages from npm (exact versions from package-lock.json) copied into static/vendor/.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/vendor/.copied: node_modules/.installed preceptor/vendor.py $(VENV)/.installed
	$(BIN)/python -m preceptor.vendor
	touch $@

# Gzip and brotli copies of static/'s text files, again when the portal's own CSS or JavaScript changes.
static/vendor/.compressed: static/vendor/.copied $(wildcard static/css/*.css static/js/*.js)
	$(BIN)/python -m preceptor.vendor compress
	touch $@

lint: setup
	$(BIN)/ruff check .

# Production-style: gunicorn, 2 sync workers. Set DATABASE_URL for PostgreSQL.
serve: setup
	$(FLASK) db upgrade
	$(BIN)/gunicorn --workers 2 --preload --bind 127.0.0.1:8000 wsgi:app

# Times the capacity report and a cohort proposal on a large generated trust; prints figures.
bench-capacity: setup
	$(BIN)/python -m preceptor.capacity_bench

# Load benchmark (issue 9): gunicorn with 2 sync workers over the large generated trust in a throwaway
# database (SQLite; a scratch database on the PostgreSQL server when DATABASE_URL points there), each
# role's pages and their htmx fragments at 16 connections with wrk, or locust where wrk is missing.
# Prints a Markdown table for the README. Quick run: make bench BENCH_ARGS="--trust demo --seconds 3"
bench: setup
	command -v wrk >/dev/null || $(BIN)/python -c 'import locust' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m preceptor.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor
