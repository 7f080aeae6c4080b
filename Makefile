# Two commands on a fresh machine: `make run` (demo portal) and `make test` (every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app portal
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run reset-demo test install install-test chromium wrk translations bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

## Stamp files: pip runs again only when pyproject.toml changed (or the venv is new).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Debian's Chromium for the Playwright tests (Playwright cannot download browsers here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

## Debian's wrk, the HTTP load generator of bench/http_path.py (gunicorn measured over loopback).
wrk:
	@if ! command -v wrk >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; \
	fi

## Serve the demo portal on SQLite (instance/portal.db) with demo data on http://HOST:PORT
## (PORT=8000 make run for another port); prints the login, the same one every run.
run: install
	$(FLASK) migrate
	$(FLASK) seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

## Start the demo afresh: a new SQLite database, new demo data and a new login.
reset-demo: install
	rm -f instance/portal.db instance/portal.db-wal instance/portal.db-shm instance/demo_login
	$(FLASK) migrate
	$(FLASK) seed-demo

## Every test: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set.
test: install-test chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Extract/update/compile the English catalogs (core and each plugin); then translate the .po files.
translations: install
	$(FLASK) translations

bench: install-test wrk
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
