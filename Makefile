# artdag L1 entry points. Everything installs itself (scripts/bootstrap.sh):
#   make run    install, then serve on the embedded default (artdag serve --demo)
#   make test   install, start/reuse services, ruff + mypy + the whole pytest suite
# Variables: ARGS="..." extra pytest arguments for `make test`,
#            RUN_ARGS="..." extra arguments for `artdag serve` in `make run`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=
RUN_ARGS ?=

.PHONY: help install run test lint bench lock clean distclean

help:
	@echo "make run | test | lint | bench | lock | install | clean | distclean"

install:
	@scripts/bootstrap.sh

run: install
	$(VENV)/bin/artdag serve --demo $(RUN_ARGS)

test:
	@scripts/test.sh $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache

bench: install
	@shopt -s nullglob; files=(bench/*.py); \
	if (( $${#files[@]} == 0 )); then echo "no bench/*.py yet"; exit 0; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(PY) "$$f" || exit 1; done

# Recompile the pinned set from pyproject.toml, then install it.
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o constraints.txt
	@scripts/bootstrap.sh

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist bench/out
	find . -path ./.venv -prune -o -path '*/node_modules' -prune -o -name __pycache__ -type d -exec rm -rf {} +

# Also removes the installed environments (.venv, node_modules); make run/test reinstall them.
distclean: clean
	rm -rf $(VENV) web/node_modules tools/ipfs-node/node_modules *.egg-info
