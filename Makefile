# simdecode: `make demo` and `make test` start from nothing but python3 (>= 3.11) on PATH.
#
# The virtual environment lives in .venv; a stamp file per install flavour records that
# `pip install` succeeded for the current pyproject.toml, so reinstalling happens only when
# pyproject.toml changes (or .venv is removed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VPY    := $(BIN)/python

.DEFAULT_GOAL := help
.PHONY: help demo test bench clean distclean

help:
	@echo "make demo       install simdecode into .venv and run scenarios/quickstart.yaml -> out/quickstart"
	@echo "make test       install simdecode[test,notebooks,ray,parquet] into .venv and run the test suite"
	@echo "make bench      run benchmarks/run.py"
	@echo "make clean      remove outputs and caches (keeps .venv)"
	@echo "make distclean  clean, and remove .venv"
	@echo "variables: PYTHON=$(PYTHON)"

$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "simdecode needs Python >= 3.11, $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip

# base install: what `simdecode run` needs
$(VENV)/.stamp-base: pyproject.toml | $(VPY)
	$(VPY) -m pip install --quiet -e .
	@touch $@

# test install: the base dependencies plus pytest and hypothesis, and every optional extra the
# tests exercise (notebooks run through nbclient, the Ray executor, Parquet tables)
$(VENV)/.stamp-test: pyproject.toml | $(VPY)
	$(VPY) -m pip install --quiet -e '.[test,notebooks,ray,parquet]'
	@touch $@

demo: $(VENV)/.stamp-base
	$(BIN)/simdecode run scenarios/quickstart.yaml --out out/quickstart

# pytest's own exit status is kept: 1 for failures, 5 when no test was collected
test: $(VENV)/.stamp-test
	$(VPY) -m pytest

bench: $(VENV)/.stamp-base
	$(VPY) benchmarks/run.py

clean:
	rm -rf out build dist .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name '*.egg-info' -prune -exec rm -rf {} + -o -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
