"""Settings come from the environment and fail loudly on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.mail import anymail_settings

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import config.settings in a fresh interpreter with exactly these variables set."""
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "VAR_DIR"}}
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.EMAIL_BACKEND, settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_starts_on_embedded_defaults_in_debug():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    backend, engine, broker = result.stdout.split()
    assert backend == "newsletter.sending.outbox.OutboxEmailBackend"
    assert engine == "django.db.backends.sqlite3"
    assert broker == "paperboy-fs://"


def test_email_url_selects_smtp():
    result = load_settings(DEBUG="1", EMAIL_URL="smtp+tls://user:pw@mail.example.test:587")
    assert result.returncode == 0, result.stderr
    # Django's, with the journal hook
    assert result.stdout.split()[0] == "newsletter.sending.smtp.EmailBackend"


def test_anymail_esp_selects_its_backend_with_its_keys():
    result = load_settings(DEBUG="1", ANYMAIL_ESP="postmark", POSTMARK_SERVER_TOKEN="abc")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "anymail.backends.postmark.EmailBackend"


def test_both_mail_settings_at_once_is_an_error():
    result = load_settings(
        DEBUG="1", ANYMAIL_ESP="postmark", POSTMARK_SERVER_TOKEN="x", EMAIL_URL="smtp://h:25"
    )
    assert "Set EMAIL_URL or ANYMAIL_ESP, not both" in result.stderr


def test_redis_url_selects_the_redis_broker_and_cache():
    result = load_settings(DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/9")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[2] == "redis://127.0.0.1:6379/9"


def test_anymail_settings_pass_the_esps_keys(monkeypatch):
    monkeypatch.setenv("MAILGUN_API_KEY", "key-1")
    monkeypatch.setenv("MAILGUN_SENDER_DOMAIN", "mg.example.test")
    backend, keys = anymail_settings("mailgun", environ.Env())
    assert backend == "anymail.backends.mailgun.EmailBackend"
    assert keys == {"MAILGUN_API_KEY": "key-1", "MAILGUN_SENDER_DOMAIN": "mg.example.test"}


@pytest.mark.parametrize("esp", ["nosuchesp", "base", "../etc", ""])
def test_an_unknown_esp_is_an_error(esp):
    with pytest.raises(ImproperlyConfigured):
        anymail_settings(esp, environ.Env())


def test_an_esp_without_keys_is_an_error(monkeypatch):
    for name in list(os.environ):
        if name.startswith("SENDGRID_"):
            monkeypatch.delenv(name)
    with pytest.raises(ImproperlyConfigured, match="needs its keys"):
        anymail_settings("sendgrid", environ.Env())
