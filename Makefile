# bulkcancel: the two set-up commands are `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime

.DEFAULT_GOAL := help
.PHONY: help install lint test demo bench clean record

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The project alone (what `make demo` needs); the dev tools below include it.
$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUNTIME)

install: $(STAMP)  ## create .venv and install the project with its dev tools

lint: $(STAMP)  ## ruff, mypy strict and the import contracts (the layering, in pyproject.toml)
	$(BIN)/ruff check pipeline tests benchmarks
	$(BIN)/ruff format --check pipeline tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP)  ## the whole test suite (loopback only), on every core
	$(BIN)/python -m pytest -q -n auto

demo: $(RUNTIME)  ## the whole job on the embedded simulator (installs the project, not the dev tools)
	$(BIN)/bulkcancel demo

bench: $(STAMP)  ## performance figures (SPEC §12) into reports/bench.json
	$(BIN)/python -m benchmarks.bench

record: $(STAMP)  ## re-record tests/cassettes (from the shop in SHOPIFY_SHOP/SHOPIFY_ACCESS_TOKEN when set)
	$(BIN)/python -m tests.record_cassettes

clean:  ## remove the virtual environment, caches and run output
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find reports -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
