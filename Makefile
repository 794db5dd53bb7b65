# The commands the README names. `make test` on a fresh checkout makes its own virtualenv.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: dev test test-compose test-fast conformance lint format bench clean

$(STAMP): pyproject.toml clients/python-testcontainers/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/pip install -q -e clients/python-testcontainers
	touch $(STAMP)

venv: $(STAMP)

dev: $(STAMP)
	$(BIN)/flotilla dev

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q --ignore=tests/compose

# The container suite: builds the images, runs the compose fleet (needs a Docker engine).
test-compose: $(STAMP)
	$(BIN)/pytest -q tests/compose

test-fast: $(STAMP)
	$(BIN)/pytest -q tests/unit

conformance: $(STAMP)
	$(BIN)/pytest -q tests/conformance

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .data bench-results
