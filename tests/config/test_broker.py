"""The embedded broker never hands a worker half a message."""

import threading

from kombu import Connection, Queue

import config.broker  # noqa: F401


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
