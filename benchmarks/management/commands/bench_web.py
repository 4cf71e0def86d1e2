"""`python manage.py bench_web` (`make bench-web`): sign-up and one-click unsubscribe throughput
and latency of gunicorn with the production settings, loaded by wrk on loopback. The last line
printed is one JSON object. Needs PostgreSQL, Redis and wrk; the readers it creates are removed."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import digests as bench
from benchmarks import web as bench_web
from benchmarks.data import purge


class Command(BaseCommand):
    help = "Benchmark the sign-up and one-click unsubscribe endpoints under gunicorn with wrk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--duration", type=int, default=20, help="seconds per phase at most")
        parser.add_argument("--requests", type=int, default=10000, help="requests per phase at most")
        parser.add_argument("--connections", type=int, default=8)
        parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the Dockerfile's)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (the Dockerfile's)")
        parser.add_argument("--port", type=int, default=8765)

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("bench_web needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
        try:
            result = bench_web.run(
                options["duration"],
                options["requests"],
                options["connections"],
                options["workers"],
                options["threads"],
                options["port"],
                log=lambda line: self.stdout.write(line),
            )
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        finally:
            purge()
            bench_web.drop_queued_mail()
        for name in ("signup", "unsubscribe"):
            p = result[name]
            self.stdout.write(
                f"{name}: {p['requests']} requests, {p['requests_per_s']} requests/s, p50 {p['p50_ms']} ms, "
                f"p95 {p['p95_ms']} ms, p99 {p['p99_ms']} ms, errors {p['errors']}, "
                f"server CPU {p['server_cpu_ms_per_request']} ms/request"
            )
        self.stdout.write(bench.as_json_dict(result))
