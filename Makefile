# The whole setup on a fresh machine with Python 3.11+:
#   make run    creates the environment and a demo database, then starts the app and the API
#   make test   creates the environment and runs every check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
PORT ?= 8501
API_PORT ?= 8000

.PHONY: run test lint typecheck pytest bench clean lock

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("GridBoard needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The API runs in the background beside the dashboard and stops with it.
run: $(STAMP)
	GRIDBOARD_DEMO=1 $(BIN)/gridboard demo
	GRIDBOARD_DEMO=1 $(BIN)/gridboard api --port $(API_PORT) & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	echo "The API (docs, try it out): http://localhost:$(API_PORT)/docs"; \
	GRIDBOARD_DEMO=1 $(BIN)/streamlit run app.py --server.port $(PORT)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/seed.py
	$(BIN)/python bench/list_components.py

# Refresh constraints.txt on purpose (then review the diff and run make test).
lock:
	rm -rf /tmp/gridboard-lock && $(PYTHON) -m venv /tmp/gridboard-lock
	/tmp/gridboard-lock/bin/pip install --quiet -e ".[test]"
	/tmp/gridboard-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
