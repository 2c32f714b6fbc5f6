# pixirt — set-up and everyday commands. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CORE   := $(VENV)/.core-installed
FULL   := $(VENV)/.all-installed

.PHONY: demo test lint unit bench clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "pixirt needs Python 3.11+, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(CORE): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(FULL): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[service,distributed,notebooks,bench,dev,fast]"
	touch $@ $(CORE)

## demo: create .venv, install, run the main job on embedded data
demo: $(CORE)
	$(VENV)/bin/pixirt demo --out demo-output

## lint: ruff check, ruff format --check, mypy, the import layers
lint: $(FULL)
	$(VENV)/bin/ruff check pixirt tests benchmarks notebooks
	$(VENV)/bin/ruff format --check pixirt tests benchmarks notebooks
	$(VENV)/bin/mypy pixirt
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/test_layers.py   # the import layers

## unit: the pytest suite (unit, property, notebooks)
unit: $(FULL)
	$(VENV)/bin/pytest -q

## test: lint + the whole suite
test: lint unit

## bench: speed and memory against the peers, results in benchmarks/results/*.json
bench: $(FULL)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
