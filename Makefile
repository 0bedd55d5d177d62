# The project's two commands: `make demo` and `make test`. Each sets up from nothing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup migrate lint bench ci clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(BIN)/python manage.py migrate --noinput

# Starts both sandboxes, a tenant wired to them, the task cluster and the admin; syncs on schedule.
demo: migrate
	$(BIN)/python manage.py demo

# Every test but the PostgreSQL/Redis and browser suites, which .ci/run adds.
test: setup
	$(BIN)/pytest -q -m "not services and not browser"

# ruff (check, with lines of at most 110 characters, and format --check: the code is `ruff format`ed);
# mypy with django-stubs (strict on the clients and flows; [tool.mypy]); the import-linter contracts on the
# layers (docs/layers.md).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: migrate
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) var
