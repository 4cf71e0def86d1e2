"""A polite, bounded HTTP GET for scraping one configured host.

Timeouts on connect and read plus an overall deadline, a descriptive User-Agent, retries with
backoff on 429/5xx that honour Retry-After, a cap on the body size enforced while streaming,
and redirects followed only within the configured host (a redirect elsewhere is an error).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5


class FetchError(Exception):
    """The URL could not be fetched. `retryable` says whether trying later may help;
    `retry_after` is the server's requested wait in seconds, when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        # No answer at all (refused, timed out, no such host): not a problem of one page.
        self.unreachable = unreachable


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    body: bytes
    content_type: str = ""
    location: str = ""

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


class HttpClient:
    """GETs from `base_url`'s host only. `sleep` is injectable so tests can record waits."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = (base_url or settings.HF_BASE_URL).rstrip("/")
        self.sleep = sleep
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = settings.HF_USER_AGENT
        self.timeout = (settings.HF_CONNECT_TIMEOUT, settings.HF_READ_TIMEOUT)
        self.total_timeout = settings.HF_TOTAL_TIMEOUT
        self.max_bytes = settings.HF_MAX_RESPONSE_BYTES
        self.max_retries = settings.HF_MAX_RETRIES
        self.backoff = settings.HF_RETRY_BACKOFF
        self.max_wait = settings.HF_MAX_RETRY_WAIT

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, *, accept: str = "*/*") -> Response:
        """The body of a 2xx answer; FetchError otherwise, after retrying what may pass."""
        attempt = 0
        while True:
            try:
                return self._get_following_redirects(self.url(path), accept)
            except FetchError as error:
                if not error.retryable or attempt >= self.max_retries:
                    raise
                wait = self.backoff * 2**attempt if error.retry_after is None else error.retry_after
                if wait > self.max_wait:
                    # Blocking a worker that long is worse than giving the task back to Celery.
                    raise
                attempt += 1
                logger.warning("retrying %s in %.1fs (attempt %d): %s", path, wait, attempt, error)
                self.sleep(wait)

    def _get_following_redirects(self, url: str, accept: str) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._get_once(url, accept)
            if response.status not in (301, 302, 303, 307, 308):
                return response
            target = urljoin(url, response.location)
            if not same_origin(target, self.base_url):
                raise FetchError(
                    f"{url} redirects to {target}, outside {self.base_url}; refused", status=response.status
                )
            url = target
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _get_once(self, url: str, accept: str) -> Response:
        deadline = time.monotonic() + self.total_timeout
        try:
            with self.session.get(
                url, headers={"Accept": accept}, timeout=self.timeout, stream=True, allow_redirects=False
            ) as answer:
                status = answer.status_code
                if status in (301, 302, 303, 307, 308):
                    return Response(url, status, b"", location=answer.headers.get("Location", ""))
                if status in RETRY_STATUSES:
                    raise FetchError(
                        f"{url}: HTTP {status}",
                        status=status,
                        retryable=True,
                        retry_after=parse_retry_after(answer.headers.get("Retry-After")),
                    )
                if not 200 <= status < 300:
                    raise FetchError(f"{url}: HTTP {status}", status=status)
                body = self._read_capped(answer, url, deadline)
                return Response(url, status, body, answer.headers.get("Content-Type", ""))
        except requests.Timeout as error:
            raise FetchError(
                f"{url}: timed out ({error.__class__.__name__})", retryable=True, unreachable=True
            ) from error
        except requests.ConnectionError as error:
            raise FetchError(
                f"{url}: connection failed ({error})", retryable=True, unreachable=True
            ) from error
        except requests.RequestException as error:
            raise FetchError(f"{url}: {error}") from error

    def _read_capped(self, answer: requests.Response, url: str, deadline: float) -> bytes:
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"{url}: body of {declared} bytes exceeds the {self.max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        for chunk in answer.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"{url}: body exceeds the {self.max_bytes}-byte cap")
            if time.monotonic() > deadline:
                # The read timeout is per socket read; a slow drip could otherwise last forever.
                raise FetchError(f"{url}: body still arriving after the deadline", retryable=True)
            chunks.append(chunk)
        return b"".join(chunks)
