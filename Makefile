# Haicheng Emergency Data Platform: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen
export XDG_RUNTIME_DIR ?= $(CURDIR)/.edp/run
# pytest-xdist workers for `make test` (the machines have two cores; most tests wait on servers, not on the CPU).
TEST_WORKERS ?= 2

.PHONY: help install browser superset-env demo test test-fast bench bench-year lint lint-sql format clean up down

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-14s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

install: $(if $(shell command -v uv 2>/dev/null),,$(CURDIR)/.tools/bin/uv) ## install the platform (uv, locked), the Superset environment and headless Chromium
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(UV) sync --frozen
	$(MAKE) --no-print-directory superset-env
	$(MAKE) --no-print-directory browser

browser: ## headless Chromium, chromedriver and CJK fonts for the dashboard screenshots (apt; no-op when present)
	bash infra/browser/install.sh

superset-env: ## build Superset's own environment from infra/superset/requirements.txt
	$(RUN) python -c "from edp.settings import get_settings; from edp.serve.superset import ensure_environment; \
	print(ensure_environment(get_settings()))"

demo: install ## run the whole pipeline end to end on embedded defaults and print a summary
	$(RUN) edp demo

test: install ## the lint, then the whole test suite (what CI runs)
	$(MAKE) --no-print-directory lint
	$(RUN) pytest --numprocesses $(TEST_WORKERS) --dist worksteal

test-fast: ## unit tests only
	$(RUN) pytest -m "not integration"

bench: install ## the benchmarks at full size (benchmarks/README.md); ratios to baselines of the same run
	$(RUN) python benchmarks/load_throughput.py
	$(RUN) python benchmarks/load_scaling.py
	$(RUN) python benchmarks/pipeline_scale.py
	$(RUN) python benchmarks/incremental.py
	$(RUN) python benchmarks/sync_throughput.py
	$(RUN) python benchmarks/check_scope.py
	$(RUN) python benchmarks/warning_latency.py

bench-year: install ## a year of 海城市 data end to end (about 12.6 M rainfall rows; hours): rows/s and peak RSS per stage
	$(RUN) python benchmarks/pipeline_scale.py --scales 1.5,1.5 --days 3,365 --budget 7200

lint: ## ruff, the type checker (mypy on edp, connectors, dags) and sqlfluff on the dbt models
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(MAKE) --no-print-directory lint-sql

lint-sql: ## sqlfluff on dbt/ (dbt templater, compiled against the warehouse: embedded unless configured)
	$(RUN) python -m edp.transform.sql_lint

format: ## ruff format
	$(RUN) ruff format .

up: install ## start the platform as services (Airflow scheduler + UI, docs, Superset, sandbox); prints the URLs
	$(RUN) edp up

down: ## stop every service of `make up` / `make demo` and the embedded PostgreSQL
	$(RUN) edp down

clean: down ## remove embedded state (.edp/)
	rm -rf .edp
