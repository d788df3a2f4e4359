"""The outbound HTTP client: the private-address guard, retries with backoff and Retry-After, timeouts, the byte
cap, the total deadline and the concurrency gate."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest

from overture.http import (
    BlockedAddress,
    HttpClient,
    OutboundBusy,
    TooLarge,
    TooSlow,
    Unreachable,
    is_public_address,
    retry_after_seconds,
)


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


# --- byte cap, deadline, gate: raw servers that misbehave on purpose ----------------------------------------------


class RawServer:
    """A local TCP server whose `answer(connection)` writes whatever bytes a test wants, on a thread per client.
    `sent` counts the bytes each connection took before it ended; `closed_early` is set when the client hung up."""

    def __init__(self, answer: Callable[[RawServer, socket.socket], None]) -> None:
        self.sent = 0
        self.closed_early = threading.Event()
        self.release = threading.Event()
        self.arrived = threading.Semaphore(0)
        self.finished: list[bool] = []
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.recv(65536)  # the request (one read holds it whole here)
                server.arrived.release()
                try:
                    answer(server, self.request)
                except OSError:  # the client closed the connection: what the cap and deadline do
                    server.closed_early.set()

        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.tcp.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.tcp.server_address[1]}/"
        self.thread = threading.Thread(target=self.tcp.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def write(self, connection: socket.socket, data: bytes) -> None:
        # Counted before sending: the client may act on these bytes before sendall returns here.
        self.sent += len(data)
        try:
            connection.sendall(data)
        except OSError:
            self.sent -= len(data)
            raise

    def stop(self) -> None:
        self.release.set()
        self.tcp.shutdown()
        self.tcp.server_close()


@pytest.fixture
def raw_servers() -> Iterator[Callable[[Callable[[RawServer, socket.socket], None]], RawServer]]:
    started: list[RawServer] = []

    def start(answer: Callable[[RawServer, socket.socket], None]) -> RawServer:
        started.append(RawServer(answer))
        return started[-1]

    yield start
    for running in started:
        running.stop()


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n"
CAP = 1024 * 1024


def endless_body(server: RawServer, connection: socket.socket) -> None:
    """64 MB sent in 64 KB pieces with no Content-Length (the body ends when the connection does)."""
    server.write(connection, HEAD + b"\r\n")
    for _ in range(1024):
        server.write(connection, b"x" * 65536)


def test_an_answer_larger_than_the_cap_is_refused_without_reading_it_whole(
    raw_servers: Callable[..., RawServer],
) -> None:
    server = raw_servers(endless_body)
    with HttpClient(allow_private=True, max_bytes=CAP) as client, pytest.raises(TooLarge) as raised:
        client.request("GET", server.url)
    assert raised.value.message.startswith("The answer from 127.0.0.1 is larger than 1 MB")
    assert server.closed_early.wait(timeout=10)
    # What the server got out before the client hung up: the cap plus what the two sockets' buffers held.
    assert server.sent < 24 * CAP


def test_a_declared_length_over_the_cap_is_refused_before_the_body(raw_servers: Callable[..., RawServer]) -> None:
    def declared(server: RawServer, connection: socket.socket) -> None:
        server.write(connection, HEAD + b"Content-Length: 314572800\r\n\r\n")
        server.release.wait(timeout=10)  # the body would come after: the client must not wait for it
        server.write(connection, b"x" * 65536)

    server = raw_servers(declared)
    with HttpClient(allow_private=True) as client, pytest.raises(TooLarge, match="larger than 10 MB"):
        client.request("GET", server.url, max_bytes=10 * 1024 * 1024)
    assert server.sent == len(HEAD) + len(b"Content-Length: 314572800\r\n\r\n")


def test_a_caller_may_ask_for_a_smaller_cap_than_the_clients(raw_servers: Callable[..., RawServer]) -> None:
    server = raw_servers(endless_body)
    with HttpClient(allow_private=True) as client, pytest.raises(TooLarge, match="larger than 64 KB"):
        client.request("GET", server.url, max_bytes=64 * 1024)


def test_a_server_that_trickles_its_answer_byte_by_byte_is_cut_at_the_deadline(
    raw_servers: Callable[..., RawServer],
) -> None:
    def trickle(server: RawServer, connection: socket.socket) -> None:
        # Every byte well inside the 20 s read timeout, headers included, for far longer than the 1 s deadline.
        for byte in HEAD + b"Content-Length: 2000\r\n\r\n" + b"x" * 2000:
            server.write(connection, bytes([byte]))
            if server.release.wait(timeout=0.05):
                return

    server = raw_servers(trickle)
    with HttpClient(allow_private=True, deadline=1.0) as client, pytest.raises(TooSlow) as raised:
        client.request("GET", server.url)
    assert raised.value.message == "The server at 127.0.0.1 did not finish answering within 1 s."
    assert raised.value.status == 504


def test_a_read_that_waits_is_cut_at_the_deadline_not_at_the_read_timeout(
    raw_servers: Callable[..., RawServer],
) -> None:
    def one_byte_then_silence(server: RawServer, connection: socket.socket) -> None:
        server.write(connection, HEAD + b"Content-Length: 2\r\n\r\nx")
        server.finished.append(server.release.wait(timeout=15))  # inside the read timeout, past the deadline
        done.set()
        server.write(connection, b"x")

    done = threading.Event()

    server = raw_servers(one_byte_then_silence)
    with HttpClient(allow_private=True, deadline=1.0) as client, pytest.raises(TooSlow):
        client.request("GET", server.url)
    server.release.set()
    assert done.wait(timeout=10)
    assert server.finished == [True]  # the client gave up while the server still held the second byte


def test_retries_stop_at_the_deadline(raw_servers: Callable[..., RawServer], waits: list[float]) -> None:
    def unavailable(server: RawServer, connection: socket.socket) -> None:
        server.write(connection, b"HTTP/1.1 503 Busy\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n")

    server = raw_servers(unavailable)
    with HttpClient(allow_private=True, deadline=3.0, sleep=waits.append) as client:
        response = client.request("GET", server.url)
    assert response.status_code == 503  # a wait past the deadline is left to the caller
    assert waits == []


def test_a_full_gate_refuses_the_next_call_at_once_and_opens_when_a_call_ends(
    raw_servers: Callable[..., RawServer],
) -> None:
    def held(server: RawServer, connection: socket.socket) -> None:
        server.release.wait(timeout=10)
        server.write(connection, HEAD + b"Content-Length: 2\r\n\r\nok")

    server = raw_servers(held)
    statuses: list[int] = []
    with HttpClient(allow_private=True, concurrency=2) as client:
        callers = [threading.Thread(target=lambda: statuses.append(client.request("GET", server.url).status_code))
                   for _ in range(2)]  # fmt: skip
        for caller in callers:
            caller.start()
        for _ in callers:
            assert server.arrived.acquire(timeout=10)  # both calls are at the server, holding the gate
        with pytest.raises(OutboundBusy) as raised:
            client.request("GET", server.url)
        assert raised.value.status == 503
        assert "did not contact 127.0.0.1. Try again in a moment." in raised.value.message
        server.release.set()
        for caller in callers:
            caller.join(timeout=10)
        assert statuses == [200, 200]
        assert client.request("GET", server.url).text == "ok"
