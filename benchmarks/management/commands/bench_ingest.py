"""Benchmark ingestion: parse time per captured page, and backfill throughput from a local server.

    python manage.py bench_ingest                 # all 568 archive days, pages served
    python manage.py bench_ingest --serve api     # serve API bodies instead (the page is 404)

The local server (127.0.0.1, stdlib http.server, in this process) answers at the real paths.
With --serve page (the default) `/papers/date/D` is the real 2024-08-01 capture with the JSON in its
`data-target="DailyPapers"` element replaced by day D's archive items, so every day costs a
full-size page download, the island parse and the store. With --serve api, `/papers/date/D` is
404 and `/api/daily_papers?date=D` holds the day's items. Everything written is rolled back
at the end unless --keep is given.
"""

import html
import json
import re
import statistics
import threading
import time
from collections.abc import Callable
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from papers.ingest import DayResult, backfill
from papers.models import ScrapeRun
from papers.sources.archive import read_archive
from papers.sources.hf import parse_api_body, parse_listing_page
from papers.sources.http import HttpClient

FIXTURES = settings.BASE_DIR.parent / "shared" / "fixtures" / "hf"
_PROPS = re.compile(r'(data-target="DailyPapers"\s+data-props=")[^"]*(")')


class RolledBack(Exception):
    pass


def median_ms(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def page_builder(template: str) -> Callable[[date, list], bytes]:
    head, tail = _PROPS.split(template, maxsplit=1)[0], template[_PROPS.search(template).end() :]

    def build(day: date, items: list) -> bytes:
        props = {"date": f"{day.isoformat()}T00:00:00.000Z", "dailyPapers": items}
        return f'{head}data-target="DailyPapers" data-props="{html.escape(json.dumps(props))}"{tail}'.encode()

    return build


def start_server(
    days: dict[str, list], serve: str, build: Callable[[date, list], bytes]
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real CDN

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if serve == "page" and url.path.startswith("/papers/date/") and url.path[13:] in days:
                day = url.path[13:]
                self.answer(200, "text/html; charset=utf-8", build(date.fromisoformat(day), days[day]))
            elif serve == "api" and url.path == "/api/daily_papers":
                day = parse_qs(url.query).get("date", [""])[0]
                if day in days:
                    self.answer(200, "application/json", json.dumps(days[day]).encode())
                else:
                    self.answer(404, "text/plain", b"not found")
            else:
                self.answer(404, "text/plain", b"not found")

        def answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Command(BaseCommand):
    help = "Measure parse time per captured page and backfill throughput (days/s) from a local server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="the hf fixtures folder")
        parser.add_argument("--repeat", type=int, default=20, help="parses per capture (median taken)")
        parser.add_argument("--serve", choices=["page", "api"], default="page", help="what the server holds")
        parser.add_argument("--days", type=int, default=0, help="backfill only the first N archive days")
        parser.add_argument("--keep", action="store_true", help="commit what the backfill stored")

    def handle(
        self, *args, fixtures: Path, repeat: int, serve: str, days: int, keep: bool, **options
    ) -> None:
        if not fixtures.is_dir():
            raise CommandError(f"no fixtures at {fixtures}")
        self.bench_parsing(fixtures, repeat)
        self.bench_backfill(fixtures, serve, days, keep)

    def bench_parsing(self, fixtures: Path, repeat: int) -> None:
        page_times = []
        for path in sorted((fixtures / "html").glob("*.html")):
            text, day = path.read_text(encoding="utf-8"), date.fromisoformat(path.stem)
            count = len(parse_listing_page(text, day).papers)
            page_times.append(median_ms(lambda text=text, day=day: parse_listing_page(text, day), repeat))
            self.stdout.write(f"parse page {path.name}: {count} papers, median {page_times[-1]:.1f} ms")
        api_times = []
        for path in sorted((fixtures / "api").glob("*.json")):
            body, day = path.read_bytes(), date.fromisoformat(path.stem)
            count = len(parse_api_body(body, day).papers)
            api_times.append(median_ms(lambda body=body, day=day: parse_api_body(body, day), repeat))
            self.stdout.write(f"parse API  {path.name}: {count} papers, median {api_times[-1]:.1f} ms")
        self.stdout.write(
            f"parse time per page (median of the captures, {repeat} runs each): "
            f"listing page {statistics.median(page_times):.1f} ms, "
            f"API body {statistics.median(api_times):.1f} ms"
        )

    def bench_backfill(self, fixtures: Path, serve: str, limit: int, keep: bool) -> None:
        archive = {
            d.day.isoformat(): d.items for d in read_archive(fixtures / "daily-papers-archive.jsonl.gz")
        }
        if limit:
            archive = dict(list(archive.items())[:limit])
        template = (fixtures / "html" / "2024-08-01.html").read_text(encoding="utf-8")
        server = start_server(archive, serve, page_builder(template))
        client = HttpClient(f"http://127.0.0.1:{server.server_address[1]}")
        results: list[DayResult] = []
        start = time.perf_counter()
        try:
            with transaction.atomic():
                backfill([date.fromisoformat(d) for d in archive], client, on_day=results.append)
                elapsed = time.perf_counter() - start
                if not keep:
                    raise RolledBack
        except RolledBack:
            pass
        finally:
            server.shutdown()
            server.server_close()
        runs = [r.run for r in results]
        what = "listing pages" if serve == "page" else "API bodies"
        statuses = {s: sum(1 for r in runs if r.status == s) for s in ScrapeRun.Status.values}
        self.stdout.write(
            f"backfill of {len(runs)} archive days from a local server serving {what}: {elapsed:.1f} s, "
            f"{len(runs) / elapsed:.1f} days/s; {statuses['ok']} ok, {statuses['empty']} empty, "
            f"{statuses['failed']} failed; {sum(r.new for r in runs)} new papers, "
            f"{sum(r.updated for r in runs)} updated ({'kept' if keep else 'rolled back'})"
        )
        if statuses["failed"]:
            raise CommandError(
                "some days failed: " + ", ".join(str(r.day) for r in runs if r.status == "failed")
            )
