"""The SMTP sender, used when an SMTP server is configured."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal, Protocol


class MailError(Exception):
    """Sending failed; the message says why. `permanent` errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    def send(self, email: EmailMessage) -> None:
        """Hands the message to the mail system; raises MailError on failure."""


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = ""
    timeout: float = 20.0
    ssl_context: ssl.SSLContext | None = None

    def send(self, email: EmailMessage) -> None:
        context = self.ssl_context or ssl.create_default_context()
        try:
            client: smtplib.SMTP
            if self.security == "ssl":
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=context)
                if self.username:
                    client.login(self.username, self.password)
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            # Permanent only when every refusal is a 5xx; a 4xx (greylisting, a full mailbox) is worth a retry.
            permanent = all(500 <= code < 600 for code, _ in exc.recipients.values())
            raise MailError(
                f"the server refused every recipient: {_describe(exc.recipients)}", permanent=permanent
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"the server refused the SMTP user name or password ({exc.smtp_code})") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise MailError(
                f"{self.host}:{self.port} does not support this ({exc}); check OVERTURE_SMTP_SECURITY"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # 530 "authentication required" is a setting to fix, not a verdict on this message: retried.
            permanent = 500 <= exc.smtp_code < 600 and exc.smtp_code != 530
            raise MailError(
                f"the server answered {exc.smtp_code}: {_text(exc.smtp_error)}", permanent=permanent
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"cannot reach {self.host}:{self.port}: {exc}") from exc


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _describe(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {_text(reason)})" for address, (code, reason) in recipients.items())
