"""What can go wrong when Overture talks to Marketo, one type per thing a person would do differently.

The Integrations page's "test connection" shows these messages to a marketer as they are, so each says what
happened and what to do, in words, without Marketo's jargon where a plain word exists:

- `BadCredentials`: the identity endpoint refused the client id and secret (HTTP 401).
- `AccessDenied`: the API user's role lacks a permission a call needs (`603`).
- `WrongInstance`: the base URL answers but is not a Marketo REST endpoint, or its host does not resolve.
- `MarketoUnreachable`: the network failed (no answer in time; `ConnectionDropped`: no connection, or one closed
  before the answer).
- `QuotaExhausted`: the instance's daily call quota is used up (`607`); nothing more until `reset_at`.
- `MalformedAnswer`: Marketo answered something its API does not document (a remote answer is input).
- `ExportFailed`: a bulk export ended Failed or Canceled, or its file does not match its checksum.
- `MarketoError(code, message, endpoint)`: every other refusal, with Marketo's code and message.

All of them are `MarketoFailure`s, so a caller that only needs "did it work" catches one type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from overture.errors import OvertureError

MARKETO_TIME_ZONE = ZoneInfo("America/Chicago")  # the daily quota resets at midnight here


class MarketoFailure(OvertureError):
    """Base of every Marketo error: `message` is a sentence for the marketer. The HTTP status is the one Overture's
    own API answers with when the error reaches it (502: the other server failed; 400: the settings are wrong)."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message, [], status)


class BadCredentials(MarketoFailure):
    """Marketo's identity endpoint refused the client id and client secret."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Marketo refused the client id and client secret ({detail}). Copy both again from Marketo's Admin > "
            "LaunchPoint > (the API service) > View Details, and check the API-only user is still active.",
            400,
        )


class AccessDenied(MarketoFailure):
    """The API user's role lacks a permission (`603`). `what` names the call in words ("read the lead fields")."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(
            f"Marketo did not let Overture {what}: the API user's role lacks a permission ({detail}). In Marketo's "
            "Admin > Users & Roles, give the API-only user's role the permission for this, then test again.",
            400,
        )
        self.what = what


class WrongInstance(MarketoFailure):
    """The base URL is not a Marketo REST endpoint: its host does not resolve, or it answers something else."""

    def __init__(self, base_url: str, detail: str) -> None:
        super().__init__(
            f"{base_url} is not a Marketo REST API endpoint: {detail}. Use the REST API endpoint from Marketo's "
            "Admin > Web Services without /rest (https://123-ABC-456.mktorest.com for the Munchkin id "
            "123-ABC-456).",
            400,
        )
        self.base_url = base_url


class MarketoUnreachable(MarketoFailure):
    """The network failed between Overture and Marketo: nothing usable came back. Trying again later may work."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(
            f"Overture could not reach Marketo at {host}: {detail}. Check that this server can reach the internet "
            "(a proxy or firewall may block it) and try again in a few minutes."
        )
        self.host = host


class ConnectionDropped(MarketoUnreachable):
    """The connection failed or was closed before Marketo answered (not a timeout). Marketo may or may not have
    done what was asked: the client sends again only calls that are harmless to repeat."""


class QuotaExhausted(MarketoFailure):
    """The instance used up its daily calls (`607`, or Overture's own count reached the quota): no call is sent
    until `reset_at` (aware, 00:00 US Central time)."""

    def __init__(self, reset_at: datetime) -> None:
        local = reset_at.astimezone(MARKETO_TIME_ZONE)
        utc = reset_at.astimezone(UTC)
        super().__init__(
            "Marketo's daily API quota for this instance is used up (every app connected to it shares 50,000 calls "
            f"a day). Overture calls Marketo again after it resets at {local:%Y-%m-%d %H:%M} US Central time "
            f"({utc:%Y-%m-%d %H:%M} UTC). Ask Marketo support for a higher quota if this happens often.",
            503,
        )
        self.reset_at = reset_at


class MalformedAnswer(MarketoFailure):
    """Marketo's answer to `endpoint` did not have the shape its API documents."""

    def __init__(self, endpoint: str, detail: str) -> None:
        super().__init__(
            f"Marketo's answer to {endpoint} was not what its API documents ({detail}). Nothing was taken from "
            "it; if this goes on, Marketo may have changed its API: report it with this message."
        )
        self.endpoint = endpoint


class ExportFailed(MarketoFailure):
    """A bulk export did not give a usable file: Marketo failed or canceled it, or its file did not match its
    checksum. A new export has to be created."""

    def __init__(self, export_id: str, detail: str) -> None:
        super().__init__(f"Marketo's bulk export {export_id} gave no usable file: {detail}.")
        self.export_id = export_id


class MarketoError(MarketoFailure):
    """Marketo refused a call for another reason: `code` is its code (a numeric string such as "610", or an HTTP
    status such as "502"), `message` its words, `endpoint` the call ("GET /rest/v1/leads.json")."""

    def __init__(self, code: str, message: str, endpoint: str) -> None:
        super().__init__(f"Marketo refused {endpoint} with code {code}: {message}.")
        self.code = code
        self.marketo_message = message
        self.endpoint = endpoint
