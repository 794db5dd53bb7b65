# The commands the README names. `make test` on a fresh checkout makes its own virtualenv.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: dev test test-compose test-fast conformance lint format bench clean node-ric

$(STAMP): pyproject.toml clients/python-testcontainers/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/pip install -q -e clients/python-testcontainers
	touch $(STAMP)

venv: $(STAMP)

# AWS's Node.js runtime interface client, which the Lambda service's local executor runs for nodejs*
# runtimes. Its native addon builds with cmake and autotools (Debian: autoconf automake libtool), ~2 min,
# so it is built once per version into a user cache that every checkout (and CI's fresh clones) share;
# the service finds it there (FLOTILLA_LAMBDA_NODE_RIC overrides). No node/npm: skipped, and Node.js
# runtimes are refused. 3.3.0 is the newest release that supports Node.js 20 (4.x needs node >= 22).
NODE_RIC_VERSION ?= 3.3.0
NODE_RIC_DIR     ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/flotilla/node-ric
NODE_RIC_STAMP   := $(NODE_RIC_DIR)/.installed-$(NODE_RIC_VERSION)

node-ric:
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  echo "node-ric: no node/npm on PATH: Node.js Lambda runtimes will be refused"; \
	elif [ ! -f "$(NODE_RIC_STAMP)" ]; then \
	  for tool in autoreconf libtoolize cmake make g++; do command -v $$tool >/dev/null || { \
	    echo "node-ric: $$tool is missing (Debian: apt-get install autoconf automake libtool cmake g++ make)"; exit 1; }; done; \
	  prefix="$$(dirname "$$(dirname "$$(command -v node)")")"; \
	  [ -n "$${npm_config_nodedir:-}" ] || [ ! -f "$$prefix/include/node/node.h" ] || export npm_config_nodedir="$$prefix"; \
	  echo "node-ric: building aws-lambda-ric@$(NODE_RIC_VERSION) into $(NODE_RIC_DIR) (once)"; \
	  rm -rf "$(NODE_RIC_DIR).tmp" && mkdir -p "$(NODE_RIC_DIR).tmp" && \
	  if npm install --prefix "$(NODE_RIC_DIR).tmp" --no-save --no-package-lock --no-audit --no-fund \
	       "aws-lambda-ric@$(NODE_RIC_VERSION)" >"$(NODE_RIC_DIR).log" 2>&1; then \
	    rm -rf "$(NODE_RIC_DIR)" && mv "$(NODE_RIC_DIR).tmp" "$(NODE_RIC_DIR)" && touch "$(NODE_RIC_STAMP)"; \
	  else tail -30 "$(NODE_RIC_DIR).log"; echo "node-ric: build failed (log: $(NODE_RIC_DIR).log)"; exit 1; fi; \
	fi

dev: $(STAMP)
	$(BIN)/flotilla dev

test: $(STAMP) node-ric
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
