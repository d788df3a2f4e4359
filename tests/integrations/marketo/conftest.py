"""Fixtures for the Marketo tests: a fake Marketo on a clock tests move, running in a thread for one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import pytest

from fakes.marketo import FakeClock, FakeMarketo

# A Friday afternoon in March, in UTC: no test depends on the machine's date or zone.
START = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)


@pytest.fixture
def marketo_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def start_marketo(marketo_clock: FakeClock) -> Iterator[Callable[..., FakeMarketo]]:
    """Starts a fake with the arguments given (on `marketo_clock` unless told otherwise); each stops after the
    test. `fake.url` is its base URL."""
    with ExitStack() as stack:

        def start(**arguments: Any) -> FakeMarketo:
            arguments.setdefault("clock", marketo_clock)
            fake = FakeMarketo(**arguments)
            stack.enter_context(fake.running())
            return fake

        yield start


@pytest.fixture
def marketo_fake(start_marketo: Callable[..., FakeMarketo]) -> FakeMarketo:
    """A running fake with no generated records, program 1001 and any static list; stopped after the test."""
    return start_marketo()
