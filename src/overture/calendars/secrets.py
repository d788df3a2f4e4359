"""Calendar secrets at rest: an app password, OAuth tokens or a private feed address, sealed by `sealing.py` under
the calendars' own context (a key made for calendar secrets is useless elsewhere).

Key rotation: see `sealing.py`. Overture has no setting for previous keys yet, so today changing OVERTURE_SECRET_KEY
makes stored calendar secrets unreadable: each affected agent is asked to connect their calendar again.

Nothing here logs: a secret only leaves this module encrypted, or in the caller's hands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from overture import sealing
from overture.calendars.provider import CalendarError

CONTEXT = b"overture calendar secrets v1"


def fernet_key(secret_key: str) -> bytes:
    """The Fernet key (url-safe base64 of 32 bytes) for calendar secrets under `secret_key`."""
    return sealing.fernet_key(secret_key, CONTEXT)


def encrypt(secret_key: str, value: Mapping[str, Any]) -> str:
    """`value` (JSON-able) as a Fernet token under the key derived from `secret_key`."""
    return sealing.seal(secret_key, CONTEXT, value)


def decrypt(secret_key: str, token: str, previous_keys: Sequence[str] = ()) -> dict[str, Any]:
    """What `encrypt` sealed. Raises CalendarError("credentials") when no key opens it (the secret key changed) or
    it is not a sealed object."""
    try:
        return sealing.unseal(secret_key, CONTEXT, token, previous_keys)
    except sealing.Unreadable:
        raise CalendarError(
            "credentials",
            "Overture can no longer read the stored sign-in details of this calendar (the instance's secret key "
            "changed). Connect the calendar again on the Calendar page.",
        ) from None


def reseal(secret_key: str, token: str, previous_keys: Sequence[str]) -> str:
    """The same secret encrypted under `secret_key`, from a token made with it or one of `previous_keys`."""
    try:
        return sealing.reseal(secret_key, CONTEXT, token, previous_keys)
    except sealing.Unreadable as exc:
        raise CalendarError(
            "credentials", "This calendar secret was sealed with a key Overture no longer has."
        ) from exc
