"""The one outbound HTTP client: timeouts on every call, a small retry for idempotent requests, and a guard that
keeps requests away from private addresses.

Every call Overture makes to another server (calendars, ICS feeds, webhooks, OAuth) goes through `HttpClient`, so
these three rules hold everywhere:

- **Timeouts**: 5 s to connect, 20 s to read or write, so a slow server never holds a worker for long.
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
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx2

from overture.errors import OvertureError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PROPFIND", "REPORT"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = httpx2.Timeout(20.0, connect=5.0)


class BlockedAddress(OvertureError):
    """The destination is a private or local address and the client does not allow those."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], 400)


class Unreachable(OvertureError):
    """The server could not be reached (no connection, a timeout) after the retries."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], 502)


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


class HttpClient:
    """A synchronous HTTP client with Overture's timeouts, retries and private-address guard (see the module doc).

    `allow_private` lifts the guard (tests, self-hosted servers on a LAN). `transport` replaces the network (tests),
    `sleep` replaces `time.sleep` between retries (tests record the waits instead of waiting).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        retries: int = 2,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        timeout: httpx2.Timeout = DEFAULT_TIMEOUT,
        transport: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "Overture",
    ) -> None:
        self.allow_private = allow_private
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        hooks: dict[str, list[Callable[..., Any]]] = {"request": [] if allow_private else [self._guard]}
        self._client = httpx2.Client(
            timeout=timeout,
            transport=transport,
            event_hooks=hooks,
            headers={"User-Agent": user_agent},
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
    ) -> httpx2.Response:
        """Send one request, retrying as the module doc says. Raises `BlockedAddress` or `Unreachable`."""
        method = method.upper()
        retryable = method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            try:
                response = self._client.request(
                    method, url, headers=headers, content=content, auth=auth, follow_redirects=follow_redirects
                )
            except httpx2.TransportError as exc:
                # Only a failure to connect proves the request was never received; a read error after sending
                # may hide a change already made, so only idempotent requests are sent again.
                if retryable and attempt < self.retries:
                    self._sleep(self.backoff * 2**attempt)
                    attempt += 1
                    continue
                host = httpx2.URL(url).host
                raise Unreachable(f"Overture could not reach the server at {host} ({type(exc).__name__}).") from exc
            if not (retryable and response.status_code in RETRY_STATUSES and attempt < self.retries):
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = self.backoff * 2**attempt
            if wait > self.max_wait:
                return response
            response.close()
            self._sleep(wait)
            attempt += 1
