"""The outbound HTTP client: the private-address guard, retries with backoff and Retry-After, timeouts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest

from overture.http import BlockedAddress, HttpClient, Unreachable, is_public_address, retry_after_seconds


class ScriptedServer:
    """A local HTTP server that answers each request with the next scripted (status, headers) and counts hits."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str]]] = []
        self.hits: list[str] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                server.hits.append(self.command)
                status, headers = server.script.pop(0) if server.script else (200, {})
                if headers.get("X-Hold"):
                    server.release.wait(timeout=10)
                body = f"answer {len(server.hits)}".encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_REPORT = _answer

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer()
    yield running
    running.stop()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://10.1.2.3/",
        "http://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0:{port}/",
    ],
)
def test_private_and_local_destinations_are_refused_before_anything_is_sent(server: ScriptedServer, url: str) -> None:
    port = server.httpd.server_address[1]
    with HttpClient(retries=0) as client, pytest.raises(BlockedAddress) as raised:
        client.request("GET", url.format(port=port))
    assert "private or local address" in raised.value.message
    assert server.hits == []


def test_public_addresses_pass_the_guard() -> None:
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:2800:220:1:248:1893:25c8:1946")
    assert not is_public_address("fd00::1")
    assert not is_public_address("fe80::1")


def test_allow_private_reaches_a_server_on_the_local_network(server: ScriptedServer) -> None:
    with HttpClient(allow_private=True) as client:
        response = client.request("GET", server.url)
    assert response.status_code == 200
    assert response.text == "answer 1"


def test_a_redirect_to_a_private_address_is_refused() -> None:
    sent: list[str] = []

    def remote(request: httpx2.Request) -> httpx2.Response:
        sent.append(str(request.url))
        return httpx2.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    with HttpClient(transport=httpx2.MockTransport(remote)) as client, pytest.raises(BlockedAddress):
        client.request("GET", "http://93.184.216.34/feed.ics", follow_redirects=True)
    assert sent == ["http://93.184.216.34/feed.ics"]


def test_a_busy_server_is_asked_again_after_the_wait_it_names(server: ScriptedServer, waits: list[float]) -> None:
    server.script = [(503, {"Retry-After": "2"}), (200, {})]
    with HttpClient(allow_private=True, sleep=waits.append) as client:
        response = client.request("GET", server.url)
    assert response.status_code == 200
    assert response.text == "answer 2"
    assert waits == [2.0]


def test_server_errors_are_retried_with_growing_waits_then_returned(server: ScriptedServer, waits: list[float]) -> None:
    server.script = [(500, {}), (502, {}), (500, {})]
    with HttpClient(allow_private=True, retries=2, backoff=0.5, sleep=waits.append) as client:
        response = client.request("REPORT", server.url)
    assert response.status_code == 500
    assert server.hits == ["REPORT"] * 3
    assert waits == [0.5, 1.0]


def test_a_wait_longer_than_allowed_is_left_to_the_caller(server: ScriptedServer, waits: list[float]) -> None:
    server.script = [(429, {"Retry-After": "3600"})]
    with HttpClient(allow_private=True, max_wait=30, sleep=waits.append) as client:
        response = client.request("GET", server.url)
    assert response.status_code == 429
    assert len(server.hits) == 1
    assert waits == []


def test_post_is_never_sent_twice(server: ScriptedServer, waits: list[float]) -> None:
    server.script = [(503, {"Retry-After": "1"})]
    with HttpClient(allow_private=True, sleep=waits.append) as client:
        response = client.request("POST", server.url, content=b"book")
    assert response.status_code == 503
    assert server.hits == ["POST"]
    assert waits == []


def test_client_errors_are_not_retried(server: ScriptedServer, waits: list[float]) -> None:
    server.script = [(404, {})]
    with HttpClient(allow_private=True, sleep=waits.append) as client:
        assert client.request("PUT", server.url, content=b"x").status_code == 404
    assert server.hits == ["PUT"]


def test_a_refused_connection_is_retried_then_reported(waits: list[float]) -> None:
    with HttpClient(allow_private=True, retries=2, backoff=0.25, sleep=waits.append) as client:
        with pytest.raises(Unreachable) as raised:
            client.request("GET", "http://127.0.0.1:9/")
    assert waits == [0.25, 0.5]
    assert "could not reach the server at 127.0.0.1" in raised.value.message


def test_a_server_that_does_not_answer_in_time_is_reported(server: ScriptedServer, waits: list[float]) -> None:
    server.script = [(200, {"X-Hold": "1"})]
    timeout = httpx2.Timeout(0.2, connect=1.0)
    with HttpClient(allow_private=True, retries=0, timeout=timeout, sleep=waits.append) as client:
        with pytest.raises(Unreachable) as raised:
            client.request("GET", server.url)
    assert "ReadTimeout" in raised.value.message


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Mon, 04 May 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Mon, 04 May 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_a_host_name_with_a_label_too_long_is_reported_as_unreachable_not_a_crash() -> None:
    with HttpClient() as client, pytest.raises(Unreachable, match="not a valid host name"):
        client.request("GET", f"https://{'a' * 64}.example.com/feed.ics")
