"""A task enqueued after commit is consumed by a real Celery worker from the real broker.

In CI the broker is Redis and the database PostgreSQL; locally it is whatever is configured
(the filesystem broker and SQLite by default), which exercises the same path.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from config.celery import app as celery_app
from newsletter.models import Heartbeat
from newsletter.tasks import heartbeat_task
from tests.services import require_postgres, require_redis, wait_for


def test_the_suite_runs_on_postgres_and_redis_when_services_are_required():
    require_postgres()
    require_redis()


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_after_commit_runs_on_a_real_worker():
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        with transaction.atomic():
            transaction.on_commit(lambda: heartbeat_task.delay("e2e"))
            # Nothing is published before the commit: a rollback would enqueue nothing.
            time.sleep(0.5)
            assert not Heartbeat.objects.filter(source="e2e").exists()
        assert wait_for(lambda: Heartbeat.objects.filter(source="e2e").exists())


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing():
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        with pytest.raises(RuntimeError), transaction.atomic():
            transaction.on_commit(lambda: heartbeat_task.delay("rolled-back"))
            raise RuntimeError("abort")
        heartbeat_task.delay("after")
        assert wait_for(lambda: Heartbeat.objects.filter(source="after").exists())
        assert not Heartbeat.objects.filter(source="rolled-back").exists()
