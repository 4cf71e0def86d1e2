"""Autovacuum's part in a send, done by the benchmark where the server has autovacuum off.

This machine's PostgreSQL runs without autovacuum; production's (and a managed one) runs with
it. Without it, the statistics a send starts with say the ledger tables are empty (the setup
purged them) for the whole send, and PostgreSQL answered each chunk's "which of these papers
were these readers sent" by reading every paper sent so far: 40 ms a chunk at the start of a
300,000-reader send, 190 ms at its end, all of it PostgreSQL's CPU taken from the workers.
"""

import time

from django.db import connection

_SETTINGS = """
SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'autovacuum_naptime',
  'autovacuum_vacuum_threshold', 'autovacuum_vacuum_scale_factor',
  'autovacuum_analyze_threshold', 'autovacuum_analyze_scale_factor')
"""
_COUNTS = """
SELECT s.relname, s.n_dead_tup, s.n_mod_since_analyze, greatest(c.reltuples, 0)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = ANY(%s)
"""


class StandInAutovacuum:
    """Autovacuum's own rules: once per naptime, VACUUM (ANALYZE) a table whose dead rows pass
    threshold + scale factor x its rows, or ANALYZE one whose changed rows pass theirs. Idle when
    the server runs autovacuum itself, or is not PostgreSQL."""

    def __init__(self, tables: list[str]) -> None:
        self.tables = tables
        self.passes: list[tuple[float, str, str]] = []  # (seconds since start, table, what)
        self.started = time.monotonic()
        self.settings = self._settings() if connection.vendor == "postgresql" else {}
        self.active = self.settings.get("autovacuum") == "off"
        self.naptime = float(self.settings.get("autovacuum_naptime", 60))
        self.next_pass = self.started + self.naptime

    @staticmethod
    def _settings() -> dict[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(_SETTINGS)
            return dict(cursor.fetchall())

    def poll(self) -> None:
        """Call often: does a pass when one is due."""
        if not self.active or time.monotonic() < self.next_pass:
            return
        self.next_pass = time.monotonic() + self.naptime
        with connection.cursor() as cursor:
            cursor.execute(_COUNTS, [self.tables])
            for table, dead, changed, rows in cursor.fetchall():
                what = due(self.settings, dead, changed, rows)
                if what is None:
                    continue
                cursor.execute(f'{what} "{table}"')
                self.passes.append((round(time.monotonic() - self.started, 1), table, what))


def due(settings: dict[str, str], dead: int, changed: int, rows: float) -> str | None:
    """What autovacuum would do to a table with these counts: a VACUUM (ANALYZE), an ANALYZE or
    nothing (PostgreSQL's documented rule: threshold + scale factor x the table's rows)."""

    def limit(kind: str) -> float:
        threshold = float(settings[f"autovacuum_{kind}_threshold"])
        return threshold + float(settings[f"autovacuum_{kind}_scale_factor"]) * rows

    if dead > limit("vacuum"):
        return "VACUUM (ANALYZE)"
    if changed > limit("analyze"):
        return "ANALYZE"
    return None
