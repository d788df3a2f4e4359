"""What the Marketo client's tests share: a clock that the fake Marketo and the client both read and whose sleep
moves it (no test waits for real), and a client of a fake started by the `start_marketo` fixture (conftest.py),
built the way the connector builds one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from fakes.marketo import FakeMarketo
from overture.http import DEFAULT_TIMEOUT, HttpClient
from overture.integrations.marketo.client import MarketoClient
from overture.integrations.marketo.limits import Limits

START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)  # a Wednesday in winter: 06:00 in Chicago
StartMarketo = Callable[..., FakeMarketo]


class Clock:
    """An aware UTC clock standing still until `sleep` or `advance` moves it; `sleeps` lists the waits asked."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)


@contextmanager
def marketo(
    start_marketo: StartMarketo,
    clock: Clock,
    *,
    deadline: float = 10.0,
    timeout: httpx2.Timeout = DEFAULT_TIMEOUT,
    limits: Limits | None = None,
    client_secret: str = "secret",
    **fake_options: Any,
) -> Iterator[tuple[FakeMarketo, MarketoClient]]:
    """A fake Marketo on `clock` (started with `fake_options`) and a client of it (the fake's client id
    "overture"), whose HTTP client is closed after the block; the fixture stops the fake after the test."""
    fake = start_marketo(clock=clock, **fake_options)
    with HttpClient(allow_private=True, sleep=clock.sleep, deadline=deadline, timeout=timeout) as http:
        yield (
            fake,
            MarketoClient(
                fake.url, "overture", client_secret, http=http, clock=clock, sleep=clock.sleep, limits=limits
            ),
        )


def calls_to(fake: FakeMarketo, path: str) -> int:
    """How many calls the fake answered on `path`."""
    return sum(1 for _, called in fake.calls if called == path)
