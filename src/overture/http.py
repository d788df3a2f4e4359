"""The one outbound HTTP client: timeouts and a total deadline on every call, a byte cap on every answer, a small
retry for idempotent requests, a guard that keeps requests away from private addresses, and a gate on how many
calls may wait at once.

Every call Overture makes to another server (calendars, ICS feeds, webhooks, OAuth) goes through `HttpClient`, so
these rules hold everywhere:

- **Timeouts**: 5 s to connect, 20 s for any one read or write, and a **deadline** for the whole call (30 s by
  default, `deadline=` per call) that covers retries, their waits and redirects. A per-read timeout starts again
  with each byte, so a server that trickles one byte at a time would never trip it: every socket operation is
  also bounded by the time left before the deadline (a network backend under httpx's connection pool does this),
  and a call that runs out raises `TooSlow`.
- **Byte cap**: the answer is streamed and the call stops reading, closes the connection and raises `TooLarge` as
  soon as the body passes `max_bytes` (10 MB by default, less where a caller knows better), or at once when its
  Content-Length says it will. The cap counts decoded bytes; only gzip and deflate are asked for, whose expansion
  per network read is bounded (about 1000 to 1).
- **Gate**: `concurrency=N` lets at most N calls of this client run at once; the next one fails at once with
  `OutboundBusy` (HTTP 503) rather than wait. The web app's client has one, so calls made while serving requests
  can never hold all the threads that serve the web pages (see docs/security.md, "Outbound requests").
- **Retries**: an idempotent request (GET, HEAD, OPTIONS, PUT, DELETE, PROPFIND, REPORT) that fails to connect, or
  that gets a 429 or a 5xx answer, is sent again up to `retries` times, waiting `backoff`, then twice as long...
  A `Retry-After` header (seconds or an HTTP date) is honoured when it asks for no more than `max_wait` seconds;
  a longer wait returns the answer as it is, for the caller to schedule a later attempt. POST is never retried.
- **Private-address guard**: URLs come from users (a CalDAV server, an ICS feed), so a request whose host is or
  resolves to a loopback, private, link-local, multicast or reserved address (127.0.0.1, 10.0.0.0/8,
  169.254.169.254, ::1...) is refused with `BlockedAddress` before anything is sent, also on each redirect hop.
  `allow_private=True` lifts the guard: for tests against local servers, and for self-hosted servers on a LAN
  (a Radicale or Nextcloud at 192.168.1.10) when the operator opts in. The check resolves the name just before the
  request; it does not pin the address, so it is a guard against mistakes and casual abuse, not against an
  attacker who controls a DNS server and races the lookup.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpcore2
import httpx2

from overture.errors import OvertureError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PROPFIND", "REPORT"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = httpx2.Timeout(20.0, connect=5.0)
DEFAULT_DEADLINE = 30.0  # seconds for a whole call: retries, waits and redirects included
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 10


class BlockedAddress(OvertureError):
    """The destination is a private or local address and the client does not allow those."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], 400)


class Unreachable(OvertureError):
    """The server could not be reached (no connection, a timeout) after the retries."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], 502)


class TooLarge(Unreachable):
    """The answer was longer than the call allows; reading stopped there. An `Unreachable`: no usable answer came."""


class TooSlow(Unreachable):
    """The call passed its deadline (the server answered too slowly, or not at all). An `Unreachable` too."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.status = 504


class OutboundBusy(OvertureError):
    """As many outbound calls as the client allows are already running: nothing was sent; try again shortly."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], 503)


def is_public_address(address: str) -> bool:
    """True when `address` (an IPv4 or IPv6 literal) is a routable public address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_ADDRESS_SPACE)
    )


_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, not covered by is_private


