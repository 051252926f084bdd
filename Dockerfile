# Production image of Meldpunt Weerbaar Bestuur: one image for web (gunicorn), worker and beat.
# See docker-compose.yml and README, "Production deployment".

# Base images: pin them by digest when you build a release (FROM python:3.11-slim@sha256:...);
# Dependabot (.github/dependabot.yml) then proposes each new digest. They are not pinned in
# this file because the digests could not be looked up where it was written (no access to a
# container registry), and a made-up digest would not build.

# --- Build stage: compilers and libpq headers stay out of the final image --------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Exactly the locked versions, each file checked against its hash; then the project without
# dependencies (README, "Supply chain").
COPY requirements/base.lock ./requirements/
RUN pip install --require-hashes -r requirements/base.lock
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY incidents ./incidents
COPY support ./support
RUN pip install --no-deps .

# --- Runtime stage ---------------------------------------------------------------------------
FROM python:3.11-slim

# PYTHONPATH: the source tree in /app (with templates, static files and translations next to
# it) wins over the copy of the packages that `pip install .` put into the virtualenv.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    PRIVATE_STORAGE_ROOT=/data/private

# libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0, fonts-dejavu-core: WeasyPrint draws
# the case file PDF (portal/pdf.py) with them.
# ffmpeg: ffprobe checks audio and video uploads (web), ffmpeg removes their metadata (worker).
# postgresql-client-16: pg_dump and pg_restore of the server's major version (compose runs
# PostgreSQL 16) for `manage.py backup` and `restore`; Debian 12 ships 15, so it comes from
# the PostgreSQL project's Debian repository. Change POSTGRES_CLIENT_MAJOR with the server.
ARG POSTGRES_CLIENT_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && . /etc/os-release \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ffmpeg \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
        "postgresql-client-${POSTGRES_CLIENT_MAJOR}" \
    && apt-get purge -y curl && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --shell /usr/sbin/nologin portal

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY . .

# Translations and static files are baked into the image. Both commands load the settings with
# DEBUG off (collectstatic then writes the hashed, compressed files whitenoise serves), which
# refuses the development SECRET_KEY: this build-only key lives in this one RUN step only and
# is not stored in the image.
RUN export DEBUG=false \
        SECRET_KEY=build-only-dummy-secret-key-not-used-at-run-time-0123456789abcdef \
    && python manage.py compile_translations \
    && python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /data/private /data/deletion-log /backups \
    && chown portal:portal /data/private /data/deletion-log /backups

USER portal
EXPOSE 8000

# The number of gunicorn processes comes from WEB_CONCURRENCY (gunicorn reads it itself).
# Whether X-Forwarded-Proto is believed is Django's decision (TRUST_X_FORWARDED_PROTO), so
# gunicorn keeps its default of trusting no forwarding headers from other hosts.
# gunicorn.conf.py (in /app) sets the JSON logs and the access log without query strings.
# Migrations are not run here: the compose service `migrate` runs them once per release.
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000"]
