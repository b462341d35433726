# The README's two commands are `make demo` and `make test`; both run `setup` first.
SHELL := /bin/bash
VENV := .venv/bin
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup demo test lint typecheck pytest ape-test ape-compile ape-test-run check-artifacts slither \
	slither-checks compile bench clean

setup:
	@bash toolchain/setup.sh

demo: setup
	$(VENV)/loyalty-chain demo
	@echo "The command line is $(VENV)/loyalty-chain: run 'source .venv/bin/activate' to type just 'loyalty-chain'."

# `make test` in two phases, so that both cores work: (1) the artifact check (a from-scratch
# compile, which also fills the compile cache pytest and Slither read) beside `ape compile`;
# (2) pytest beside lint, mypy, Slither and `ape test`. Run one after another, these checks left a
# core idle for two minutes. The checks' output is printed after pytest's; a failure of any fails.
test: setup
	@$(MAKE) --no-print-directory -j2 --output-sync=target check-artifacts ape-compile
	@echo "pytest, with lint, typecheck, slither-checks and ape's tests beside it (their output follows)"
	@checks_log=$$(mktemp); \
	  ( $(MAKE) --no-print-directory -k lint typecheck slither-checks ape-test-run >"$$checks_log" 2>&1; \
	    echo $$? >"$$checks_log.rc" ) & \
	  $(MAKE) --no-print-directory pytest; pytest_rc=$$?; \
	  wait; cat "$$checks_log"; checks_rc=$$(cat "$$checks_log.rc"); rm -f "$$checks_log" "$$checks_log.rc"; \
	  if [ "$$checks_rc" != 0 ]; then echo "make test: lint, typecheck, slither-checks or ape-test-run failed (above)"; fi; \
	  if [ "$$pytest_rc" != 0 ]; then echo "make test: pytest failed (exit $$pytest_rc)"; fi; \
	  [ "$$pytest_rc" = 0 ] && [ "$$checks_rc" = 0 ]

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck:
	$(VENV)/mypy

# pytest exits 5 when it collected no test: that is a failure here, never a silent pass.
# In parallel (pytest-xdist): each worker has its own devnet. Slow tests are collected first and
# handed out one at a time (--maxschedchunk 1: xdist otherwise gives each worker a block of ~40
# consecutive tests, which put every slow test on the first worker).
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set (this machine's shells set it):
# otherwise every worker and every CLI subprocess the tests start compiles our modules again, and
# pytest rewrites the asserts of every test module again (~2 s of CPU per process).
PYTEST_WORKERS ?= 4
pytest:
	@env -u PYTHONDONTWRITEBYTECODE $(VENV)/pytest -p no:ape_test -q -n $(PYTEST_WORKERS) --maxschedchunk 1; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; fi; exit $$rc

# ape's own compiler (ape-solidity + the solc shim) and runner (ape-foundry's anvil) over tests/ape
ape-test: ape-compile
	@$(MAKE) --no-print-directory ape-test-run

ape-compile:
	@$(VENV)/python -m loyalty_chain.toolchain >/dev/null  # (re)installs the self-contained solc shim
	$(VENV)/ape compile

ape-test-run:
	$(VENV)/ape test

compile: setup
	$(VENV)/loyalty-chain compile

# Recompile from scratch and fail if the artifacts shipped in loyalty_chain/artifacts differ.
check-artifacts:
	$(VENV)/loyalty-chain compile --check

slither:
	$(VENV)/loyalty-chain compile >/dev/null
	@$(MAKE) --no-print-directory slither-checks

# Slither alone, on the build-info the last compile wrote (`make test` runs it after check-artifacts)
slither-checks:
	$(VENV)/slither . --config-file slither.config.json --fail-medium

bench: setup
	$(VENV)/python bench/gas.py
	$(VENV)/python bench/client.py
	$(VENV)/python bench/airdrop.py
	$(VENV)/python bench/cli_startup.py
	$(VENV)/python bench/report.py
	$(VENV)/python bench/delivery.py
	$(VENV)/python bench/gateway.py

clean:
	rm -rf .build artifacts crytic-export .pytest_cache .mypy_cache .ruff_cache
