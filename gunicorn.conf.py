"""gunicorn reads this file from the directory it starts in (`make serve`, the Docker image);
command-line options still win. It only adds what Prometheus' multiprocess mode needs
(config/metrics.py): with PROMETHEUS_MULTIPROC_DIR set, every worker writes its metrics to files
there; the directory must start empty (numbers from a previous run would be added in) and an
exited worker's live gauges must be dropped."""

import os
import shutil
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
