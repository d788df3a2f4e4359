"""Signatures by the Standard Webhooks specification (https://www.standardwebhooks.com): a receiver verifies them
with the `standardwebhooks` package or Svix's libraries.

The secret is `whsec_` and the base64 of 24 random bytes; the signature of a message is
`v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where the timestamp is in whole seconds since 1970,
sent in the `webhook-timestamp` header (receivers refuse one more than about five minutes away from their clock).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The headers of one attempt: signed at the time it is sent, so a retry carries a fresh timestamp."""
    timestamp = int(at.timestamp())
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
