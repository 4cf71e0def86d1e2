"""`python manage.py bench_digests --subscribers 100000`: time the digest send path on real
worker processes against a naive baseline; the last line printed is one JSON object.

It needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL), and a database of its own: it creates
readers at the benchmarks.digests.BENCH_DOMAIN and removes them before each run."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import digests as bench
from benchmarks.data import purge


class Command(BaseCommand):
    help = "Benchmark sending personalised digests (synthetic readers, real workers, a sink backend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=int, default=100_000)
        parser.add_argument("--workers", type=int, default=2, help="worker processes (one per core)")
        parser.add_argument("--chunk-size", type=int, default=None, help="default: DIGEST_CHUNK_SIZE")
        parser.add_argument("--naive-sample", type=int, default=1000, help="readers the naive path times")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--timeout", type=float, default=1800.0, help="seconds the send may take")
        parser.add_argument("--profile", action="store_true", help="print a cProfile of one chunk first")
        parser.add_argument(
            "--py-spy",
            type=Path,
            metavar="FOLDER",
            help="record the workers with py-spy during the send (raw stacks in FOLDER) and print a summary",
        )
        parser.add_argument("--keep", action="store_true", help="leave the bench readers in the database")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("bench_digests needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
        if options["subscribers"] < 1 or options["workers"] < 1:
            raise CommandError("--subscribers and --workers must be at least 1.")
        result = bench.run(
            options["subscribers"],
            workers=options["workers"],
            chunk_size=options["chunk_size"],
            naive_sample=options["naive_sample"],
            seed=options["seed"],
            timeout=options["timeout"],
            profile=options["profile"],
            spy_folder=options["py_spy"],
            log=lambda line: self.stdout.write(line),
        )
        if not options["keep"]:
            purge()
        self.stdout.write(bench.as_json(result))
