"""A real local webhook receiver: a threaded HTTP server on 127.0.0.1 that answers 500 to its first `failures`
requests and 200 after, and checks every request it gets with the `standardwebhooks` package (the receivers'
library, not our code) at the moment it arrives, as a receiver does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: Any  # the payload standardwebhooks returned, or the exception it raised
    answered: int

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    failures: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified(self) -> list[Received]:
        """Every request, each asserted to carry a valid Standard Webhooks signature."""
        for item in self.received:
            assert isinstance(item.verified, dict), f"standardwebhooks refused {item.id}: {item.verified!r}"
        return list(self.received)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                verified: Any = Webhook(receiver.secret).verify(body, headers)
            except Exception as exc:  # the library's refusal, kept for the test to show
                verified = exc
            with receiver.lock:
                status = 500 if receiver.failures > 0 else 200
                receiver.failures -= 1 if receiver.failures > 0 else 0
                receiver.received.append(Received(headers, body, verified, status))
            answer = b"busy, try later" if status == 500 else b'{"ok":true}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def receiving(failures: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(failures=failures)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
