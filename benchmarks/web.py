"""The web benchmark behind `make bench-web` (`python manage.py bench_web`).

gunicorn serves the app with the production settings (DEBUG off, the Dockerfile's workers and threads)
on 127.0.0.1; wrk, in a second process, posts valid sign-up forms for distinct addresses, then
RFC 8058 one-click unsubscribes for distinct readers. Each phase is bounded by a duration and a
request count. The rate limits and the minimum fill time are lifted for the server's run only.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from http.cookiejar import CookieJar
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from benchmarks.data import BENCH_DOMAIN
from benchmarks.processes import database_url, reference_ms, tree_cpu_seconds
from config.celery import app as celery_app
from subscribers.models import Status, Subscriber
from subscribers.tokens import UNSUBSCRIBE, make_token

# Prints the phase's figures as one JSON line when wrk is done; stops a thread after its share.
WRK_SCRIPT = r"""
-- One wrk thread (-t 1): its counter names the addresses and walks the token list.
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS"))
local mode = os.getenv("BENCH_MODE")
local form, run, domain = os.getenv("BENCH_FORM"), os.getenv("BENCH_RUN"), os.getenv("BENCH_DOMAIN")
local counter, answered, tokens = 0, 0, {}

function init(args)
  if mode == "unsubscribe" then
    for line in io.lines(os.getenv("BENCH_TOKENS")) do table.insert(tokens, line) end
  end
end

function request()
  counter = counter + 1
  if mode == "signup" then
    local headers = {["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = os.getenv("BENCH_COOKIE")}
    local address = "w" .. run .. "n" .. counter .. "%40" .. domain
    return wrk.format("POST", os.getenv("BENCH_PATH"), headers, form .. "&email=" .. address)
  end
  local token = tokens[(counter - 1) % #tokens + 1]
  return wrk.format("POST", "/unsubscribe/" .. token .. "/one-click/",
    {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= max_requests then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"errors": %d, "non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Phase:
    name: str
    requests: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    # gunicorn's CPU per request: unlike the rate, not inflated by other processes on the cores.
    server_cpu_ms_per_request: float = 0.0


def server_env(port: int) -> dict[str, str]:
    """Production settings, with the public forms' limits lifted for this run only."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-web-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SUBSCRIBERS_IP_RATE": "1000000/s",
        "SUBSCRIBERS_ADDRESS_MAIL_RATE": "1000000/d",
        "SUBSCRIBERS_MIN_FILL_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }


def collect_static(env: dict[str, str]) -> None:
    """The production settings serve static files from the collected manifest."""
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(command, cwd=settings.BASE_DIR, env=env, check=True)  # noqa: S603


def start_server(port: int, workers: int, threads: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    collect_static(env)
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads),
               "--access-logfile", str(log)]  # fmt: skip
    # Our own interpreter and arguments.
    server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stderr=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited at start: run it by hand with the same settings to see why")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def fresh_form(port: int) -> tuple[str, str]:
    """A real form from the home page: its CSRF cookie, and its hidden fields as a POST body."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    fields = {**hidden, "website": "", "frequency": "daily", "weekday": "0", "delivery_hour": "7"}
    fields["time_zone"] = "UTC"
    body = "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in fields.items())
    return cookie, body


def unsubscribe_tokens(count: int, run: str) -> list[str]:
    readers = [
        Subscriber(email=f"u{run}n{i}@{BENCH_DOMAIN}", status=Status.ACTIVE, confirm_nonce="b" * 32)
        for i in range(count)
    ]
    Subscriber.objects.bulk_create(readers, batch_size=5000)
    return [make_token(UNSUBSCRIBE, r) for r in readers]


def run_wrk(port: int, mode: str, env: dict[str, str], duration: int, connections: int, script: Path) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    command = [wrk, "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s", "-s",
               str(script), f"http://127.0.0.1:{port}"]  # fmt: skip
    mode_env = {**env, "BENCH_MODE": mode}
    out = subprocess.run(command, env=mode_env, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(out.stdout.strip().splitlines()[-1])


def phase(name: str, figures: dict, failures: int = 0, cpu_s: float = 0.0) -> Phase:
    return Phase(
        name=name,
        requests=figures["requests"],
        requests_per_s=round(figures["requests"] / figures["seconds"], 1),
        p50_ms=figures["p50_ms"],
        p95_ms=figures["p95_ms"],
        p99_ms=figures["p99_ms"],
        max_ms=figures["max_ms"],
        errors=figures["errors"] + failures,
        server_cpu_ms_per_request=round(cpu_s * 1000 / max(1, figures["requests"]), 3),
    )


def run(
    duration: int, max_requests: int, connections: int, workers: int, threads: int, port: int, log=print
) -> dict:
    run_id, speed = f"{int(time.time())}{os.getpid()}", reference_ms()
    tokens = unsubscribe_tokens(max_requests, run_id)
    env = server_env(port)
    with tempfile.TemporaryDirectory() as tmp:
        script, token_file = Path(tmp) / "bench.lua", Path(tmp) / "tokens.txt"
        script.write_text(WRK_SCRIPT)
        token_file.write_text("\n".join(tokens) + "\n")
        server = start_server(port, workers, threads, env, Path(tmp) / "access.log")
        try:
            cookie, form = fresh_form(port)
            load = {**env, "BENCH_FORM": form, "BENCH_COOKIE": cookie, "BENCH_RUN": run_id,
                    "BENCH_DOMAIN": BENCH_DOMAIN, "BENCH_PATH": reverse("subscribers:subscribe"),
                    "BENCH_TOKENS": str(token_file), "BENCH_MAX_REQUESTS": str(max_requests)}  # fmt: skip
            cpu = tree_cpu_seconds(server.pid)
            signup = run_wrk(port, "signup", load, duration, connections, script)
            signup_cpu, cpu = tree_cpu_seconds(server.pid) - cpu, tree_cpu_seconds(server.pid)
            unsubscribe = run_wrk(port, "unsubscribe", load, duration, connections, script)
            unsubscribe_cpu = tree_cpu_seconds(server.pid) - cpu
        finally:
            stop_server(server)
    # A post the app took for a bot's would also answer 302: count the readers really stored.
    stored = Subscriber.objects.filter(email__startswith=f"w{run_id}n", status=Status.PENDING).count()
    left = Subscriber.objects.filter(email__startswith=f"u{run_id}n", status=Status.ACTIVE).count()
    unsubscribed = max_requests - left
    log(f"signups stored {stored} of {signup['requests']}; readers unsubscribed {unsubscribed}")
    phases = [
        phase("signup", signup, max(0, signup["requests"] - stored), signup_cpu),
        # Repeated tokens (a run longer than the token list) are still answered 200.
        phase(
            "unsubscribe",
            unsubscribe,
            max(0, min(unsubscribe["requests"], max_requests) - unsubscribed),
            unsubscribe_cpu,
        ),
    ]
    return {
        "reference_ms": speed,
        "workers": workers,
        "threads": threads,
        "connections": connections,
        **{p.name: asdict(p) for p in phases},
    }


def drop_queued_mail() -> None:
    """The sign-ups queued confirmation emails that no worker will send: drop them."""
    celery_app.control.purge()
