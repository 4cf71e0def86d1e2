"""Garbage collection tuned for long-lived server processes (Celery workers, gunicorn workers).

A digest chunk or a web request allocates many short-lived containers; with Python's default
thresholds the collector ran some 300 times per 1,000 digests and kept rescanning everything
Django and the app had loaded: a fifth of a worker's CPU (make bench-digests), an eighth of a
sign-up's. So once a process has loaded, what exists is frozen out of collection (it lives as
long as the process) and young objects are collected less often. Garbage cycles are still
collected.
"""

import gc

GC_THRESHOLDS = (10_000, 10, 10)


def tune_garbage_collection() -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
