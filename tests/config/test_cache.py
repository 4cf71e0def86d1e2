"""The Redis cache keeps one client per connection pool (config.cache) and works as Django's."""

from django.conf import settings

from config.cache import RedisCache
from tests.services import require_redis


def test_one_client_serves_every_operation_and_the_cache_works():
    require_redis()
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "cache-test"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    cache.set("a", {"x": 1}, 30)
    assert cache.get("a") == {"x": 1}
    assert cache.add("n", 0, 30) and not cache.add("n", 5, 30)
    assert cache.incr("n") == 1
    cache.delete_many(["a", "n"])
    assert cache.get("a") is None
