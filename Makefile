# ReelOps: every target builds the locked virtual environment on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.9.30

.PHONY: venv demo test test-cluster airflow cluster serve bench lint format clean lock browser

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m reelops.cli.demo

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The Celery cluster tests (a daily run on 2 workers, a killed worker): minutes each, so
# they are not part of `make test`.
test-cluster: $(STAMP)
	$(BIN)/python -m pytest -m cluster tests/dags/test_celery.py $(PYTEST_ARGS)

# The UI test looks at the Airflow UI in Debian's headless Chromium: install it when it
# is missing and this user may (root with apt-get); otherwise that test skips and says why.
browser:
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
		{ apt-get install -y -qq chromium >/dev/null 2>&1 || \
		  { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }; }; } || \
		echo "chromium is not installed: the headless-browser UI test will skip"

airflow: $(STAMP)
	$(BIN)/reelops airflow up

# Airflow on the CeleryExecutor (production profile: PostgreSQL, Redis as the broker) with
# WORKERS Celery workers as separate processes on this machine.
WORKERS ?= 2
cluster: $(STAMP)
	REELOPS_PROFILE=production REELOPS_AIRFLOW_EXECUTOR=CeleryExecutor \
		$(BIN)/reelops airflow up --workers $(WORKERS)

serve: $(STAMP)
	$(BIN)/reelops serve

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

PY_PATHS := reelops dags serving tests benchmarks feature_repo

# ruff (with Airflow's AIR rules), the import contracts in pyproject.toml, sqlfluff on dbt.
lint: $(STAMP)
	$(BIN)/ruff check $(PY_PATHS)
	$(BIN)/ruff format --check $(PY_PATHS)
	$(BIN)/lint-imports
	cd dbt && ../$(BIN)/sqlfluff lint models

format: $(STAMP)
	$(BIN)/ruff format $(PY_PATHS)
	$(BIN)/ruff check --fix $(PY_PATHS)

# Re-resolve every pin (needs uv; run after changing pyproject.toml dependencies).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock

clean:
	rm -rf $(VENV) .reelops dbt/target dbt/logs
