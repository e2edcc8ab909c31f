# Two commands for a new machine: `make run` (set up, migrate, seed the demo trust, serve on
# http://127.0.0.1:5000) and `make test` (set up, run the whole suite). Everything else here
# is what they call.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app preceptor

.PHONY: run test setup lint serve clean bench-capacity

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

clean:
	rm -rf $(VENV) node_modules static/vendor
