# The two commands a newcomer needs: `make run` and `make test`. See README.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_PASSWORD ?= weerbaar-demo

.PHONY: install run test lint messages translations openapi bench bench-http faults clean ffmpeg pdf-libraries lock sbom kubectl \
	oidc-provider

# Exactly the versions and files of the lock (every file checked against its sha256), then
# the project itself without dependencies. The image installs requirements/base.lock the same
# way (Dockerfile). After changing dependencies in pyproject.toml: `make lock`.
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Re-resolve the hashed lock files from pyproject.toml (for Python 3.11 on Linux, as the
# image and CI run): base.lock for the image, dev.lock (with the dev extra) for make install.
# A test (tests/test_supply_chain.py) fails while a dependency of pyproject.toml is missing.
LOCK_OPTIONS := --python-version 3.11 --generate-hashes --no-header --quiet \
	--index-url https://pypi.org/simple
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_OPTIONS) -o requirements/base.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev $(LOCK_OPTIONS) -o requirements/dev.lock

# A CycloneDX SBOM (JSON) of what the image installs: the packages of requirements/base.lock.
SBOM ?= var/sbom.cdx.json
sbom: install
	mkdir -p $(dir $(SBOM))
	$(VENV)/bin/cyclonedx-py requirements requirements/base.lock --output-format JSON \
	  --output-reproducible --output-file $(SBOM)
	@echo "SBOM written to $(SBOM)"

translations: install
	$(PY) manage.py compile_translations

# Evidence (audio, video) is checked with ffprobe and cleaned with ffmpeg: Debian's `ffmpeg`
# package. Installed here when it is missing and apt-get can (as root); .ci/run does the same.
ffmpeg:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing OS packages: ffmpeg"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	  else \
	    echo "ffmpeg and ffprobe are needed for audio and video evidence: install ffmpeg." >&2; \
	    exit 1; \
	  fi; \
	}

# The case file PDF (portal/pdf.py) is made by WeasyPrint, which loads Pango and HarfBuzz from
# the OS and draws with the DejaVu fonts. Installed when missing and apt-get can (as root).
pdf-libraries:
	$(call debian_packages,libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)

# The Kubernetes manifests are rendered with `kubectl kustomize` in the tests: any kubectl on
# the PATH, or Debian's `kubernetes-client` package (installed here when apt-get can).
kubectl:
	@command -v kubectl >/dev/null || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing OS packages: kubernetes-client"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null; \
	  else \
	    echo "kubectl is needed to render deploy/kubernetes: install kubernetes-client." >&2; \
	    exit 1; \
	  fi; \
	}

# The login tests' OpenID Connect provider (tests/oidc_provider: the npm package oidc-provider
# under node), installed from its package-lock.json whenever that is newer than node_modules.
# Node and npm are Debian's `nodejs npm` when missing (installed here when apt-get can).
OIDC_PROVIDER := tests/oidc_provider
oidc-provider:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing OS packages: nodejs npm"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else \
	    echo "node and npm are needed for the OpenID Connect test provider: install nodejs npm." >&2; \
	    exit 1; \
	  fi; \
	}
	@[ $(OIDC_PROVIDER)/node_modules/.package-lock.json -nt $(OIDC_PROVIDER)/package-lock.json ] || \
	  { cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund; }

run: export DEBUG ?= true
run: translations ffmpeg pdf-libraries
	mkdir -p var/broker/queue var/broker/processed var/broker/control
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo --password '$(DEMO_PASSWORD)'
	DEMO_PASSWORD='$(DEMO_PASSWORD)' scripts/run-dev.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Tests run against a throwaway PostgreSQL and Redis, with production-like settings (DEBUG off).
test: export DEBUG = false
test: export SECRET_KEY = test-only-secret-key-that-is-long-enough-for-django-checks-0123456789
test: export FIELD_ENCRYPTION_KEYS = dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA=
test: export IDENTIFIER_HASH_KEY = test-only-identifier-hash-key-0123456789
# The demo data and the benchmarks (devtools) are tested too; production never loads them.
test: export DEVELOPMENT_TOOLS = true
# The test stacks live on loopback (http base URL, a local SMTP server): portal/checks.py.
test: export LOOPBACK_TEST_STACK = true
test: lint translations ffmpeg pdf-libraries kubectl oidc-provider
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py collectstatic --no-input --verbosity 0
	scripts/with-test-services.sh $(PY) -m pytest -n 2 --dist loadgroup --durations=25 $(PYTEST_ARGS)

