# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bootstrap system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

bootstrap: $(STAMP) system-deps

system-deps:
	bash scripts/system-deps.sh

run: bootstrap
	$(BIN)/ccinspect web migrate
	$(BIN)/ccinspect web seed-demo
	# the task worker (notifications, retries) runs beside gunicorn and stops with it
	$(BIN)/ccinspect web worker & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/ccinspect serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The web tests run twice: on SQLite (with everything else) and on PostgreSQL (TEST_DATABASE_URL).
# Both passes spread the tests over the machine's cores (pytest-xdist; each worker has its own database).
# The API fuzz module runs on its own, in one process: its closing test checks that every operation was fuzzed.
XDIST ?= -n auto
FUZZ := tests/web/test_api_fuzz.py
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

test: bootstrap
	$(BIN)/ruff check .
	$(BIN)/lint-imports  # the kernel and the floors (pyproject.toml [tool.importlinter])
	$(BIN)/pytest -q $(XDIST) --ignore=$(FUZZ)
	$(BIN)/pytest -q -p no:cacheprovider $(FUZZ)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q $(XDIST) -p no:cacheprovider tests/web -m "not browser" --ignore=$(FUZZ)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q -p no:cacheprovider $(FUZZ)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