def _addresses_of(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Unreachable(f"The server name {host} could not be found ({exc.strerror}).") from exc
    except UnicodeError as exc:  # a label over 63 characters, or one IDNA cannot encode
        raise Unreachable(f"The server name {host} is not a valid host name.") from exc
    return [str(info[4][0]) for info in infos]


def check_destination(url: httpx2.URL) -> None:
    """Raise `BlockedAddress` unless every address the URL's host resolves to is public."""
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    for address in _addresses_of(host, port):
        if not is_public_address(address.split("%", 1)[0]):
            raise BlockedAddress(
                f"Overture does not connect to {host} because it is a private or local address ({address}). "
                "An administrator can allow private addresses for self-hosted servers."
            )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a `Retry-After` header asks for, in seconds (it is either a number or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Deadlines(threading.local):
    """The deadline (a `time.monotonic()` instant) of the call running on this thread, if any."""

    at: float | None = None

    def bound(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """`timeout` shortened to the time left; raises `expired` when none is left."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired("The call's deadline has passed.")
        return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore2.NetworkStream):
    """A connection whose every read and write ends by the running call's deadline."""

    def __init__(self, inner: httpcore2.NetworkStream, deadlines: _Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadlines.bound(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadlines.bound(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        timeout = self._deadlines.bound(timeout, httpcore2.ConnectTimeout)
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._deadlines)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend, deadlines: _Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        timeout = self._deadlines.bound(timeout, httpcore2.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _BoundedStream(stream, self._deadlines)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None
    ) -> httpcore2.NetworkStream:
        timeout = self._deadlines.bound(timeout, httpcore2.ConnectTimeout)
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options), self._deadlines)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _bounded_transport(deadlines: _Deadlines) -> httpx2.HTTPTransport:
    """httpx's own transport, its connection pool given our backend. httpx takes no network backend, so this sets
    the pool's (httpcore's documented `network_backend`) after the fact; tests/test_http.py's trickling servers
    fail if an upgrade moves it."""
    transport = httpx2.HTTPTransport()
    pool = transport._pool
    if not isinstance(pool, httpcore2.ConnectionPool):  # pragma: no cover - only with a proxy, which we never set
        raise TypeError("Overture's HTTP transport expects httpcore's connection pool.")
    pool._network_backend = _BoundedBackend(pool._network_backend, deadlines)
    return transport


class HttpClient:
    """A synchronous HTTP client with Overture's timeouts, deadline, byte cap, retries, private-address guard and
    gate (see the module doc).

    `allow_private` lifts the guard (tests, self-hosted servers on a LAN). `deadline` and `max_bytes` are the
    defaults of every call (each call may ask for its own); `concurrency` sizes the gate (None: no gate).
    `transport` replaces the network (tests; the deadline then bounds only what happens between reads), `sleep`
    replaces `time.sleep` between retries (tests record the waits instead of waiting).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        retries: int = 2,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        timeout: httpx2.Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        concurrency: int | None = None,
        transport: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "Overture",
    ) -> None:
        self.allow_private = allow_private
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.concurrency = concurrency
        self._gate = threading.BoundedSemaphore(concurrency) if concurrency is not None else None
        self._sleep = sleep
        self._deadlines = _Deadlines()
        hooks: dict[str, list[Callable[..., Any]]] = {"request": [] if allow_private else [self._guard]}
        self._client = httpx2.Client(
            timeout=timeout,
            transport=transport if transport is not None else _bounded_transport(self._deadlines),
            event_hooks=hooks,
            # Only encodings whose expansion is bounded (brotli and zstd are not offered), for the byte cap.
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,
        )

    @staticmethod
    def _guard(request: httpx2.Request) -> None:
        check_destination(request.url)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        auth: tuple[str, str] | None = None,
        follow_redirects: bool = False,
        max_bytes: int | None = None,
        deadline: float | None = None,
    ) -> httpx2.Response:
        """Send one request, retrying as the module doc says, and return the answer read whole (at most
        `max_bytes`, within `deadline` seconds; the client's defaults when None). Raises `BlockedAddress`,
        `Unreachable` (`TooLarge`, `TooSlow`) or `OutboundBusy`."""
        host = httpx2.URL(url).host
        if self._gate is not None and not self._gate.acquire(blocking=False):
            raise OutboundBusy(
                f"Overture is already waiting on {self.concurrency} other servers, the most it allows at once, so "
                f"it did not contact {host}. Try again in a moment."
            )
        seconds = self.deadline if deadline is None else deadline
        self._deadlines.at = time.monotonic() + seconds
        try:
            return self._request(
                method.upper(), url, host, headers, content, auth, follow_redirects,
                self.max_bytes if max_bytes is None else max_bytes, seconds,
            )  # fmt: skip
        finally:
            self._deadlines.at = None
            if self._gate is not None:
                self._gate.release()

    def _request(
        self,
        method: str,
        url: str,
        host: str,
        headers: Mapping[str, str] | None,
        content: bytes | str | None,
        auth: tuple[str, str] | None,
        follow_redirects: bool,
        max_bytes: int,
        seconds: float,
    ) -> httpx2.Response:
        retryable = method in IDEMPOTENT_METHODS
        attempt = 0
        too_slow = TooSlow(f"The server at {host} did not finish answering within {seconds:g} s.")
        while True:
            try:
                response = self._attempt(method, url, headers, content, auth, follow_redirects, max_bytes)
            except httpx2.TransportError as exc:
                if self._time_left() <= 0:
                    raise too_slow from exc
                # Only a failure to connect proves the request was never received; a read error after sending
                # may hide a change already made, so only idempotent requests are sent again.
                if retryable and attempt < self.retries and self.backoff * 2**attempt < self._time_left():
                    self._sleep(self.backoff * 2**attempt)
                    attempt += 1
                    continue
                raise Unreachable(f"Overture could not reach the server at {host} ({type(exc).__name__}).") from exc
            if not (retryable and response.status_code in RETRY_STATUSES and attempt < self.retries):
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = self.backoff * 2**attempt
            # A wait the deadline (or max_wait) does not leave room for: the answer goes back as it is.
            if wait > self.max_wait or wait >= self._time_left():
                return response
            self._sleep(wait)
            attempt += 1

    def _time_left(self) -> float:
        at = self._deadlines.at
        return float("inf") if at is None else at - time.monotonic()

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | str | None,
        auth: tuple[str, str] | None,
        follow_redirects: bool,
        max_bytes: int,
    ) -> httpx2.Response:
        """One try: follows redirects itself (httpx would read each redirect's body whole) and streams the last
        answer's body under the cap."""
        request = self._client.build_request(method, url, headers=headers, content=content)
        for _ in range(MAX_REDIRECTS + 1):
            # Auth goes with the first request only; httpx keeps its header on a redirect to the same origin.
            response = self._client.send(request, auth=auth, stream=True)
            auth = None
            if not (follow_redirects and response.next_request is not None):
                return self._read(response, max_bytes)
            response.close()  # a redirect's body is never read
            request = response.next_request
        raise httpx2.TooManyRedirects("More than 10 redirects.", request=request)

    def _read(self, response: httpx2.Response, max_bytes: int) -> httpx2.Response:
        host = response.request.url.host
        too_large = TooLarge(
            f"The answer from {host} is larger than {_size(max_bytes)}, the most Overture reads from it; "
            "Overture stopped reading it."
        )
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_large
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise too_large
                if self._time_left() <= 0:  # the backend bounds each read; this also holds for a test transport
                    raise httpx2.ReadTimeout("The call's deadline has passed.", request=response.request)
                chunks.append(chunk)
        finally:
            response.close()  # an answer not read to its end closes its connection
        # The body is decoded already: the answer handed back says so in its headers.
        kept = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")
        ]
        return httpx2.Response(
            response.status_code,
            headers=kept,
            content=b"".join(chunks),
            request=response.request,
            extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
        )


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KB"
    return f"{count} bytes"
