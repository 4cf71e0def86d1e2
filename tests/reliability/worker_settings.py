"""Settings of the worker processes some fault scenarios start: the test settings, plus knobs
production does not expose (they would only make sense to provoke a fault quickly)."""

import os

from config.settings_test import *  # noqa: F403

# A broker visibility timeout of seconds, swept every second, so a task outlives it in a test.
if visibility := os.environ.get("TEST_BROKER_VISIBILITY_TIMEOUT"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": float(visibility),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