# Regenerate the message catalogues after changing user-facing text (needs GNU gettext).
# The source strings are Dutch, so complete_source_catalogue completes the nl catalogue
# itself (msgstr = msgid); msgcat then restores gettext's line wrapping, so the diff shows
# only real changes. New entries in locale/en/LC_MESSAGES/django.po still need an English
# translation: tests/portal/test_translations.py fails until they have one.
# static/js has no translatable strings, so there is no djangojs catalogue.
MESSAGES_OPTIONS := --no-obsolete --add-location file --ignore '.venv/*' --ignore 'var/*' \
	--ignore 'node_modules/*' --ignore 'static/vendor/*' --ignore 'tests/*'
messages: export DEBUG ?= true
messages: install
	$(PY) manage.py makemessages --locale nl --locale en $(MESSAGES_OPTIONS)
	$(PY) manage.py complete_source_catalogue --locale nl
	for po in locale/nl/LC_MESSAGES/*.po; do msgcat --output-file="$$po" "$$po"; done

# Regenerate the committed OpenAPI schema (openapi.yaml) after changing the API. Always in
# English, so the file does not depend on anyone's language; tests/api/test_schema.py fails
# when the committed file differs from what the code generates.
openapi: export DEBUG = true
openapi: translations
	$(PY) manage.py spectacular --lang en --file openapi.yaml --validate

# The Debian packages in $(1) that are missing: installed with apt-get when that can (as
# root), otherwise named, and the target stops.
define debian_packages
@need=""; for pkg in $(1); do \
  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" || need="$$need $$pkg"; \
done; \
if [ -n "$$need" ]; then \
  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
    echo "Installing Debian packages:$$need"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
  else \
    echo "make $@ needs these Debian packages: apt-get install$$need" >&2; exit 1; \
  fi; \
fi
endef

# Benchmarks, not timed tests (issues 4, 5, 15 and 18): seed BENCH_INCIDENTS incidents (COPY;
# over about 380 organisations and 25 desks, 90% closed) into a throwaway PostgreSQL and print
# p50/p95, CPU and queries per request of the queue (default, saved view, searches), incident
# page, desk overview, support inbox and case page; then, in the same database, throughput of
# the main pages through gunicorn and wrk with the ratio to the login page (bench_http); then
# file BENCH_REPORTS escalating reports with Redis and a real Celery worker and print the time
# until each case is in the support inbox, then upload a large photo and a BENCH_VIDEO_MB video
# through gunicorn and print time and peak memory of the web process and the worker for each.
# Installs what is missing (Debian packages, .venv); the servers are stopped afterwards.
# At volume: make bench BENCH_INCIDENTS=1000000 (seeding 650-900 incidents/s on 2 shared
# cores, so about 20 to 26 minutes).
# Quicker: make bench BENCH_INCIDENTS=5000 BENCH_REQUESTS=50 BENCH_REPORTS=50 BENCH_VIDEO_MB=20
# BENCH_DESK_ARGS passes more options, e.g. "--closed-share 0.8 --organisations 100".
BENCH_INCIDENTS ?= 100000
BENCH_REQUESTS ?= 200
BENCH_REPORTS ?= 200
BENCH_VIDEO_MB ?= 200

bench bench-http: export DEBUG = false
bench bench-http: export SECRET_KEY = bench-only-secret-key-that-is-long-enough-for-django-checks-0123456789
bench bench-http: export FIELD_ENCRYPTION_KEYS = YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTA=
bench bench-http: export IDENTIFIER_HASH_KEY = bench-only-identifier-hash-key-0123456789
bench bench-http: export DEVELOPMENT_TOOLS = true
bench bench-http: export LOOPBACK_TEST_STACK = true
bench:
	$(call debian_packages,postgresql redis-server libpq-dev ffmpeg wrk)
	$(MAKE) --no-print-directory translations
	scripts/with-test-services.sh sh -c '\
	  export CELERY_BROKER_URL="$$TEST_REDIS_URL" VAR_DIR="$$TEST_SERVICES_DIR/var" && \
	  $(PY) manage.py collectstatic --no-input --verbosity 0 && \
	  $(PY) manage.py migrate --no-input --verbosity 0 && \
	  $(PY) manage.py bench_desk --throwaway-database \
	    --incidents $(BENCH_INCIDENTS) --requests $(BENCH_REQUESTS) $(BENCH_DESK_ARGS) && \
	  $(PY) manage.py bench_http --throwaway-database \
	    --duration $(BENCH_HTTP_SECONDS) --connections $(BENCH_HTTP_CONNECTIONS) $(BENCH_HTTP_ARGS) && \
	  $(PY) manage.py bench_escalation --throwaway-database --reports $(BENCH_REPORTS) && \
	  $(PY) manage.py bench_evidence --throwaway-database --video-mb $(BENCH_VIDEO_MB)'

# Throughput through gunicorn (issues 14 and 18): seed the demo data into a throwaway
# PostgreSQL, start gunicorn (gunicorn.conf.py, 2 workers, DEBUG off) on a free loopback port,
# log in as the demo officeholder, registrar and support member, and run wrk (Debian package
# `wrk`) BENCH_HTTP_SECONDS per page; prints requests/s, p50, p99 and the ratio to the login
# page. `make bench` runs it too, in its database at volume after bench_desk.
# Quicker: make bench-http BENCH_HTTP_SECONDS=5
BENCH_HTTP_SECONDS ?= 10
BENCH_HTTP_CONNECTIONS ?= 8
bench-http:
	$(call debian_packages,postgresql redis-server libpq-dev wrk)
	$(MAKE) --no-print-directory translations
	scripts/with-test-services.sh sh -c '\
	  export CELERY_BROKER_URL="$$TEST_REDIS_URL" VAR_DIR="$$TEST_SERVICES_DIR/var" && \
	  $(PY) manage.py collectstatic --no-input --verbosity 0 && \
	  $(PY) manage.py migrate --no-input --verbosity 0 && \
	  $(PY) manage.py bench_http --throwaway-database \
	    --duration $(BENCH_HTTP_SECONDS) --connections $(BENCH_HTTP_CONNECTIONS) $(BENCH_HTTP_ARGS)'

# The fault run (issue 13), a command that prints, not a test: a production-like stack from
# Debian's packages (PostgreSQL, Redis, nginx) plus gunicorn, a worker, a mail worker, beat and
# a local SMTP server (aiosmtpd, in the dev extra), all on free loopback ports under /tmp.
# It kills and hangs Redis, kills the workers, restarts PostgreSQL, closes and hangs the mail
# server, races two registrars and submits forms twice, then prints one table (e-mails counted
# at the SMTP server, the rest in the database). About 3 to 4 minutes, bounded at 20 (README).
# Needs the Debian packages below; missing ones are named and installed with apt-get (as root).
FAULT_PACKAGES := postgresql redis-server nginx libpq-dev
FAULTS_REPORTS ?= 8
faults: export DEBUG = false
faults: export SECRET_KEY = faults-only-secret-key-that-is-long-enough-for-django-checks-0123456789
faults: export FIELD_ENCRYPTION_KEYS = ZmF1bHRzLW9ubHktZmllbGQtZW5jcnlwdGlvbi1rZXk=
faults: export IDENTIFIER_HASH_KEY = faults-only-identifier-hash-key-0123456789
faults: export DEVELOPMENT_TOOLS = true
faults: export LOOPBACK_TEST_STACK = true
faults:
	$(call debian_packages,$(FAULT_PACKAGES))
	$(MAKE) --no-print-directory translations
	timeout 20m scripts/with-test-services.sh sh -c '\
	  export CELERY_BROKER_URL="$$TEST_REDIS_URL" VAR_DIR="$$TEST_SERVICES_DIR/var" && \
	  $(PY) manage.py collectstatic --no-input --verbosity 0 && \
	  $(PY) manage.py migrate --no-input --verbosity 0 && \
	  $(PY) manage.py faults --throwaway-database --reports $(FAULTS_REPORTS) $(FAULTS_ARGS)'

clean:
	rm -rf var $(VENV)
