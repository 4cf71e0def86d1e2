"""Production configuration: `manage.py check --deploy` is clean, the security headers are sent,
and no secret has a default in the code."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def production_env(**extra: str) -> dict[str, str]:
    """What an operator sets in production (.env.example), nothing from the developer's shell."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "VAR_DIR", "LANG"}}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "papers.example.org",
        "SITE_URL": "https://papers.example.org",
        "DATABASE_URL": "postgres://paperboy:pw@db.internal:5432/paperboy",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "EMAIL_URL": "smtp+tls://user:pw@mail.internal:587",
        **extra,
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_fails_when_https_hardening_is_turned_off():
    # The check above can fail: without HSTS and the redirect, Django's deploy checks complain.
    env = production_env(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_no_secret_has_a_default_in_the_settings():
    """Keys, tokens and passwords come only from the environment: `env.str("X_SECRET",
    default="something")` in the code would be a secret shipped with it."""
    source = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    secretive = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
    for name, default in re.findall(r'env\.\w+\(\s*"([A-Z_]+)"\s*,\s*default=([^)]*)\)', source):
        if secretive.search(name):
            assert default.strip() in {'""', "''", "None"}, f"{name} has a default: {default}"
    # The one built-in key is for DEBUG only, set after refusing to run without one otherwise.
    assert source.index("SECRET_KEY must be set when DEBUG is off") < source.index("insecure-dev-only-key")


def test_every_page_sends_the_security_headers(client, settings):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_hsts_and_the_https_redirect_follow_an_https_site_url(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    plain = client.get("/archive/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    # The container healthcheck asks over plain HTTP and must not be redirected.
    assert client.get("/healthz").status_code != 301
    secure = client.get("/archive/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_settings_default_to_https_hardening_for_an_https_site():
    code = (
        "import django; from django.conf import settings as s; django.setup(); "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=production_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "31536000", "True", "True"]
