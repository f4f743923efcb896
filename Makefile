# ksql: make help lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
STAMP := $(VENV)/.installed-dev-$(SUM)

.PHONY: help run test soak conformance baseline bench lint kafka clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

# what running needs (make run); the tests' tools come on top (make test and the rest)
$(RUN_STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@rm -f $(VENV)/.installed-*
	@touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(RUN_STAMP)  ## open the ksql shell on the embedded engine (data in ./ksql-data)
	$(BIN)/ksql

test: $(STAMP)  ## run the whole test suite
	$(BIN)/python -m pytest -q -n 2 tests

soak: $(STAMP)  ## the long reliability runs: 25 SIGKILLs per backend, 200 random restarted inputs per query kind, 2,000 hostile requests per fuzz test
	KSQL_CRASH_KILLS=$${KSQL_CRASH_KILLS:-25} $(BIN)/python -m pytest -q -s tests/reliability/test_crash_loop.py
	KSQL_PROPERTY_EXAMPLES=$${KSQL_PROPERTY_EXAMPLES:-200} $(BIN)/python -m pytest -q -n 2 tests/reliability/test_property_restarts.py
	KSQL_FUZZ_EXAMPLES=$${KSQL_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/reliability/test_http_fuzz.py

conformance: $(STAMP)  ## run the whole ksqlDB corpus; writes conformance/SUMMARY.md and results.json
	$(BIN)/python -m ksql.testing.conformance -j 2

baseline: $(STAMP)  ## run the corpus and raise the ratchet baseline to what passes now
	$(BIN)/python -m ksql.testing.conformance -j 2 --update-baseline

bench: $(STAMP)  ## run the benchmarks and print their figures (and benchmarks/results/nexmark.png)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.parse
	$(BIN)/python -m benchmarks.functions
	$(BIN)/python -m benchmarks.stateful
	$(BIN)/python -m benchmarks.joins
	$(BIN)/python -m benchmarks.nexmark

kafka: $(STAMP)  ## fetch Apache Kafka with Maven (once) and run a single-node broker until Ctrl-C
	$(BIN)/python -m ksql.testing.kafka_broker

lint: $(STAMP)  ## check style with ruff, and the layers' import contracts with import-linter
	$(BIN)/ruff check --select F,E9 ksql parser planner runtime repl tests benchmarks
	$(BIN)/python -m pytest -q tests/unit/test_layers.py

clean:  ## remove the virtualenv and build leftovers
	rm -rf $(VENV) build dist *.egg-info ksql-data
