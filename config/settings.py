"""Paperboy settings, read from the environment.

Every setting is documented in `.env.example` and the README. Defaults are safe for a
laptop (SQLite, a filesystem broker and a local outbox under `var/`); production sets
the URLs. A bad value fails loudly at start-up rather than at the first request.
"""

import zoneinfo
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.env import env, hour_setting, rate_setting
from config.mail import anymail_settings

BASE_DIR = Path(__file__).resolve().parent.parent

# A .env file beside manage.py (the first `make run` writes one) is optional; real environment
# variables win. ENV_FILE names another file; empty reads none (the test suite).
ENV_FILE = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-dev-only-key-do-not-use-in-production"  # noqa: S105 (DEBUG only)

INTERNAL_IPS = ["127.0.0.1"]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "anymail",
    "papers",
    "subscribers",
    "newsletter",
    "benchmarks",
]

MIDDLEWARE = [
    # First, so it compresses what the others produce: pages are ~45 KB of HTML, a tenth gzipped.
    # Django's gzip pads responses with random bytes against BREACH (Django 4.2+); CSRF tokens
    # are masked per response as well.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RejectNulInQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
# The preference centre's "what you would have received": digests are the newsletter layer's,
# above subscribers, so the page finds the function by name (PREFERENCE_PREVIEW(subscriber)).
PREFERENCE_PREVIEW = "newsletter.reader.preview.preview_for"
# The landing page's top papers and sign-up preview, the same way (LANDING_CONTENT(topics, keywords)).
LANDING_CONTENT = "newsletter.reader.landing.landing_content"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.debug",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'paperboy.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file locally: WAL and IMMEDIATE transactions
    # turn "database is locked" errors into short waits.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Shared by the web server and the workers without any server process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery ----------------------------------------------------------------------------
# The longest task may run this long before it is killed; retries wait at most CELERY_MAX_RETRY_DELAY.
# The broker redelivers an unacknowledged task after visibility_timeout: it must exceed both.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_MAX_RETRY_DELAY = env.int("CELERY_MAX_RETRY_DELAY", default=30 * 60)
CELERY_BROKER_VISIBILITY_TIMEOUT = 2 * (CELERY_TASK_TIME_LIMIT + CELERY_MAX_RETRY_DELAY)

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # kombu's Redis transport with one publishing client (config/broker.py); rediss:// keeps kombu's.
    CELERY_BROKER_TRANSPORT = "config.broker:RedisTransport" if REDIS_URL.startswith("redis://") else None
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport with atomic writes (config/broker.py).
    CELERY_BROKER_URL = "paperboy-fs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Fanout (worker remote control) files; the default would be ./control in the cwd.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Nothing reads task results: outcomes are recorded in the database.
CELERY_TASK_IGNORE_RESULT = True
# Tasks opt in to acks_late one by one, when running them twice is harmless.
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Without this, Celery closes a worker's database connections after every task: each digest chunk
# and confirmation email paid for a new PostgreSQL backend. config.celery drops one past
# CONN_MAX_AGE, or broken, before each task, as Django does before each request.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = "UTC"

# --- Mail ------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Paperboy <paperboy@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
POSTAL_ADDRESS = env.str("POSTAL_ADDRESS", default="Paperboy, 1 Example Street, Nowhere")
ADMINS = [("Curator", a) for a in env.list("ADMINS", default=[])]
OUTBOX_DIR = VAR_DIR / "outbox"

ANYMAIL_ESP = env.str("ANYMAIL_ESP", default="").strip().lower()
EMAIL_URL = env.str("EMAIL_URL", default="")
ANYMAIL = {"WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")} if ANYMAIL_ESP else {}
if ANYMAIL_ESP and EMAIL_URL:
    raise ImproperlyConfigured("Set EMAIL_URL or ANYMAIL_ESP, not both.")
if ANYMAIL_ESP:
    EMAIL_BACKEND, _esp_settings = anymail_settings(ANYMAIL_ESP, env)
    ANYMAIL.update(_esp_settings)
    # Seconds an ESP's API may take to answer; a timeout is retried like a 5xx.
    ANYMAIL["REQUESTS_TIMEOUT"] = env.float("ANYMAIL_REQUESTS_TIMEOUT", default=30.0)
