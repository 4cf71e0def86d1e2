"""The embedded broker never hands a worker half a message; on Redis, publishing reuses one client."""

import threading

from django.conf import settings
from kombu import Connection, Queue

from config.broker import RedisTransport
from tests.services import require_redis


def test_a_consumer_racing_a_producer_reads_every_message_whole(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }
    count = 400
    received: list[int] = []

    def produce() -> None:
        # A bare producer: a SimpleQueue here would also register a consumer on the queue.
        with Connection("paperboy-fs://", transport_options=options) as conn:
            producer = conn.Producer()
            for n in range(count):
                producer.publish(
                    {"n": n, "padding": "x" * 20_000}, routing_key="race", declare=[Queue("race")]
                )

    producer = threading.Thread(target=produce)
    producer.start()
    with Connection("paperboy-fs://", transport_options=options) as conn:
        queue = conn.SimpleQueue("race")
        while len(received) < count:
            message = queue.get(timeout=30)
            received.append(message.payload["n"])
            message.ack()
        queue.close()
    producer.join()
    assert sorted(received) == list(range(count))
    assert not list(folder.iterdir())


def test_redis_publishes_through_one_client_and_follows_a_new_pool(monkeypatch):
    require_redis()
    from kombu.transport import redis as kombu_redis

    created = []
    original = kombu_redis.Channel._create_client

    def counting(channel, asynchronous=False):
        client = original(channel, asynchronous)
        if not asynchronous:  # the consumer's BRPOP client is another matter
            created.append(client)
        return client

    monkeypatch.setattr(kombu_redis.Channel, "_create_client", counting)
    with Connection(settings.REDIS_URL, transport=RedisTransport) as conn:
        queue = conn.SimpleQueue("paperboy-test-publish")
        queue.clear()
        for n in range(20):
            queue.put({"n": n})
        assert len(created) == 1  # kombu's own channel: one client per message
        conn.default_channel._disconnect_pools()  # what kombu does after a fork
        queue.put({"n": 20})
        assert len(created) == 2
        assert created[1].connection_pool is conn.default_channel.pool
        received = []
        for _ in range(21):
            message = queue.get(timeout=10)
            received.append(message.payload["n"])
            message.ack()
        queue.close()
    assert received == list(range(21))


def test_the_settings_pick_this_transport_for_plain_redis_only():
    if settings.REDIS_URL.startswith("redis://"):
        assert settings.CELERY_BROKER_TRANSPORT == "config.broker:RedisTransport"
    else:  # rediss://, or the filesystem broker
        assert getattr(settings, "CELERY_BROKER_TRANSPORT", None) is None
