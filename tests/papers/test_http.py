"""The polite HTTP client against a real local server: retries, Retry-After, caps, redirects."""

import re
import socket

import pytest
from werkzeug import Response

from papers.sources.http import FetchError, HttpClient


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(hf, waits):
    return HttpClient(sleep=waits.append)


def test_it_sends_a_descriptive_user_agent(hf, client, settings):
    hf.expect_request("/x", headers={"User-Agent": settings.HF_USER_AGENT}).respond_with_data("ok")
    assert client.get("/x").body == b"ok"
    assert settings.HF_USER_AGENT.startswith("Paperboy/")


def test_it_retries_a_server_error_with_backoff(hf, client, waits, settings):
    settings.HF_RETRY_BACKOFF = 0.5
    client = HttpClient(sleep=waits.append)
    hf.expect_ordered_request("/x").respond_with_data("down", status=503)
    hf.expect_ordered_request("/x").respond_with_data("down", status=500)
    hf.expect_ordered_request("/x").respond_with_data("ok")
    assert client.get("/x").body == b"ok"
    assert waits == [0.5, 1.0]


def test_it_honours_retry_after_on_429(hf, client, waits):
    hf.expect_ordered_request("/x").respond_with_data("slow down", status=429, headers={"Retry-After": "7"})
    hf.expect_ordered_request("/x").respond_with_data("ok")
    assert client.get("/x").body == b"ok"
    assert waits == [7.0]


def test_a_retry_after_beyond_the_cap_is_left_to_the_task(hf, client, waits, settings):
    settings.HF_MAX_RETRY_WAIT = 60
    client = HttpClient(sleep=waits.append)
    hf.expect_request("/x").respond_with_data("later", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(FetchError) as caught:
        client.get("/x")
    assert (caught.value.retryable, caught.value.retry_after, caught.value.status) == (True, 3600.0, 429)
    assert waits == []


def test_it_gives_up_after_the_last_retry(hf, client, waits):
    hf.expect_request("/x").respond_with_data("down", status=502)
    with pytest.raises(FetchError, match="HTTP 502") as caught:
        client.get("/x")
    assert caught.value.retryable
    assert len(waits) == 2  # HF_MAX_RETRIES in the tests


def test_a_client_error_is_not_retried(hf, client, waits):
    hf.expect_request("/x").respond_with_data("gone", status=404)
    with pytest.raises(FetchError, match="HTTP 404") as caught:
        client.get("/x")
    assert not caught.value.retryable
    assert waits == []


def test_a_body_over_the_size_cap_is_refused(hf, client, settings):
    settings.HF_MAX_RESPONSE_BYTES = 1000
    client = HttpClient()
    hf.expect_request("/big").respond_with_data("x" * 1001)
    with pytest.raises(FetchError, match="exceeds the 1000-byte cap"):
        client.get("/big")


def test_a_streamed_body_over_the_cap_is_cut_off(hf, settings):
    settings.HF_MAX_RESPONSE_BYTES = 100_000

    def chunks():
        for _ in range(100):
            yield b"x" * 10_000

    hf.expect_request("/stream").respond_with_response(Response(chunks(), direct_passthrough=True))
    with pytest.raises(FetchError, match="exceeds the 100000-byte cap"):
        HttpClient().get("/stream")


def test_a_redirect_within_the_host_is_followed(hf, client):
    hf.expect_request("/papers", query_string="date=2024-08-01").respond_with_data(
        "", status=302, headers={"Location": "/papers/date/2024-08-01"}
    )
    hf.expect_request("/papers/date/2024-08-01").respond_with_data("page")
    response = client.get("/papers?date=2024-08-01")
    assert response.body == b"page"
    assert response.url.endswith("/papers/date/2024-08-01")


def test_a_redirect_to_another_host_is_refused(hf, client):
    hf.expect_request("/x").respond_with_data("", status=301, headers={"Location": "http://127.0.0.2:9/evil"})
    with pytest.raises(FetchError, match=re.escape("redirects to http://127.0.0.2:9/evil, outside")):
        client.get("/x")


def test_a_server_that_never_answers_times_out(settings, waits):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections (backlog) but never sends a byte
        settings.HF_BASE_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.HF_READ_TIMEOUT = 0.2
        settings.HF_MAX_RETRIES = 1
        settings.HF_RETRY_BACKOFF = 0.0
        with pytest.raises(FetchError, match="timed out") as caught:
            HttpClient(sleep=waits.append).get("/papers/date/2024-08-01")
    assert caught.value.retryable
    assert waits == [0.0]


def test_a_refused_connection_is_a_retryable_error(settings, waits):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.HF_BASE_URL = f"http://127.0.0.1:{port}"
    settings.HF_MAX_RETRIES = 0
    with pytest.raises(FetchError, match="connection failed") as caught:
        HttpClient(sleep=waits.append).get("/x")
    assert caught.value.retryable