elif EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
    # smtp:// gets Django's backend with the delivery journal written right before the final
    # dot (newsletter/smtp.py), so a crash mid-message leaves it safely resendable.
    if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        EMAIL_BACKEND = "newsletter.sending.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "newsletter.sending.outbox.OutboxEmailBackend"
# Seconds any SMTP connection waits on the server (connect, each reply), as the ESP path does:
# without it a silent server holds a send forever. EMAIL_URL cannot carry it.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)
# Any other Django email backend by its dotted path, over what EMAIL_URL or ANYMAIL_ESP chose
# (`bench_digests` points its workers at benchmarks.sink.SinkEmailBackend this way).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_BACKEND)

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Internationalisation --------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Papers: ingestion of the Hugging Face Daily Papers listing ------------------------------
HF_BASE_URL = env.str("HF_BASE_URL", default="https://huggingface.co").rstrip("/")
if not HF_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"HF_BASE_URL must be an http(s) URL, not {HF_BASE_URL!r}.")
HF_USER_AGENT = env.str(
    "HF_USER_AGENT", default=f"Paperboy/0.1 (self-hosted research-paper newsletter; +{SITE_URL})"
)
HF_CONNECT_TIMEOUT = env.float("HF_CONNECT_TIMEOUT", default=10.0)
HF_READ_TIMEOUT = env.float("HF_READ_TIMEOUT", default=30.0)
# A whole response must arrive within this, however slowly it trickles.
HF_TOTAL_TIMEOUT = env.float("HF_TOTAL_TIMEOUT", default=90.0)
HF_MAX_RESPONSE_BYTES = env.int("HF_MAX_RESPONSE_BYTES", default=20 * 1024 * 1024)
# In-request retries on 429/5xx/timeouts: waits of HF_RETRY_BACKOFF * 2**n seconds, or the
# server's Retry-After; a longer wait than HF_MAX_RETRY_WAIT hands the retry to Celery instead.
HF_MAX_RETRIES = env.int("HF_MAX_RETRIES", default=3)
HF_RETRY_BACKOFF = env.float("HF_RETRY_BACKOFF", default=2.0)
HF_MAX_RETRY_WAIT = env.float("HF_MAX_RETRY_WAIT", default=60.0)
# A weekday whose listing is still empty at this hour (TIME_ZONE) alerts the curators.
SCRAPE_EMPTY_ALERT_HOUR = hour_setting("SCRAPE_EMPTY_ALERT_HOUR", 20)
# How many days before today the daily refresh re-scrapes for fresh upvotes and comments.
SCRAPE_REFRESH_DAYS = env.int("SCRAPE_REFRESH_DAYS", default=3)

# --- Subscribers: sign-up, preference centre, rate limits ------------------------------------
# The time zone a sign-up form starts on when the browser does not say (no JavaScript).
SUBSCRIBERS_DEFAULT_TIME_ZONE = env.str("SUBSCRIBERS_DEFAULT_TIME_ZONE", default="UTC")
if SUBSCRIBERS_DEFAULT_TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"SUBSCRIBERS_DEFAULT_TIME_ZONE {SUBSCRIBERS_DEFAULT_TIME_ZONE!r} is unknown.")
# A form posted sooner than this after it was served is a bot's: answered alike, nothing sent.
SUBSCRIBERS_MIN_FILL_SECONDS = env.float("SUBSCRIBERS_MIN_FILL_SECONDS", default=2.0)
# Form posts per client IP (django-ratelimit's "N/s|m|h|d"), and mails per address and kind.
SUBSCRIBERS_IP_RATE = rate_setting("SUBSCRIBERS_IP_RATE", "20/h")
SUBSCRIBERS_ADDRESS_MAIL_RATE = rate_setting("SUBSCRIBERS_ADDRESS_MAIL_RATE", "3/d")
# How many reverse proxies append to X-Forwarded-For in front of the app (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Newsletter: editions and delivery ---------------------------------------------------------
# Today's edition is built from the stored papers at this hour (UTC), once the listing settled.
EDITION_SETTLE_HOUR = hour_setting("EDITION_SETTLE_HOUR", 20)
# When on, a new edition waits as a draft until a curator releases it.
EDITION_REQUIRES_APPROVAL = env.bool("EDITION_REQUIRES_APPROVAL", default=False)
# Deliveries per task: one connection and a fixed number of queries serve the whole chunk.
# 500: a chunk's fixed cost (claim, load, ledger write) spread thinner than at 200 (8% less CPU
# per digest, make bench-digests), while a chunk still takes seconds, not minutes.
DIGEST_CHUNK_SIZE = env.int("DIGEST_CHUNK_SIZE", default=500)
# Transient send failures are retried this many times before the row fails.
DIGEST_MAX_ATTEMPTS = env.int("DIGEST_MAX_ATTEMPTS", default=5)
# First retry delay of a transient failure, doubled per attempt (with jitter).
DIGEST_RETRY_DELAY = env.float("DIGEST_RETRY_DELAY", default=60.0)
# Optional mailto in List-Unsubscribe, beside the one-click https URL.
UNSUBSCRIBE_MAILTO = env.str("UNSUBSCRIBE_MAILTO", default="")
# A dead worker's digests are settled from the journal this long after its task's time limit.
DIGEST_RECOVERY_GRACE = env.int("DIGEST_RECOVERY_GRACE", default=60)
# How long the per-message journal of a chunk is kept (long enough to outlive any recovery).
DIGEST_JOURNAL_TTL = env.int("DIGEST_JOURNAL_TTL", default=2 * 24 * 3600)
# The send rate across all workers, in messages a second (newsletter.sending.send_rate): unset,
# no limit. Shared through Redis; with no Redis (filesystem broker) it holds per worker process.
DIGEST_SEND_RATE = env.float("DIGEST_SEND_RATE", default=None)
if DIGEST_SEND_RATE is not None and DIGEST_SEND_RATE <= 0:
    raise ImproperlyConfigured("DIGEST_SEND_RATE must be a positive number of messages a second, or unset.")
