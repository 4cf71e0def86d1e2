# The README's commands. `make run` and `make test` work on a machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test lint format install install-dev migrate clean fuzz reliability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.installed

# axe-core for the browser tests (package-lock.json). Without npm those tests skip, saying why.
node_modules/.installed: package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the browser accessibility tests will skip"; fi

# Web server, Celery worker and Celery beat in the foreground; Ctrl-C stops all three. The first
# run writes .env (DEBUG=1, a new SECRET_KEY) so manage.py commands work here afterwards, and an
# empty paper store gets the last listing days in the background.
run: export DEBUG ?= 1
run: install
	$(BIN)/python -m config.local_env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_schedules
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py first_start
	@echo "Paperboy: http://127.0.0.1:8000/  (mail: http://127.0.0.1:8000/dev/outbox/)"
	$(BIN)/honcho -f Procfile.dev start

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Long fuzzing (HYPOTHESIS_PROFILE=long): 10,000 cases per property, for the scraper (mutated
# real pages through the store) and every form and endpoint of the web app.
fuzz: install-dev
	HYPOTHESIS_PROFILE=long $(BIN)/pytest --hypothesis-show-statistics tests/security/test_scraper_fuzz.py \
		tests/security/test_web_fuzz.py $(PYTEST_ARGS)

# Fault scenarios with real processes (tests/reliability), 20 runs each (1 or 2 in the normal
# suite); each run appends its outcome to test-artifacts/reliability.jsonl.
# Needs PostgreSQL, Redis and redis-server: set DATABASE_URL and REDIS_URL as .ci/run does.
RELIABILITY_RUNS ?= 20
reliability: install-dev
	RELIABILITY_RUNS=$(RELIABILITY_RUNS) REQUIRE_SERVICES=1 $(BIN)/pytest tests/reliability $(PYTEST_ARGS)

# ruff, and the layer contracts (pyproject.toml [tool.importlinter]).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/ staticfiles/ .pytest_cache .ruff_cache

# --- Benchmarks (README: Performance) ---------------------------------------------------------
# Their own PostgreSQL database and Redis db, production settings (DEBUG off). Each stops by itself
# and prints one JSON line last. `make bench-digests BENCH_SUBSCRIBERS=10000` for a shorter run.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_DB ?= paperboy_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/8
BENCH_SUBSCRIBERS ?= 100000
BENCH_ENV = DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) REDIS_URL=$(BENCH_REDIS_URL) DEBUG=0 \
	SECRET_KEY=bench-only-not-a-secret ALLOWED_HOSTS=127.0.0.1

.PHONY: bench-db bench-digests bench-tick bench-web bench-landing bench-instructions
bench-db: install
	@psql "$(BENCH_PG)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" | grep -q 1 \
		|| psql "$(BENCH_PG)/postgres" -qc "CREATE DATABASE $(BENCH_DB)"
	$(BENCH_ENV) $(BIN)/python manage.py migrate --noinput -v 0

bench-digests: bench-db
	$(BENCH_ENV) $(BIN)/python manage.py bench_digests --subscribers $(BENCH_SUBSCRIBERS) $(BENCH_ARGS)

# Instructions per digest of the send path under callgrind (needs valgrind): machine speed aside.
bench-instructions: bench-db
	$(BENCH_ENV) $(BIN)/python manage.py bench_instructions $(BENCH_ARGS)

# The tick alone: due readers, their order, the ledger rows' inserts and commits (no sending).
bench-tick: bench-db
	$(BENCH_ENV) $(BIN)/python manage.py bench_tick --subscribers $(BENCH_SUBSCRIBERS) $(BENCH_ARGS)

# Needs wrk (Debian: apt-get install wrk).
bench-web: bench-db
	$(BENCH_ENV) $(BIN)/python manage.py bench_web $(BENCH_ARGS)

# The landing page's sign-up preview with a week of papers stored (target p95 < 100 ms).
bench-landing: bench-db
	$(BENCH_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) $(BIN)/python manage.py bench_landing $(BENCH_ARGS)
