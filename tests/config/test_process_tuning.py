"""Process-level tuning: the Redis cache keeps one client per connection pool and increments in
one round trip (config.cache); a
worker freezes what it loaded out of garbage collection (config.runtime, on Celery's signals)."""

import pytest
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


def test_incr_is_one_round_trip_keeps_the_expiry_and_refuses_a_missing_key(monkeypatch):
    require_redis()
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "cache-test"})
    client = cache._cache.get_client(write=True)
    commands = []
    original = client.execute_command
    monkeypatch.setattr(
        client, "execute_command", lambda *args, **kw: commands.append(args[0]) or original(*args, **kw)
    )
    cache.delete("hits")
    with pytest.raises(ValueError):
        cache.incr("hits")
    assert cache.get("hits") is None  # not created by the failed incr
    cache.set("hits", 1, 30)
    commands.clear()
    assert cache.incr("hits", 4) == 5
    assert commands == ["EVAL"]
    assert 0 < client.ttl(cache.make_key("hits")) <= 30
    assert cache.get("hits") == 5
    cache.delete("hits")


def test_a_worker_freezes_what_it_loaded_and_collects_less_often():
    import gc

    from celery.signals import worker_process_init, worker_ready

    from config.runtime import GC_THRESHOLDS

    before = gc.get_threshold()
    try:
        worker_ready.send(sender=None)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == GC_THRESHOLDS
        gc.unfreeze()
        gc.set_threshold(*before)
        worker_process_init.send(sender=None)  # a prefork child does the same
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_web_worker_tunes_collection_once_the_app_has_loaded(tmp_path):
    import subprocess
    import sys

    code = "import gc, config.wsgi; print(gc.get_freeze_count() > 0, gc.get_threshold())"
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "1",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(None, 1) == ["True", "(10000, 10, 10)\n"]
