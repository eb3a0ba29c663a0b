# The two commands in README.md: `make demo` and `make test`. Each sets up
# what it needs on a fresh machine (virtual environment, packages, Chromium, and
# PostgreSQL's server programs, which the tests start a throwaway server from).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MO := intake/translations/fa/LC_MESSAGES/messages.mo

.PHONY: demo test bench lint translations chromium postgresql clean

demo: $(STAMP) $(MO)
	$(BIN)/intake demo

test: $(STAMP) $(MO) chromium postgresql
	$(BIN)/python -m pytest

bench: $(STAMP) $(MO)
	$(BIN)/python bench/crypto.py
	$(BIN)/python bench/submit.py

lint: $(STAMP)
	$(BIN)/pip install --quiet ruff mypy
	$(BIN)/ruff check intake tests bench
	$(BIN)/mypy

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

translations: $(MO)

$(MO): intake/translations/fa/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d intake/translations

# Update the message catalogue after changing translatable strings.
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --project intake -o intake/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i intake/translations/messages.pot -d intake/translations

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get install -y --no-install-recommends chromium || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }; }

# Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, off PATH; tests/pg.py
# looks there. Installing the package also makes the `postgres` account the server runs as
# when the tests run as root. Debian starts a cluster of its own; the tests never use it.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  $(SUDO) apt-get install -y --no-install-recommends postgresql || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends postgresql; }; }

clean:
	rm -rf $(VENV) test-output .pytest_cache .hypothesis
