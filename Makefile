# Meterbill: `make run` starts everything on SQLite with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install install-dev run migrate seed test test-pg lint bench clean

# What running needs (requirements.txt); the test tools come on top for `make test` only.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

# gthread workers keep an API client's connection open between requests (sync workers close
# it after each): measured ~0.4 ms less CPU per single usage POST (bench/README.md).
GUNICORN_OPTIONS ?= --workers 2 --worker-class gthread --threads 4
# Where links point when PUBLIC_URL is unset: the address served here (0.0.0.0 → 127.0.0.1, [::] → [::1]).
RUN_URL ?= http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(if $(filter [::],$(HOST)),[::1],$(HOST))):$(PORT)

# Web (gunicorn) and scheduler together. Ctrl-C: the terminal signals the whole process
# group, so each process gets SIGINT once and stops by itself; the shell ignores it, waits
# for both and says so. SIGTERM to make (e.g. `kill`) is passed on to both, once. If the
# web server cannot start (port taken), the scheduler is stopped too and make fails.
run: seed
	@echo ""
	@echo "  Meterbill is running at $(RUN_URL)/"
	@echo "  Merchant portal (/merchant): admin@meterbill.local / meterbill-demo"
	@echo "  Customer portal (/portal):   jane@acme.example / acme-demo-pass"
	@echo ""
	@trap '' INT; export METERBILL_RUN_URL="$(RUN_URL)"; \
	  $(PY) scheduler.py & scheduler=$$!; \
	  $(VENV)/bin/gunicorn $(GUNICORN_OPTIONS) --timeout 900 --bind $(HOST):$(PORT) --access-logfile - wsgi:app & web=$$!; \
	  trap 'stopping=1; kill -TERM $$scheduler $$web 2>/dev/null' TERM; \
	  wait $$web; web_status=$$?; \
	  if [ $$web_status -ne 0 ] && [ -z "$$stopping" ]; then \
	    echo "The web server stopped (exit $$web_status); stopping the scheduler"; \
	    kill -TERM $$scheduler 2>/dev/null; wait $$scheduler; exit 1; fi; \
	  wait $$web 2>/dev/null; wait $$scheduler; \
	  echo "Meterbill stopped"

# The suite runs on every core (pytest-xdist; TEST_WORKERS=0 runs it in one process); on
# PostgreSQL each worker uses its own database beside DATABASE_URL's (test_gw0, test_gw1, ...).
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

test: install-dev
	bash scripts/ensure-chromium.sh
	$(PYTEST) $(PYTEST_ARGS)

test-pg: install-dev
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(PYTEST) $(PYTEST_ARGS)

# Lint (ruff) and the layer contracts (import-linter), both configured in pyproject.toml.
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
