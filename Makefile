# The two commands in README.md: `make demo` and `make test`. Each sets up
# what it needs on a fresh machine (virtual environment, packages, Chromium,
# PostgreSQL's server programs, which the tests start a throwaway server from, and
# the tools that check deploy/: systemd-analyze, tor, nginx, python3-seccomp).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MO := intake/translations/fa/LC_MESSAGES/messages.mo

.PHONY: demo test bench lint translations chromium postgresql deploy-tools clean

demo: $(STAMP) $(MO)
	$(BIN)/intake demo

test: $(STAMP) $(MO) chromium postgresql deploy-tools
	$(BIN)/python -m pytest -m ''  # every test, the slow ones too

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

# tests/deploy checks each file in deploy/ with the tool that owns its format, and
# runs intake under the units' system-call filter (seccomp from Debian's Python).
DEPLOY_TOOLS := systemd tor nginx python3-seccomp
deploy-tools:
	@{ command -v systemd-analyze && command -v tor && \
	   { command -v nginx || [ -x /usr/sbin/nginx ]; } && \
	   /usr/bin/python3 -c 'import seccomp'; } >/dev/null 2>&1 || { \
	  $(SUDO) apt-get install -y --no-install-recommends $(DEPLOY_TOOLS) || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $(DEPLOY_TOOLS); }; }

# Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, off PATH; tests/pg.py
# looks there. Installing the package also makes the `postgres` account the server runs as
# when the tests run as root. Debian starts a cluster of its own; the tests never use it.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  $(SUDO) apt-get install -y --no-install-recommends postgresql || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends postgresql; }; }

clean:
	rm -rf $(VENV) test-output .pytest_cache .hypothesis
