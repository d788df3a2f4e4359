"""Signed links in meeting emails: the visitor's cancel and reschedule links, the agent's one-click outcome links.

A link carries the meeting's public id and what it may do, signed with the instance's secret key (HMAC, through
itsdangerous), so a link cannot be forged or turned into another action: a tampered link is refused whole.
"""

from __future__ import annotations

from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

from overture.errors import InvalidInput, Problem

Action = Literal["cancel", "reschedule", "held", "no_show"]
ACTIONS: tuple[Action, ...] = ("cancel", "reschedule", "held", "no_show")
_SALT = "overture.meeting-link"


def _signer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def token(secret_key: str, meeting_public_id: str, action: Action) -> str:
    return str(_signer(secret_key).dumps([meeting_public_id, action]))


def url(base_url: str, secret_key: str, meeting_public_id: str, action: Action) -> str:
    """The absolute link, e.g. https://chat.example.com/meetings/link/<token> (the page says what it will do and
    asks the visitor to confirm: mail scanners open links, they do not submit forms)."""
    return f"{base_url.rstrip('/')}/meetings/link/{token(secret_key, meeting_public_id, action)}"


def read(secret_key: str, signed: str) -> tuple[str, Action]:
    """The meeting public id and action a link names. Raises InvalidInput for a link that was changed or forged."""
    try:
        payload = _signer(secret_key).loads(signed)
    except BadSignature:
        payload = None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], str)
        or payload[1] not in ACTIONS
    ):
        message = "This meeting link is not valid: it was changed or cut short. Use the link in your email."
        raise InvalidInput(message, [Problem("link", message)])
    return payload[0], payload[1]
