"""Outbound calls cannot take every thread that serves pages: with the gate full of slow calendar feeds, one more
feed check is refused at once (503, "try again") and the sign-in page still answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from overture.db import Database
from overture.settings import Settings
from overture.web.app import create_app

from support import Personas, csrf_from, sign_in

GATE = 2


class HeldFeeds:
    """A feed server that keeps every request waiting until `release` is set; `arrived` counts requests in hand."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Semaphore(0)
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                feeds.arrived.release()
                feeds.release.wait(timeout=15)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/agent.ics"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def held_feeds() -> Iterator[HeldFeeds]:
    feeds = HeldFeeds()
    yield feeds
    feeds.stop()


@pytest.fixture
def small_client(settings: Settings, db: Database) -> Iterator[TestClient]:
    """The app with a gate of GATE outbound calls, served by GATE + 1 threads (AnyIO's pool has 40; fewer make
    starving them cheap to show), reaching feeds on 127.0.0.1."""
    configured = settings.model_copy(update={"calendar_private_addresses": True, "outbound_concurrency": GATE})
    app = create_app(configured, start_jobs=False)
    with TestClient(app, follow_redirects=False) as client:
        limiter = anyio.to_thread.current_default_thread_limiter
        client.portal.call(lambda: setattr(limiter(), "total_tokens", GATE + 1))  # type: ignore[union-attr]
        yield client
    app.state.context.calendar_world.http.close()


def test_a_full_outbound_gate_refuses_one_more_feed_at_once_and_pages_still_answer(
    small_client: TestClient, personas: Personas, held_feeds: HeldFeeds
) -> None:
    sign_in(small_client, personas.bob)
    form = {"ics_url": held_feeds.url, "csrf_token": csrf_from(small_client, "/admin/calendar")}
    answers: list[int] = []

    def connect() -> None:
        answers.append(small_client.post("/admin/calendar/me/builtin", data=form).status_code)

    holding = [threading.Thread(target=connect) for _ in range(GATE)]
    for caller in holding:
        caller.start()
    for _ in holding:
        assert held_feeds.arrived.acquire(timeout=10)  # each feed check is at the feed server, holding the gate

    refused = small_client.post("/admin/calendar/me/builtin", data=form)
    small_client.cookies.clear()  # a visitor who is not signed in
    login = small_client.get("/admin/login")

    assert refused.status_code == 503
    assert "so it did not contact 127.0.0.1. Try again in a moment." in refused.text
    assert login.status_code == 200
    assert 'name="password"' in login.text
    held_feeds.release.set()
    for caller in holding:
        caller.join(timeout=10)
    assert answers == [422, 422]  # the held checks end as the feed answers: 503, "not answering properly"
