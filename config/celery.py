import os

from celery import Celery
from celery.signals import task_prerun, worker_process_init, worker_ready
from django.db import close_old_connections

import config.broker  # noqa: F401  (registers the embedded broker's transport alias)
from config.runtime import tune_garbage_collection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("paperboy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect  # solo and threads pools: tasks run in this process
@worker_process_init.connect  # prefork pool: each child
def loaded(**_kwargs) -> None:
    tune_garbage_collection()


@task_prerun.connect
def fresh_connections(sender=None, **_kwargs) -> None:
    """Before each task, what Django does before each request: close a database connection past
    CONN_MAX_AGE, or one that failed and no longer answers (CELERY_DB_REUSE_MAX keeps Celery
    from closing them all). An eager task runs inside its caller's transaction: left alone."""
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()
