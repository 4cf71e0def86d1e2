FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs a key to import settings; the real one comes from .env at run time.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 paperboy && mkdir -p /app/var && chown paperboy /app/var
USER paperboy

EXPOSE 8000
# Threads (gthread) keep connections alive and overlap database waits: about a quarter less
# CPU per sign-up than sync workers (make bench-web).
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
