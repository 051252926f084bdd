#!/usr/bin/env bash
# The portal with two Celery workers (events; e-mail) and Celery beat, for `make run`.
# Ctrl-C stops all four.
set -euo pipefail
PY=.venv/bin/python
CELERY=.venv/bin/celery
mkdir -p var/broker/queue var/broker/processed

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # A warm shutdown gets 15 seconds; whatever still runs then is killed.
  for _ in $(seq 30); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$CELERY" -A portal worker --queues=celery --loglevel=INFO --concurrency=2 --hostname=worker@%h &
pids+=($!)
# E-mail has a queue and a worker of its own: a hung mail server never holds the one above.
"$CELERY" -A portal worker --queues=mail --loglevel=INFO --concurrency=1 --hostname=mail@%h &
pids+=($!)
"$CELERY" -A portal beat --loglevel=INFO &
pids+=($!)

cat <<MSG

  Meldpunt Weerbaar Bestuur runs at http://localhost:8000/
  (use localhost, not 127.0.0.1: passkeys do not work on an IP address)
  Demo accounts (password: ${DEMO_PASSWORD:-weerbaar-demo}):
    officeholders: wethouder.utrecht, raadslid.utrecht, burgemeester.zwolle,
                   statenlid.overijssel, eilandsraadslid.saba
    registrars:    meldpunt.utrecht, meldpunt.ijsselland, meldpunt.caribischnederland
    support team:  ondersteuning
    administrator: beheer
  Press Ctrl-C to stop the portal, the workers and beat.

MSG
"$PY" manage.py runserver 127.0.0.1:8000 &
pids+=($!)
wait -n
