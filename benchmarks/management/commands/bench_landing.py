"""`python manage.py bench_landing` (`make bench-landing`): latency of the landing page's sign-up
preview with a week of papers stored (target: p95 < 100 ms). The last line is one JSON object;
the papers it stores (on far-future days) are removed."""

import json

from django.core.management.base import BaseCommand, CommandParser

from benchmarks import landing


class Command(BaseCommand):
    help = "Benchmark the landing page's preview (and the page) with a week of papers stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=500, help="preview requests to time")

    def handle(self, *args, requests: int, **options) -> None:
        landing.purge_week()
        try:
            result = landing.run(requests)
        finally:
            landing.purge_week()
        for name in ("preview", "landing"):
            r = result[name]
            latency = f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms"
            self.stdout.write(f"{name}: {r['requests']} requests, {latency}")
        self.stdout.write(json.dumps(result))
