"""What talking to an integration needs: the settings, the outbound HTTP client (its private-address guard lifted
only when the operator allows it: `integrations_private_addresses`), the key that seals secrets at rest, and the
clock and sleep the clients pace their limits and retries with (tests pass their own)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from overture.http import HttpClient
from overture.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IntegrationWorld:
    settings: Settings
    http: HttpClient
    secret_key: str
    clock: Callable[[], datetime] = field(default=_now)
    sleep: Callable[[float], None] = field(default=time.sleep)

    def close(self) -> None:
        self.http.close()


def integration_world(settings: Settings, secret_key: str) -> IntegrationWorld:
    """The world of a running Overture; close it (its HTTP client) when done."""
    return IntegrationWorld(settings, HttpClient(allow_private=settings.integrations_private_addresses), secret_key)
