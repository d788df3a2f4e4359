"""A real Radicale CalDAV server per test session, on a free local port with its own storage folder."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from overture.http import HttpClient

USERS = {"alice": "alice-app-password", "bruno": "bruno-app-password", "carol": "carol-app-password"}


@dataclass(frozen=True)
class Radicale:
    url: str

    def make_calendar(self, user: str, name: str, components: str = "VEVENT") -> str:
        """Create a calendar the way a calendar app would (MKCALENDAR), and return its URL."""
        url = f"{self.url}{user}/{name}/"
        comps = "".join(f'<C:comp name="{c}"/>' for c in components.split(","))
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f"<D:set><D:prop><D:displayname>{name.title()}</D:displayname>"
            f"<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
            "</D:prop></D:set></C:mkcalendar>"
        )
        response = httpx2.request("MKCALENDAR", url, content=body, auth=(user, USERS[user]))
        assert response.status_code == 201, response.text
        return url

    def put(self, url: str, ics: str, user: str = "alice", headers: dict[str, str] | None = None) -> httpx2.Response:
        """Write an event as another calendar app would."""
        return httpx2.put(url, content=ics.encode(), auth=(user, USERS[user]),
                          headers={"Content-Type": "text/calendar; charset=utf-8", **(headers or {})})  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    folder: Path = tmp_path_factory.mktemp("radicale")
    users = folder / "users"
    users.write_text("".join(f"{name}:{password}\n" for name, password in USERS.items()))
    port = _free_port()
    config = folder / "config"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[rights]\ntype = owner_only\n"
        "[logging]\nlevel = warning\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                httpx2.get(url, timeout=0.5)
                break
            except httpx2.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, errors = process.communicate(timeout=5)
                    raise RuntimeError(f"Radicale did not start: {errors.decode()}") from None
                time.sleep(0.05)  # polling for readiness only
        yield Radicale(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture
def http() -> Iterator[HttpClient]:
    # Radicale listens on 127.0.0.1: the private-address guard must be lifted, as for a self-hosted server on a LAN.
    with HttpClient(allow_private=True, retries=0) as client:
        yield client


@pytest.fixture
def calendar_url(radicale: Radicale) -> str:
    """A fresh, empty calendar for alice for each test."""
    return radicale.make_calendar("alice", f"work-{uuid.uuid4().hex[:8]}")
