"""A chunk's task message: every delivery id in its body, and a few characters naming them in the
repr Celery shows in logs and monitors (building that repr from 500 ids was half of queueing a
chunk, issue 17)."""

from celery.signals import before_task_publish

from config.celery import app as celery_app
from newsletter.tasks import chunk_repr, queue_chunk


def test_a_queued_chunk_carries_every_id_and_names_them_in_a_few_characters():
    published = []

    def record(headers=None, body=None, **kwargs):
        published.append((headers, body))

    before_task_publish.connect(record, weak=False)
    try:
        queue_chunk(list(range(1000, 1500)))
    finally:
        before_task_publish.disconnect(record)
        celery_app.control.purge()  # no later test's worker may take this chunk
    [(headers, body)] = published
    assert headers["task"] == "newsletter.tasks.send_chunk_task"
    assert headers["argsrepr"] == "([1000, ..., 1499] (500 delivery ids),)"
    assert headers["kwargsrepr"] == "{}"
    args, kwargs, _ = body
    assert list(args[0]) == list(range(1000, 1500)) and kwargs == {}


def test_a_short_chunk_is_shown_whole():
    assert chunk_repr([7, 9]) == "([7, 9],)"
    assert chunk_repr([]) == "([],)"
