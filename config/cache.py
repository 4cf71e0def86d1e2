"""Django's Redis cache, with one Redis client per connection pool instead of one per call,
and incr() in one round trip.

Django's RedisCacheClient builds a new redis.Redis for every cache operation, and redis-py fills
each new client's table of ~170 response callbacks: a sign-up's rate limits made four of them,
more time than their Redis round trips. A redis.Redis is safe to share between threads (its
connection pool hands each command a connection), so one per pool is kept.

Django's incr() asks EXISTS and then INCRBY: two round trips for every rate-limited request,
and a key that expires between them comes back without its expiry. One Lua call does both
atomically.
"""

from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

# INCRBY only a key that exists (Django's contract: ValueError otherwise); nil when it does not.
_INCR_EXISTING = (
    "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end"
)


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write: bool = False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key: str, delta: int) -> int:
        value = self.get_client(key, write=True).eval(_INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient


@lru_cache(maxsize=4)
def _client(location: str) -> redis.Redis:
    return redis.Redis.from_url(location)


def shared_redis() -> redis.Redis | None:
    """A plain Redis client (one per process) on the cache's Redis, or None when the cache is
    not Redis (the one-machine defaults). For state every worker must see at once, in one
    round trip: the delivery journal, the send rate."""
    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith(".RedisCache"):
        return None
    location = config["LOCATION"]
    return _client(location if isinstance(location, str) else location[0])
