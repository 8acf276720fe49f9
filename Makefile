# Two commands on a fresh Debian machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-sqlite test-postgres install install-test translations lint \
        extract-messages update-messages system-deps bench bench-deps loadtest clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

translations: install
	$(BIN)/pybabel -q compile -d intake/translations

# The demo shows the clinic's phone wherever patients are told to call (a
# made-up number unless CLINIC_PHONE is set).
run: export CLINIC_PHONE ?= +81 3 0000 0000
run: install translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# Debian's Chromium for the browser tests (with CJK fonts, so screenshots of
# the Chinese and Japanese pages show text), Debian's PostgreSQL server for the
# second run of the suite; installed only when missing.
system-deps:
	@command -v chromium >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  && ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium postgresql fonts-noto-cjk >/dev/null; }

# bandit: the security linter, medium and high findings fail the build.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r intake -ll

test-sqlite: install-test translations system-deps
	$(BIN)/python -m pytest -q

test-postgres: install-test translations system-deps
	bash scripts/with-postgres.sh $(BIN)/python -m pytest -q

test: lint test-sqlite test-postgres

extract-messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _l -k lazy_gettext -o intake/translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel -q update -i intake/translations/messages.pot -d intake/translations --no-fuzzy-matching

# The four in-process benchmarks, then every key page of a clinic group's
# database under gunicorn beside hello world (wrk from Debian, installed when
# missing; results in bench/results.json, docs/benchmarks.md).
bench: install-test translations bench-deps
	$(BIN)/python scripts/bench_availability.py
	$(BIN)/python scripts/bench_lab_board.py
	$(BIN)/python scripts/bench_schedule.py
	$(BIN)/python scripts/bench_pipeline.py
	$(BIN)/python scripts/bench_pages.py

bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# Gunicorn (4 sync workers) on SQLite and on a throwaway PostgreSQL, loopback
# only: 50 clients racing for the last seats, a worker killed mid-load; the
# last line is the figures, non-zero exit on any (docs/loadtest.md).
loadtest: install-test translations system-deps
	$(BIN)/python scripts/loadtest.py

clean:
	rm -rf $(VENV) instance
