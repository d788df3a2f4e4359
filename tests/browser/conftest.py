"""Browser fixtures: the app served by a real uvicorn on 127.0.0.1, and Debian's Chromium driven by Playwright.

Playwright's own browser download is never used: the browser is /usr/bin/chromium (scripts/install-test-deps
installs it). Screenshots go to the folder named by OVERTURE_SCREENSHOTS, or to the test's tmp_path.

Under `--clock` (tests/conftest.py) the live server, a thread of this process, runs on the moved clock, and every
browser context starts with Playwright's clock installed at the same instant, so the page and the server agree.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, expect, sync_playwright
from playwright.sync_api._generated import Clock  # not exported: the type of `page.clock`

from overture.db import Database
from overture.settings import Settings
from overture.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium reaches out to Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Read at import: the suite's autouse fixture removes every OVERTURE_* variable while a test runs.
SCREENSHOTS = Path(os.environ["OVERTURE_SCREENSHOTS"]).resolve() if os.environ.get("OVERTURE_SCREENSHOTS") else None
SERVER_START_SECONDS = 10.0


@pytest.fixture
def live_server(settings: Settings, db: Database) -> Iterator[str]:
    """The app served by uvicorn in a background thread; yields its base URL (http://127.0.0.1:PORT)."""
    app = create_app(settings, start_jobs=False)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none")
    server = uvicorn.Server(config)
    # The listening socket is ours: bound to a free port before the thread starts, so there is no race for it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    try:
        thread.start()
        waited = 0.0
        while not server.started and thread.is_alive() and waited < SERVER_START_SECONDS:
            thread.join(0.01)
            waited += 0.01
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SERVER_START_SECONDS)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session", autouse=True)
def _patient_expectations() -> None:
    """`expect` waits as long as an action does (Playwright's 5 s default fails on a loaded machine): a bound on
    failure, not a timing."""
    expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(autouse=True)
def _browser_on_the_moved_clock(moved_clock: datetime | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `--clock`, a new context's page clock starts at Python's (moved) now, and so does a test's own
    `clock.install()` without a time: Playwright would otherwise take the machine's real time."""
    if moved_clock is None:
        return
    new_context = Browser.new_context
    install = Clock.install

    def new_context_on_the_moved_clock(self: Browser, **options: Any) -> BrowserContext:
        context = new_context(self, **options)
        install(context.clock, time=datetime.now(UTC))
        return context

    def install_at_the_moved_now(self: Clock, *, time: float | str | datetime | None = None) -> None:
        install(self, time=datetime.now(UTC) if time is None else time)

    monkeypatch.setattr(Browser, "new_context", new_context_on_the_moved_clock)
    monkeypatch.setattr(Clock, "install", install_at_the_moved_now)


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh browser context (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)  # a bound on failure, not a timing: a loaded machine is slow
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Every console error and uncaught exception on `page`, as "text (url)"; CSP violations are reported there."""
    errors: list[str] = []

    def collect(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", collect)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: $OVERTURE_SCREENSHOTS (made if missing), or the test's own tmp_path."""
    folder = SCREENSHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder
