import pytest
from django.db.utils import OperationalError

from config.celery import app as celery_app
from newsletter.heartbeat import record_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["status"] == "ok"
    assert body["down"] == []


def test_healthz_is_503_and_names_the_broker_when_it_is_down(client, monkeypatch):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert body["broker"].startswith("error:")
    assert body["database"] == "ok"


def test_healthz_is_503_and_names_the_database_when_it_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("config.health.connection.cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert "connection refused" in response.json()["database"]


def test_healthz_shows_the_worker_heartbeat(client, time_machine):
    assert client.get("/healthz").json()["worker"] == "unknown"
    time_machine.move_to("2026-01-01 12:00:00Z")
    record_heartbeat("worker")
    assert client.get("/healthz").json()["worker"] == "ok"
    time_machine.move_to("2026-01-01 12:10:00Z")
    assert client.get("/healthz").json()["worker"] == "stale"
