import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

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
