# Two commands matter: `make plan` and `make test`. Everything else is for maintainers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev

.PHONY: plan test lint bench import check-import clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

plan: $(VENV)/.runtime  ## offline plan for STACK (default dev): chosen profile, why, cost
	$(PY) scripts/plan.py --stack $(STACK)

test: $(VENV)/.test  ## lint + every test
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.test
	$(PY) -m ruff check .

bench: $(VENV)/.runtime  ## speed targets, measured as whole processes
	$(PY) scripts/bench.py

import: $(VENV)/.runtime  ## rebuild profiles/data/profiles/published.csv from ../shared/data
	$(PY) scripts/import_published.py

check-import: $(VENV)/.runtime
	$(PY) scripts/import_published.py --check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
