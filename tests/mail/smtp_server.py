"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, on a free port, keeping every message it accepts.

Variants: plain; STARTTLS required, with a certificate from a `trustme` CA; AUTH (PLAIN and LOGIN) checking one
user name and password (over STARTTLS, as real servers demand). The server can be told to refuse recipients
(`refuse_recipients`, e.g. 550 or 451 at RCPT) or to answer the message itself with an error (`answer_data`).
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
SMTP_USERNAME = "overture"
SMTP_PASSWORD = "s3cret mail password"


@dataclass(frozen=True)
class Received:
    """One message the server accepted: the envelope, the raw bytes and the parsed email."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    authenticated_as: str | None
    over_tls: bool

    @property
    def email(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=bytes(envelope.original_content or envelope.content),
                authenticated_as=login,
                over_tls=session.ssl is not None,
            )
        )
        return "250 Message accepted for delivery"


class _FreePortController(Controller):
    """aiosmtpd's threaded controller, listening on a port the system picks (port 0)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """An aiosmtpd server in a thread. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        *,
        ca: trustme.CA | None = None,
        require_starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.ca = ca
        self.username = username
        self.password = password
        self._handler = _Handler()
        kwargs: dict[str, Any] = {}
        if ca is not None:
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(HOST, "localhost").configure_cert(server_context)
            kwargs.update(tls_context=server_context, require_starttls=require_starttls)
        if username is not None:
            assert ca is not None, "AUTH needs TLS: pass a CA as well"
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self._controller = _FreePortController(
            self._handler, hostname=HOST, port=0, server_hostname="smtp.test", ready_timeout=10, **kwargs
        )

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def received(self) -> list[Received]:
        return self._handler.received

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate authority (and nothing else)."""
        assert self.ca is not None, "this server has no TLS"
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def refuse_recipients(self, reply: str = "550 5.1.1 No such user here") -> None:
        """Answers every RCPT TO with `reply` (550 permanent, 451 temporary...)."""
        self._handler.rcpt_reply = reply

    def answer_data(self, reply: str = "451 4.3.0 Try again later") -> None:
        """Answers the message (after DATA) with `reply` instead of accepting it."""
        self._handler.data_reply = reply

    def accept_everything(self) -> None:
        self._handler.rcpt_reply = None
        self._handler.data_reply = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        ):
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
