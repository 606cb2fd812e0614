# ssdf-ai: `make demo` runs ssdf on the bundled example project; `make test` runs the tests.
# Both create (or reuse) .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.ssdf-core
DEV := $(VENV)/.ssdf-dev

.PHONY: demo test lint bench format clean schemas docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The demo needs ssdf-ai and the example's training libraries (the examples extra); tests,
# lint and benchmarks need the dev extra.
$(CORE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[examples]'
	touch $(CORE)

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV) $(CORE)

demo: $(CORE)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

test: $(DEV)
	$(BIN)/python -m pytest -n 2 -q

lint: $(DEV)
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy src

format: $(DEV)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

bench: $(DEV)
	$(BIN)/python benchmarks/startup.py

schemas: $(DEV)
	$(BIN)/python -m ssdf_ai.report.schema docs/schema

# Generated documentation: report schemas and the controls page.
docs: schemas
	$(BIN)/python -m ssdf_ai.assess.docs docs/controls.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
