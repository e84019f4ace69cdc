# Athena task runner: `make help` lists every target.
SHELL := /bin/bash
PY := .venv/bin/python
STAMP := .venv/.bootstrapped
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help

help: ## list every target
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock scripts/bootstrap.sh tools/compose/package-lock.json router/graphiql/package-lock.json tools/hive-gateway/package-lock.json tools/graphql-http/package-lock.json
	@bash scripts/bootstrap.sh
	@touch $(STAMP)

install: $(STAMP) ## set up everything: venv, packages, PostgreSQL and Redis binaries

run: install ## run the whole system on its embedded defaults (router at :4000; ATHENA_REPLICAS=n routers behind HAProxy and n processes per subgraph, default 1)
	$(PY) -m stack $(if $(ATHENA_REPLICAS),--replicas "$(ATHENA_REPLICAS)")

test: install lint ## run the whole test suite (lint, schema check, tests)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25 -p no:cacheprovider $(PYTEST_ARGS)

lint: install ## ruff (lint + format), mypy on kit, router and protocol
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: install ## apply ruff fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

schema: install ## export subgraph SDLs, compose schema/supergraph.graphql, add new fields to schema/access_matrix.csv
	$(PY) -m tools.schema update

migrate: install ## apply migrations to DATABASE_URL (default: the embedded database)
	$(PY) -m db.migrate

backup: install ## dump DATABASE_URL (default: the embedded database) and the documents to .data/backups/<UTC time>/ (TO=folder to choose)
	$(PY) -m db.backup backup $(if $(TO),--to "$(TO)")

restore: install ## restore FROM=<backup folder> into an EMPTY database and documents folder, then verify it (OVERWRITE_DOCUMENTS=1 moves existing documents aside)
	@test -n "$(FROM)" || { echo "usage: make restore FROM=<backup folder>" >&2; exit 2; }
	$(PY) -m db.backup restore --from "$(FROM)" $(if $(OVERWRITE_DOCUMENTS),--overwrite-documents)

lock: ## re-resolve requirements.lock from pyproject.toml
	uv pip compile pyproject.toml --group dev --generate-hashes --python-version 3.11 -o requirements.lock

.PHONY: help install run test lint format schema migrate backup restore lock
