# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo-round test test-sqlite test-postgresql lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The app with the demo data at http://127.0.0.1:5000 (it prints where to sign in).
run: $(STAMP)
	$(PY) -m matcher serve --demo --port 5000

# One round for the demo trust from the command line, printed.
demo-round: $(STAMP)
	$(PY) -m matcher.pair seeds/people.csv --history seeds/history.csv --avoid seeds/avoid.csv --seed 1

# The whole suite on SQLite, then again on PostgreSQL (127.0.0.1:5432, database
# `test`; Redis at 127.0.0.1:6379 too): either missing fails the run, never skips.
# The browser tests run on SQLite only (tests/conftest.py says why).
test: test-sqlite test-postgresql

test-sqlite: $(STAMP)
	MATCHER_TEST_DATABASE=sqlite $(PY) -m pytest

test-postgresql: $(STAMP)
	MATCHER_TEST_DATABASE=postgresql $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m benchmarks.pairing
	$(PY) -m benchmarks.rotation
	$(PY) -m benchmarks.cafe_live
	$(PY) -m benchmarks.signups
	$(PY) -m benchmarks.cafe_live --database postgresql
	$(PY) -m benchmarks.cafe_live --processes 2 --database postgresql

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
