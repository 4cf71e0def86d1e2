"""Settings for the test suite: the real settings plus what makes tests fast and hermetic."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
# Hermetic: a developer's .env (DEBUG=1 after `make run`) must not change what the tests see.
os.environ["ENV_FILE"] = ""
# Keep the outbox, cache and local broker of a test run apart from a running dev server's.
# Set in the environment so worker subprocesses started by tests share the same folder.
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="paperboy-test-"))
# Under pytest-xdist each worker gets a folder of its own: a shared file cache let one worker's
# cache.clear() reset another's rate-limit counters mid-test.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.path.basename(os.environ["VAR_DIR"]) != _worker:
    os.environ["VAR_DIR"] = os.path.join(os.environ["VAR_DIR"], _worker)
    os.makedirs(os.environ["VAR_DIR"], exist_ok=True)

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Templates use {% static %}; the manifest only exists after collectstatic.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Whitenoise warns about a missing STATIC_ROOT; tests never collect static files.
STATIC_ROOT = VAR_DIR / "static"  # noqa: F405
STATIC_ROOT.mkdir(exist_ok=True)
# On SQLite, a file rather than Django's in-memory shared-cache database: shared-cache mode
# fails a worker thread's write at once ("database table is locked") while a test reads,
# where a file with WAL and the busy timeout just waits.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
