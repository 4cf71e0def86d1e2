"""kombu's transports, two fixes each in one place.

The embedded broker for machines without Redis is kombu's filesystem transport, made atomic.
kombu's own `_put` creates the message file and then writes it, while `_get` reads without
taking the lock, so a worker polling at the wrong instant reads an empty file and loses the
task (JSONDecodeError). Here a message is written under a name no queue matches and renamed
into place, which is atomic on POSIX: a reader sees the whole message or none.

On Redis (settings.CELERY_BROKER_TRANSPORT), kombu builds a new redis.Redis for every message
it publishes, and redis-py fills each new client's table of ~170 response callbacks: as much
CPU as the LPUSH itself, on every sign-up's confirmation email. RedisChannel keeps one client
per connection pool instead (a redis.Redis is safe to share between threads), as config.cache
does for Django's cache.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem, redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps
from redis import Redis

ALIAS = "paperboy-fs"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"partial-{name}.part")
        with open(partial, "wb") as file:
            file.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[ALIAS] = "config.broker:Transport"


class RedisChannel(redis.Channel):
    _pool_client = None

    @contextmanager
    def conn_or_acquire(self, client: Redis | None = None) -> Iterator[Redis]:
        if client:
            yield client
            return
        # kombu replaces the pool after a fork or a lost connection: the client follows it.
        pool = self.pool
        if self._pool_client is None or self._pool_client.connection_pool is not pool:
            self._pool_client = self._create_client()
        yield self._pool_client


class RedisTransport(redis.Transport):
    Channel = RedisChannel
