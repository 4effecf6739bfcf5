# The whole setup on a fresh machine with Python 3.11+:
#   make run    creates the environment and a demo database, then starts the app and the API
#   make test   creates the environment and runs every check and test
#   make image  builds the container image; make image-test runs it (see docs/operations.md, Deployment)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
PORT ?= 8501
# The image: `make image BASE=...` builds on another base than the Dockerfile's python:3.13-slim.
IMAGE ?= localhost/gridboard:latest
BASE ?=
TEST_BASE := localhost/gridboard-base:trixie
# Docker when an engine answers (the docker command alone is not enough), else Podman.
ENGINE ?= $(shell docker info >/dev/null 2>&1 && echo docker || echo podman)
export CONTAINERS_CONF ?= $(CURDIR)/tests/deployment/containers.conf

API_PORT ?= 8000

.PHONY: run test lint typecheck pytest screenshots bench clean lock image image-test test-base

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

# mypy --strict over every module: core/, api/, views/, app.py and pages/*.py ([tool.mypy] files).
typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 2  # two processes: the machines this runs on have two cores

# Refresh the README's screenshots: the browser test saves them into docs/screenshots/
# (make test saves them into a temporary folder and leaves the repository as it was).
screenshots: $(STAMP)
	GRIDBOARD_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/e2e/test_browser.py tests/e2e/test_grid_views.py -q

bench: $(STAMP)
	$(BIN)/python bench/seed.py
	$(BIN)/python bench/list_components.py

# Refresh constraints.txt on purpose (then review the diff and run make test).
lock:
	rm -rf /tmp/gridboard-lock && $(PYTHON) -m venv /tmp/gridboard-lock
	/tmp/gridboard-lock/bin/pip install --quiet -e ".[test]"
	/tmp/gridboard-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

# Podman: chroot isolation (no nested runtime needed to build), Docker's format (keeps HEALTHCHECK).
image:
ifeq ($(ENGINE),docker)
	docker build $(if $(BASE),--build-arg BASE=$(BASE)) -t $(IMAGE) .
else
	podman build --isolation=chroot --network host --format docker \
		$(if $(BASE),--build-arg BASE=$(BASE)) -t $(IMAGE) .
endif

# A Debian trixie base made locally, for machines that reach no registry (tests only).
test-base:
	tests/deployment/make-test-base.sh $(TEST_BASE)

# Runs IMAGE as the app, the worker and the API on SQLite and PostgreSQL (tests/deployment).
image-test: $(STAMP)
	GRIDBOARD_IMAGE=$(IMAGE) GRIDBOARD_ENGINE=$(ENGINE) \
		$(BIN)/pytest tests/deployment -m image -v -s -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
