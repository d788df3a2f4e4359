"""The fake Marketo's HTTP side: a thread per request, each asking `handle(method, target, headers, body)` for an
Answer; bodies over 1 MB are refused with 413 before they reach it, export files are streamed from disk in chunks,
and a dropped answer closes the socket without a byte."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1024 * 1024


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    file: tuple[str, int, int] | None = None  # path, first and last byte
    drop: bool = False


Handle = Callable[[str, str, dict[str, str], bytes], Answer]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def handler_for(handle: Handle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait between them

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._discard(length)
                self._send(Answer(413, b"Request Entity Too Large", "text/plain"))
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            answer = handle(self.command, self.path, headers, body)
            if answer.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            try:
                self._send(answer)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (a slow answer injected past its deadline): normal here, not an error.
                self.close_connection = True

        def _discard(self, length: int) -> None:
            while length > 0:
                chunk = self.rfile.read(min(length, 1 << 16))
                if not chunk:
                    return
                length -= len(chunk)

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            if answer.file is None:
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
                return
            path, first, last = answer.file
            self.send_header("Content-Length", str(last - first + 1))
            self.end_headers()
            with open(path, "rb") as source:
                source.seek(first)
                left = last - first + 1
                while left > 0:
                    chunk = source.read(min(left, 1 << 16))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep test and demo output quiet
            pass

    return Handler
