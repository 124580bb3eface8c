# The two commands of the README: `make run` and `make test`. Both set up .venv/ first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(abspath .)
VENV := $(ROOT)/.venv
# uv if the machine has it, else the copy `make` installs with pip (see .venv below)
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

# The embedded default: the example organisation on the simulated source.
export SILOSCOPE_CONFIG ?= $(ROOT)/config/acme.yaml
export SILOSCOPE_DB ?= $(ROOT)/data/siloscope.duckdb
export SILOSCOPE_LANDING ?= $(ROOT)/data/landing
# Airflow keeps its metadata (SQLite) inside the repo, never in ~/airflow.
export AIRFLOW_HOME ?= $(ROOT)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(ROOT)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
# The nightly run as of today's midnight UTC: twice in a day builds the same window.
RUN_DATE ?= $(shell date -u +%Y-%m-%d)

.PHONY: help run test test-scale lint bench bench-cost clean

help:
	@echo "make run   - the nightly DAG, run by Airflow, on the example config -> data/siloscope.duckdb"
	@echo "make test  - the whole test suite"
	@echo "make test-scale - the DAG on Celery workers: Postgres, Redis, S3 (moto), two workers"
	@echo "make lint  - ruff (lint, format, complexity) and mypy"
	@echo "make bench - load and build throughput vs the DuckDB floor and dlt (BENCH_MESSAGES=100k|1M|10M)"
	@echo "make bench-cost - X reads per new post over 14 simulated nights, before/after (issue 17)"

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	$(UV) sync --frozen --group dev --extra celery
	@touch $@

$(AIRFLOW_HOME)/.migrated: $(VENV)/.installed
	@mkdir -p $(AIRFLOW_HOME)
	$(VENV)/bin/airflow db migrate >$(AIRFLOW_HOME)/migrate.log 2>&1 \
		|| (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	$(VENV)/bin/airflow pools set siloscope_duckdb 1 "one DuckDB writer at a time" >/dev/null
	@touch $@

run: $(AIRFLOW_HOME)/.migrated
	@mkdir -p $(dir $(SILOSCOPE_DB))
	$(VENV)/bin/airflow dags test siloscope_nightly $(RUN_DATE) >$(AIRFLOW_HOME)/last-run.log 2>&1 \
		|| (tail -n 60 $(AIRFLOW_HOME)/last-run.log; echo "make run: the DAG failed; full log in $(AIRFLOW_HOME)/last-run.log"; exit 1)
	@echo "DAG run siloscope_nightly $(RUN_DATE) succeeded (log: $(AIRFLOW_HOME)/last-run.log)"
	@$(VENV)/bin/siloscope report
	@echo
	@echo "Report page: $(dir $(SILOSCOPE_DB))report.html"
	@echo "Dashboards read: $(dir $(SILOSCOPE_DB))published/ (siloscope.duckdb, parquet/<mart>/)"

# The report page is tested in Debian's chromium; CI starts from a bare Debian machine as
# root, so the test set-up installs it when it is missing.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

test: $(VENV)/.installed $(CHROMIUM)
	$(VENV)/bin/pytest

# The multi-worker test (tests/integration/test_celery_workers.py, marked `scale`, so plain
# pytest skips it): it starts Debian's PostgreSQL 15 server binaries and redis-server, and
# installs the latter when it is missing, as CI starts from a bare machine.
REDIS_SERVER := /usr/bin/redis-server
$(REDIS_SERVER):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server

# Debian's PostgreSQL 15 server binaries come with these machines; a machine without them
# gets them the same way (the test runs a private cluster, never the packaged one).
PG_CTL := /usr/lib/postgresql/15/bin/pg_ctl
$(PG_CTL):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15

test-scale: $(VENV)/.installed $(REDIS_SERVER) $(PG_CTL)
	$(VENV)/bin/pytest -m scale tests/integration/test_celery_workers.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Not part of `make test`: figures to read, written to bench/results.json. The bench group
# (dlt) is synced here only; `make test` never needs it.
BENCH_MESSAGES ?= 100k
BENCH_FLAGS ?=
bench: $(VENV)/.installed
	$(UV) sync --frozen --group dev --group bench --extra celery
	$(VENV)/bin/python -m bench --messages $(BENCH_MESSAGES) $(BENCH_FLAGS)

# What X reads cost: 14 simulated nights per read strategy, two organisations.
BENCH_NIGHTS ?= 14
bench-cost: $(VENV)/.installed
	$(VENV)/bin/python -m bench.cost --nights $(BENCH_NIGHTS)

clean:
	rm -rf data .airflow
