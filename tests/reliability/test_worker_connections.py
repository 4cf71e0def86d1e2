"""A real worker keeps its PostgreSQL connection from one task to the next (Celery alone would
close it after every task: a new backend per digest chunk), and replaces one that was dropped
before its next task instead of failing that task."""

import pytest
from django.db import connection

from newsletter.models import Heartbeat
from newsletter.tasks import heartbeat_task
from tests.reliability.harness import WORKER_APPLICATION_NAME, WorkerProcess
from tests.services import require_postgres, require_redis, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def worker_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [WORKER_APPLICATION_NAME],
        )
        return [row[0] for row in cursor.fetchall()]


def beats(sources: list[str]) -> None:
    for source in sources:
        heartbeat_task.delay(source)
    assert wait_for(lambda: Heartbeat.objects.filter(source__in=sources).count() == len(sources), timeout=30)


def test_a_worker_reuses_its_database_connection_and_replaces_a_dropped_one():
    require_postgres()
    require_redis()
    worker = WorkerProcess().start()
    try:
        beats(["first"])
        [backend] = worker_backends()
        beats([f"task-{n}" for n in range(10)])
        assert worker_backends() == [backend]  # the same backend served all ten
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        beats(["after-the-drop"])  # the next task runs, on a new connection
        [replacement] = worker_backends()
        assert replacement != backend
    finally:
        worker.stop()
