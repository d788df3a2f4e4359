"""What opening an agent's calendar needs, built once per process: the settings (provider apps and their URLs), the
database (a refreshed OAuth token is stored at once, outside the caller's transaction), the outbound HTTP client and
the secret key that encrypts calendar secrets at rest."""

from __future__ import annotations

from dataclasses import dataclass

from overture.db import Database
from overture.http import HttpClient
from overture.settings import Settings


@dataclass(frozen=True)
class CalendarWorld:
    settings: Settings
    db: Database
    http: HttpClient
    secret_key: str


def calendar_world(
    settings: Settings, db: Database, secret_key: str, *, outbound_concurrency: int | None = None
) -> CalendarWorld:
    """The world of a running Overture: calendar URLs may reach private addresses only when the operator allows it
    (a CalDAV server on the LAN). `outbound_concurrency` gates its HTTP client (the web app's, whose calls hold
    threads that serve pages); None leaves it ungated (the job workers', as many as their threads)."""
    http = HttpClient(allow_private=settings.calendar_private_addresses, concurrency=outbound_concurrency)
    return CalendarWorld(settings, db, http, secret_key)
