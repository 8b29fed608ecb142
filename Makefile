# Two commands on a fresh machine: `make run` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check bench clean catalogs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Set everything up and run the system: migrate the default database, load the demo portfolio
## when it is empty, start a local Prefect server, the flows on their schedules, the web console,
## the mailbox in var/mailbox. It prints where they are; Ctrl-C stops everything it started.
run: $(STAMP)
	$(BIN)/produzir run

## Set everything up and run the whole test suite (SQLite, plus PostgreSQL where it matters).
test: $(STAMP)
	$(BIN)/python -m pytest

## ruff (lint + format), mypy --strict on the packages, the import arrows, the catalogs
## (complete in pt-BR and English, pybabel compile without fuzzy or missing entries).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m notifications.catalogs check

## Extract the messages into notifications/locales/messages.pot and update the pt_BR and en
## catalogs (then translate the new, empty pt_BR entries).
catalogs: $(STAMP)
	$(BIN)/python -m notifications.catalogs update

check: lint test

bench: $(STAMP)
	$(BIN)/python bench/transitions.py
	$(BIN)/python bench/sweep.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