# Messages that may go out at once before the rate paces them.
DIGEST_SEND_BURST = env.int("DIGEST_SEND_BURST", default=1)
if DIGEST_SEND_BURST < 1:
    raise ImproperlyConfigured("DIGEST_SEND_BURST must be 1 or more.")
# When the ESP throttles (429): every worker holds this long unless it sends Retry-After (capped
# at DIGEST_THROTTLE_MAX_PAUSE), and the rate is halved for DIGEST_THROTTLE_COOLDOWN seconds.
DIGEST_THROTTLE_PAUSE = env.float("DIGEST_THROTTLE_PAUSE", default=5.0)
DIGEST_THROTTLE_MAX_PAUSE = env.float("DIGEST_THROTTLE_MAX_PAUSE", default=120.0)
DIGEST_THROTTLE_COOLDOWN = env.float("DIGEST_THROTTLE_COOLDOWN", default=60.0)
# A chunk waiting for its send slots stops after this long and hands the rest to a new task,
# well inside the task's time limit.
DIGEST_CHUNK_DEADLINE = CELERY_TASK_SOFT_TIME_LIMIT // 2

# --- Curator console: ESP webhooks, soft bounces, admin login ----------------------------------
# The webhooks (/esp/anymail/<esp>/tracking/) answer only with a secret, whatever backend sends.
ANYMAIL["WEBHOOK_SECRET"] = env.str("ANYMAIL_WEBHOOK_SECRET", default="")
if ANYMAIL["WEBHOOK_SECRET"] and ":" not in ANYMAIL["WEBHOOK_SECRET"]:
    raise ImproperlyConfigured("ANYMAIL_WEBHOOK_SECRET must look like user:password.")
# Soft bounces (temporary failures) of one reader, since their last delivered digest, that
# suppress them like a hard bounce.
ESP_SOFT_BOUNCE_LIMIT = env.int("ESP_SOFT_BOUNCE_LIMIT", default=3)
# Admin login attempts (POSTs) per client IP; over it the login page answers 429.
ADMIN_LOGIN_RATE = rate_setting("ADMIN_LOGIN_RATE", "10/m")

# --- Security: CSP, HSTS, HTTPS defaults (issue 8) ----------------------------------------------
# A site served over HTTPS (SITE_URL https://...) gets the production hardening by default; each
# part can still be turned off from the environment (e.g. while a TLS proxy is being set up).
from csp.constants import NONE, SELF  # noqa: E402

_HTTPS = SITE_URL.startswith("https://")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _HTTPS
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
# The container healthcheck asks over plain HTTP from inside; a redirect would fail it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Every page loads its scripts, styles and images from this site only: an injected <script> or
# inline handler would not run even if escaping ever failed. Emails are not web pages (no CSP).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # The local outbox (DEBUG only) shows an email's HTML in a sandboxed same-site frame.
        "frame-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
