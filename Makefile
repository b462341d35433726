# The README's two commands are `make demo` and `make test`; both run `setup` first.
SHELL := /bin/bash
VENV := .venv/bin
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup demo test lint typecheck pytest ape-test check-artifacts slither compile bench clean

setup:
	@bash toolchain/setup.sh

demo: setup
	$(VENV)/loyalty-chain demo
	@echo "The command line is $(VENV)/loyalty-chain: run 'source .venv/bin/activate' to type just 'loyalty-chain'."

test: setup lint typecheck check-artifacts slither pytest ape-test

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
ape-test:
	@$(VENV)/python -m loyalty_chain.toolchain >/dev/null  # (re)installs the self-contained solc shim
	$(VENV)/ape compile
	$(VENV)/ape test

compile: setup
	$(VENV)/loyalty-chain compile

# Recompile from scratch and fail if the artifacts shipped in loyalty_chain/artifacts differ.
check-artifacts:
	$(VENV)/loyalty-chain compile --check

slither:
	$(VENV)/loyalty-chain compile >/dev/null
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
