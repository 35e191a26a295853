# Mercato — `make demo` and `make test` are the whole quick start.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install lint format worker migrate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## venv + editable install with dev extras

demo: $(STAMP) ## install, migrate, seed a demo tenant and serve on http://127.0.0.1:8000
	MERCATO_LOG_FORMAT=$${MERCATO_LOG_FORMAT:-console} $(BIN)/mercato serve --demo --host 127.0.0.1 --port 8000

worker: $(STAMP) ## run background jobs (a second process beside `make demo` is optional)
	$(BIN)/mercato worker

migrate: $(STAMP)
	$(BIN)/mercato migrate

test: $(STAMP) ## the whole suite against real PostgreSQL and Redis
	$(BIN)/python -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

test-fast: $(STAMP) ## the suite without the tests that boot server processes
	$(BIN)/python -m pytest -m "not slow"; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

lint: $(STAMP) ## ruff + mypy --strict on src/
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests migrations bench
	$(BIN)/ruff check --fix src tests migrations bench

clean:
	rm -rf .mercato-test .pytest_cache .mypy_cache .ruff_cache
