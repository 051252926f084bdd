#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL and Redis on free loopback ports.
# Exports DATABASE_URL and TEST_REDIS_URL for the command; stops both servers afterwards,
# also when the command fails or is interrupted.
set -euo pipefail

die() { echo "with-test-services: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it."
command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install redis-server)."

WORK="$(mktemp -d /tmp/mwb-test-services.XXXXXX)"
PG_DIR="$WORK/pg"
PG_PORT="$(free_port)"
REDIS_PORT="$(free_port)"
RUN_AS=()
if [ "$(id -u)" = "0" ]; then
  # initdb refuses to run as root.
  RUN_AS=(runuser -u postgres --)
fi

cleanup() {
  status=$?
  (cd "$WORK" && "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1) || true
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT INT TERM

mkdir -p "$PG_DIR"
if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$WORK"; chmod 755 "$WORK"; fi
(
  cd "$PG_DIR"
  "${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
)
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE ROLE mwb LOGIN CREATEDB PASSWORD 'mwb'" -c "CREATE DATABASE mwb OWNER mwb" \
  || die "could not create the test role"

redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
  --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" --dir "$WORK" >/dev/null \
  || { cat "$WORK/redis.log" >&2; die "Redis did not start"; }
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { cat "$WORK/redis.log" >&2; die "Redis did not answer"; }

export DATABASE_URL="postgres://mwb:mwb@127.0.0.1:$PG_PORT/mwb"
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export TEST_REDIS_PORT="$REDIS_PORT"
export TEST_SERVICES_DIR="$WORK"
echo "with-test-services: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"
"$@"
