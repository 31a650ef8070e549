# Two commands matter: `make run` (the app with a demo review on 127.0.0.1:8000)
# and `make test` (lint and the whole test suite). Both install what they need.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-only lint format chromium clean

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

# The web server and one Celery worker (embedded broker unless REDIS_URL is set);
# Ctrl-C stops both.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_review
	@echo "Open http://$(HOST):$(PORT)/ and log in with a demo account above."
	$(PY) -m celery -A config worker --pool=solo --loglevel=WARNING & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Browser tests drive Debian's chromium; install it when missing (never a
# downloaded browser: no `playwright install`).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  ( $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null ) || \
	  { echo "ERROR: could not install chromium with apt-get. The browser tests need" \
	         "/usr/bin/chromium: install Debian's 'chromium' package and run make test again." >&2; \
	    exit 1; }; \
	fi

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/djlint templates --lint
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install chromium lint test-only

# The suite alone; PYTEST_ARGS passes options (e.g. PYTEST_ARGS="-k team").
test-only: install
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
