import gc
import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

import config.broker  # noqa: F401  (registers the embedded broker's transport alias)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("paperboy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A digest chunk allocates many short-lived containers; with Python's default thresholds the
# collector ran some 300 times per 1,000 digests and kept rescanning everything Django and the
# app had loaded - a fifth of a worker's CPU (make bench-digests). So once the worker has loaded,
# what exists is frozen out of collection (it lives as long as the process) and young
# collections run less often. Garbage cycles are still collected.
GC_THRESHOLDS = (10_000, 10, 10)


@worker_ready.connect  # solo and threads pools: tasks run in this process
@worker_process_init.connect  # prefork pool: each child
def tune_garbage_collection(**_kwargs) -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
