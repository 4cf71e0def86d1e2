"""`python manage.py bench_tick --subscribers 100000`: the tick's phases alone (due readers,
their order, the ledger rows' inserts and commits); the last line printed is one JSON object.
It needs PostgreSQL and a database of its own (the readers are removed afterwards)."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import tick as bench
from benchmarks.data import purge


class Command(BaseCommand):
    help = "Time the tick's phases for many due readers, without sending."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=3, help="runs over the same readers")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_tick needs PostgreSQL: set DATABASE_URL.")
        if options["subscribers"] < 1 or options["repeat"] < 1:
            raise CommandError("--subscribers and --repeat must be at least 1.")
        try:
            log = self.stdout.write
            result = bench.run(options["subscribers"], options["repeat"], options["seed"], log=log)
        finally:
            purge()
        self.stdout.write(json.dumps(result))
