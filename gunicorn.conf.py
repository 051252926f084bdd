"""gunicorn settings of the portal: gunicorn reads this file from its working directory (the
Docker image runs it in /app). See README, "Evidence uploads" and "Production deployment".

The number of processes comes from WEB_CONCURRENCY, which gunicorn reads itself.
"""

import os
import shutil
from pathlib import Path

# nginx in front (deploy/nginx/) reads each request body completely before it passes it on
# (proxy_request_buffering) and allows 210 MB on the upload pages, so a slow phone never holds
# a sync worker; gunicorn then reads even a 200 MB video from nginx in about a second. The web
# process only checks, hashes and encrypts an upload (about 3 s for 200 MB, see
# `manage.py bench_evidence`): photos and videos are decoded by the worker. 30 seconds (below
# nginx's proxy_read_timeout of 60 s) leaves ten times that; gunicorn has no body limit of its
# own, and Django streams every upload over 2.5 MB to a temporary file.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Start each process afresh now and then, so that memory a large request needed is returned.
max_requests = 1000
max_requests_jitter = 100

# Logs: one JSON object per line, the access line without the query string (README, "Logs";
# portal/gunicorn_logging.py).
accesslog = "-"
errorlog = "-"
logger_class = "portal.gunicorn_logging.JsonLogger"

# /metrics adds up the request histograms of all gunicorn processes from this folder
# (prometheus_client's multiprocess mode; portal/metrics.py). Set for web in
# docker-compose.yml; it is emptied at start, and the files of a process that exited are
# marked dead.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if PROMETHEUS_MULTIPROC_DIR:
        folder = Path(PROMETHEUS_MULTIPROC_DIR)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)


def child_exit(server, worker):
    if PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
