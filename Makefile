# Meterbill: `make run` starts everything on SQLite with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run migrate seed test test-pg lint bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

# Web (gunicorn) and scheduler together; Ctrl-C stops both.
run: seed
	@echo ""
	@echo "  Meterbill is running at http://$(HOST):$(PORT)/"
	@echo "  Merchant portal (/merchant): admin@meterbill.local / meterbill-demo"
	@echo "  Customer portal (/portal):   jane@acme.example / acme-demo-pass"
	@echo ""
	@trap 'kill 0' INT TERM; \
	  $(PY) scheduler.py & \
	  $(VENV)/bin/gunicorn --workers 2 --timeout 900 --bind $(HOST):$(PORT) --access-logfile - wsgi:app & \
	  wait

test: install
	bash scripts/ensure-chromium.sh
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-pg: install
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Lint (ruff) and the layer contracts (import-linter), both configured in pyproject.toml.
lint: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
