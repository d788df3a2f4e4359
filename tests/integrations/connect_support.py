"""What the tests of connecting an integration share: a fake Marketo running in a thread (the package's fake,
faithful to the reference), a world whose HTTP client may reach it on 127.0.0.1 and never waits between retries,
and the form that connects to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from overture.http import HttpClient
from overture.integrations.marketo.fake import FakeMarketo
from overture.integrations.world import IntegrationWorld
from overture.settings import Settings

SECRET = "s3cr3t-marketo-client-secret-7f2a"  # distinctive, to look for it in the database file


@contextmanager
def running_marketo(**options: object) -> Iterator[FakeMarketo]:
    """A fake Marketo whose client id is "overture" and client secret `SECRET`, stopped on leaving."""
    fake = FakeMarketo(client_secret=SECRET, **options)  # type: ignore[arg-type]
    with fake.running():
        yield fake


@contextmanager
def world(settings: Settings) -> Iterator[IntegrationWorld]:
    http = HttpClient(allow_private=True, sleep=lambda _seconds: None)
    made = IntegrationWorld(settings, http, settings.secret_key.get_secret_value() if settings.secret_key else "k" * 40,
                            sleep=lambda _seconds: None)  # fmt: skip
    try:
        yield made
    finally:
        made.close()


def form(fake: FakeMarketo, **changes: str) -> dict[str, str]:
    """The connect form's fields for `fake`, with `changes`."""
    return {"munchkin_id": "", "base_url": fake.url, "client_id": "overture", "client_secret": SECRET, **changes}


def closed_port_url() -> str:
    """A local address nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
