# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo-round test test-quick test-sqlite test-postgresql coverage lint bench clean

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

# The whole suite (README, "Tests"): every test that touches a database runs on
# SQLite and again on PostgreSQL (127.0.0.1:5432, database `test`), the others
# once; Redis at 127.0.0.1:6379 and Chromium too. Anything missing fails the
# run, never skips. JOBS: pytest-xdist workers (default: one more than the
# cores, as many tests wait on servers and sockets).
JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST := $(PY) -m pytest -n $(JOBS) --dist loadgroup

test: $(STAMP)
	$(PYTEST)

# The inner loop: SQLite only, Hypothesis' quick profile, no browser.
test-quick: $(STAMP)
	MATCHER_TEST_DATABASE=sqlite HYPOTHESIS_PROFILE=quick $(PYTEST) -m "not browser"

# One database only, everything else as in `make test`.
test-sqlite: $(STAMP)
	MATCHER_TEST_DATABASE=sqlite $(PYTEST)

test-postgresql: $(STAMP)
	MATCHER_TEST_DATABASE=postgresql $(PYTEST)

# Line coverage of matcher/, solvers/ and web/ over the whole suite, the
# servers it starts included (pyproject.toml: [tool.coverage]).
coverage: $(STAMP)
	rm -rf .coverage-data && mkdir .coverage-data
	$(PY) -m coverage run -m pytest -n $(JOBS) --dist loadgroup
	$(PY) -m coverage combine -q
	$(PY) -m coverage report

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m benchmarks.pairing
	$(PY) -m benchmarks.rotation
	$(PY) -m benchmarks.robust
	$(PY) -m benchmarks.rotation_bounds
	$(PY) -m benchmarks.groups
	$(PY) -m benchmarks.cafe_live
	$(PY) -m benchmarks.signups
	$(PY) -m benchmarks.cafe_live --database postgresql
	$(PY) -m benchmarks.cafe_live --processes 2 --database postgresql

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .coverage-data
