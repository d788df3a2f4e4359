"""Fixtures of the scheduling tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine


@pytest.fixture
def stopped_clock() -> Iterator[time_machine.Traveller]:
    """The clock stopped at now (the suite's, moved by `--clock` or not) for the whole test, so that an offer and the
    pick of its first time see one instant. On a ticking clock the first time offered (the first 30-minute step
    past the agents' 60 minutes' notice) leaves the offer when a step boundary passes between the two calls, and
    the pick gets "That time was just taken" instead of a meeting."""
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller
