"""Secrets at rest (calendar passwords and tokens, an integration's client secret): JSON objects sealed as Fernet
tokens under a key derived from the instance's secret key.

Each kind of secret has its own context string: the Fernet key is derived from the secret key with HKDF-SHA256 and
that context, so the secret key itself never encrypts anything directly, and a key made for one kind is useless for
another (or for cookies and signed links).

Key rotation: `MultiFernet` encrypts with the first key and decrypts with any of them. To change the secret key,
pass the old one in `previous_keys` while `reseal` rewrites each stored token under the new key; once every token
is resealed the old key can go.

Nothing here logs: a secret only leaves this module sealed, or in the caller's hands.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Unreadable(Exception):
    """No key opens the sealed token (the secret key changed), or it does not hold a sealed object."""


def fernet_key(secret_key: str, context: bytes) -> bytes:
    """The Fernet key (url-safe base64 of 32 bytes) for the secrets of `context` under `secret_key`."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=context).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


def _box(secret_key: str, context: bytes, previous_keys: Sequence[str]) -> MultiFernet:
    return MultiFernet([Fernet(fernet_key(key, context)) for key in (secret_key, *previous_keys)])


def seal(secret_key: str, context: bytes, value: Mapping[str, Any]) -> str:
    """`value` (JSON-able) as a Fernet token under the key of `context` derived from `secret_key`."""
    data = json.dumps(dict(value), separators=(",", ":"), sort_keys=True).encode()
    return _box(secret_key, context, ()).encrypt(data).decode("ascii")


def unseal(secret_key: str, context: bytes, token: str, previous_keys: Sequence[str] = ()) -> dict[str, Any]:
    """What `seal` sealed. Raises Unreadable when no key opens it or it is not a sealed object."""
    try:
        value = json.loads(_box(secret_key, context, previous_keys).decrypt(token.encode("ascii")))
    except (InvalidToken, UnicodeEncodeError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise Unreadable("no key opens this sealed secret")
    return value


def reseal(secret_key: str, context: bytes, token: str, previous_keys: Sequence[str]) -> str:
    """The same secret sealed under `secret_key`, from a token made with it or one of `previous_keys`. Raises
    Unreadable when none of them opens it."""
    try:
        return _box(secret_key, context, previous_keys).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise Unreadable("no key opens this sealed secret") from exc
