# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo-round test lint bench clean

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

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m benchmarks.pairing
	$(PY) -m benchmarks.rotation
	$(PY) -m benchmarks.cafe_live

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
