# Two commands on a fresh machine: `make run` (demo portal) and `make test` (every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app portal
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test chromium translations bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

## Debian's Chromium for the Playwright tests (Playwright cannot download browsers here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

## Serve the demo portal on SQLite (instance/portal.db) with demo data; prints the login.
run: install
	$(FLASK) migrate
	$(FLASK) seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

## Every test: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set.
test: install-test chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Extract/update/compile the English catalogs (core and each plugin); then translate the .po files.
translations: install
	$(FLASK) translations

bench: install-test
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
