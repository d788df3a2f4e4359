"""Calendar secrets at rest: an app password, OAuth tokens or a private feed address, kept as a Fernet token.

The Fernet key is derived from the instance's secret key with HKDF-SHA256 and a fixed context string, so the secret
key itself never encrypts anything directly and a key made for calendar secrets is useless elsewhere (cookies, links).

Key rotation: `MultiFernet` encrypts with the first key and decrypts with any of them. To change the secret key, pass
the old one in `previous_keys` while `reseal` rewrites each stored token under the new key; once every token is
resealed the old key can go. Overture has no setting for previous keys yet, so today changing OVERTURE_SECRET_KEY
makes stored calendar secrets unreadable: each affected agent is asked to connect their calendar again.

Nothing here logs: a secret only leaves this module encrypted, or in the caller's hands.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from overture.calendars.provider import CalendarError

CONTEXT = b"overture calendar secrets v1"


def fernet_key(secret_key: str) -> bytes:
    """The Fernet key (url-safe base64 of 32 bytes) for calendar secrets under `secret_key`."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CONTEXT).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


def _box(secret_key: str, previous_keys: Sequence[str]) -> MultiFernet:
    return MultiFernet([Fernet(fernet_key(key)) for key in (secret_key, *previous_keys)])


def encrypt(secret_key: str, value: Mapping[str, Any]) -> str:
    """`value` (JSON-able) as a Fernet token under the key derived from `secret_key`."""
    data = json.dumps(dict(value), separators=(",", ":"), sort_keys=True).encode()
    return _box(secret_key, ()).encrypt(data).decode("ascii")


def decrypt(secret_key: str, token: str, previous_keys: Sequence[str] = ()) -> dict[str, Any]:
    """What `encrypt` sealed. Raises CalendarError("credentials") when no key opens it (the secret key changed) or
    it is not a sealed object."""
    try:
        value = json.loads(_box(secret_key, previous_keys).decrypt(token.encode("ascii")))
    except (InvalidToken, UnicodeEncodeError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise CalendarError(
            "credentials",
            "Overture can no longer read the stored sign-in details of this calendar (the instance's secret key "
            "changed). Connect the calendar again on the Calendar page.",
        )
    return value


def reseal(secret_key: str, token: str, previous_keys: Sequence[str]) -> str:
    """The same secret encrypted under `secret_key`, from a token made with it or one of `previous_keys`."""
    try:
        return _box(secret_key, previous_keys).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise CalendarError(
            "credentials", "This calendar secret was sealed with a key Overture no longer has."
        ) from exc
