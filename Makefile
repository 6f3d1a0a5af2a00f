# Espace citoyen — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: run test lint bench install install-dev migrate demo worker scheduler messages clean schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[redis]'
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

## Absolute links (emails, the demo partner's OIDC callback) on the port `make run` serves.
run demo: export BASE_URL ?= http://$(HOST):$(PORT)

demo: migrate
	$(BIN)/python manage.py hub demo

## The hub with demo data on http://$(HOST):$(PORT), a task worker and the scheduler of
## periodic jobs (scheduled pages and alerts, sweeps); Ctrl-C stops all three.
run: demo
	@echo "Espace citoyen: http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py db_worker & \
	$(BIN)/python manage.py hub scheduler & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: $(STAMP)
	$(BIN)/python manage.py db_worker

scheduler: $(STAMP)
	$(BIN)/python manage.py hub scheduler

## The whole suite: lint, architecture contracts, unit, integration and browser tests.
test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## Regenerate the committed OpenAPI schema (docs/openapi.yaml) after changing the API;
## tests/test_openapi_drift.py fails while it differs from what the code generates.
schema: $(STAMP)
	$(BIN)/python manage.py spectacular --lang fr --validate --fail-on-warn --file docs/openapi.yaml

## Performance figures beside their targets (PASS/MISS), SQLite and PostgreSQL; the load
## generator is Debian's wrk, installed here when missing and apt-get is at hand (a
## slower Python generator is used otherwise). One database: BENCH_ARGS="--only postgresql".
bench: $(DEV_STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || true
	$(BIN)/python bench/run.py $(BENCH_ARGS)

messages: $(DEV_STAMP)
	cd hub && ../$(BIN)/django-admin makemessages -l fr --ignore '*/migrations/*'
	for m in modules/*/; do (cd $$m && ../../$(BIN)/django-admin makemessages -l fr); done
	cd theme && ../$(BIN)/django-admin makemessages -l fr

clean:
	rm -rf var/test .pytest_cache
