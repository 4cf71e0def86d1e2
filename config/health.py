"""GET /healthz: can this process reach the database and the broker?"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app
from newsletter.heartbeat import heartbeat_state

BROKER_TIMEOUT_S = 3


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; say which
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


def check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "broker": check_broker()}
    down = sorted(name for name, state in checks.items() if state != "ok")
    if checks["database"] == "ok":
        # Informational: a stopped worker does not make the web process unhealthy.
        checks["worker"] = heartbeat_state()
    body = {**checks, "status": "ok" if not down else "down", "down": down}
    return JsonResponse(body, status=503 if down else 200)
