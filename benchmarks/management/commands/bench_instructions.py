"""`python manage.py bench_instructions --subscribers 300`: instructions per digest of the send
path under Valgrind's callgrind (benchmarks.instructions); the last line printed is one JSON
object. It needs PostgreSQL, Redis and valgrind, and a database of its own."""

import json
import random
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import instructions
from benchmarks.data import bench_day, purge


class Command(BaseCommand):
    help = "Count the send path's instructions per digest with callgrind (machine speed aside)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--inner", type=int, metavar="REPEAT", help="(run by itself under callgrind) send REPEAT times"
        )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("bench_instructions needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL).")
        if options["inner"]:
            self.stdout.write(str(instructions.send_repeatedly(options["inner"])))
            return
        if options["subscribers"] < 1:
            raise CommandError("--subscribers must be at least 1.")
        bench_day(options["subscribers"], random.Random(options["seed"]))  # noqa: S311 (synthetic readers)
        try:
            result = instructions.instructions_per_digest(Path(settings.BASE_DIR) / "manage.py")
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            purge()
        self.stdout.write(json.dumps({"subscribers": options["subscribers"], **result}))
