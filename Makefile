# The two commands a newcomer needs: `make run` and `make test`. See README.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_PASSWORD ?= weerbaar-demo

.PHONY: install run test lint messages translations bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

translations: install
	$(PY) manage.py compile_translations

run: export DEBUG ?= true
run: translations
	mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo --password '$(DEMO_PASSWORD)'
	DEMO_PASSWORD='$(DEMO_PASSWORD)' scripts/run-dev.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Tests run against a throwaway PostgreSQL and Redis, with production-like settings (DEBUG off).
test: export DEBUG = false
test: export SECRET_KEY = test-only-secret-key-that-is-long-enough-for-django-checks-0123456789
test: lint translations
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py collectstatic --no-input --verbosity 0
	scripts/with-test-services.sh $(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# Regenerate the message catalogues after changing user-facing text.
messages: install
	$(PY) manage.py makemessages --locale nl --no-obsolete --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py makemessages --locale nl --domain djangojs --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'static/vendor/*'

clean:
	rm -rf var $(VENV)
