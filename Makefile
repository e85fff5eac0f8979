# The README's commands. Each creates .venv on first use and reinstalls when
# pyproject.toml (the one list of dependencies) changes.
PYTHON3 ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rxlab-installed

.PHONY: report test lab bench clean engine

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON3) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	touch $(STAMP)

# The engine compiled into numba's on-disk cache (about 2 CPU minutes the first time on a machine, with a
# progress bar; then loaded in a second), so that no notebook or widget waits on it
engine: $(STAMP)
	$(BIN)/python -m rxlab.views.lab --engine-only

report: engine
	$(BIN)/rxlab report --out reports

# The whole suite compiled, then again as plain Python (NUMBA_DISABLE_JIT=1), as
# stumpy does: the jitted engine and its interpreted form must agree. The interpreted pass leaves
# out what needs compiled numba, the whole-workbench tests and those that run no engine code
# (CONTRIBUTING.md, markers).
test: $(STAMP)
	$(BIN)/python -m pytest
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -m "not jit_only and not slow and not no_engine"

# JupyterLab on 127.0.0.1:$(LAB_PORT), as root too, no browser needed (open the URL it prints);
# the engine is compiled first (as make engine does), and notebooks are saved without outputs (rxlab/views/lab.py)
LAB_PORT ?= 8888
lab: $(STAMP)
	$(BIN)/python -m rxlab.views.lab notebooks --port $(LAB_PORT)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports
