"""OAuth 2.0 authorization-code tokens for calendar providers (Google now, Microsoft next), over `http.py`.

- `authorization_url` builds the consent link an agent follows; the provider sends them back with `?code&state`.
- `OAuthClient.exchange_code` trades that code for an access token and a refresh token (RFC 6749 4.1.3).
- `OAuthClient.refresh` gets a new access token with the refresh token (RFC 6749 6). Providers usually send no new
  refresh token then, so the old one is kept.

Written over `HttpClient` rather than with Authlib: Authlib's clients are bound to `requests` or `httpx` sessions,
and every outbound call must go through `HttpClient` (timeouts, private-address guard); the two form posts needed
are a few lines. A dead refresh token (`invalid_grant`: expired or revoked) raises `CalendarError("credentials")`,
so the agent is asked to connect again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from overture.calendars.provider import CalendarError
from overture.http import BlockedAddress, HttpClient, Unreachable
from overture.settings import Settings

MAX_TOKEN_ANSWER_BYTES = 256 * 1024  # a token answer is a few KB of JSON

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
EXPIRY_MARGIN = timedelta(seconds=60)  # refresh a little early, so a token never expires in flight
# Where a provider sends the agent back; register this URL (under the base URL) with each provider.
CALLBACK_PATH = "/admin/calendar/oauth/{provider}/callback"


def callback_url(settings: Settings, provider: str) -> str:
    return settings.base_url.rstrip("/") + CALLBACK_PATH.format(provider=provider)


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """The OAuth application an operator registered with the provider, and the provider's endpoints."""

    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    name: str = "the calendar provider"


@dataclass(frozen=True, slots=True)
class Tokens:
    """What an agent's consent gave: the short-lived access token, the long-lived refresh token, the expiry (UTC)."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None = None
    scope: str = ""

    def expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now or datetime.now(UTC)) >= self.expires_at - EXPIRY_MARGIN


def authorization_url(
    app: OAuthApp, redirect_uri: str, scopes: Sequence[str], state: str, extra: Mapping[str, str] | None = None
) -> str:
    """The consent link: `state` must be checked when the provider sends the agent back."""
    query = {
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
        **(extra or {}),
    }
    return f"{app.authorize_url}?{urlencode(query)}"


class OAuthClient:
    """Token requests for one OAuth application. `clock` gives the current time (tests move it)."""

    def __init__(self, app: OAuthApp, *, http: HttpClient, clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self._http = http
        self._clock = clock or (lambda: datetime.now(UTC))

    def exchange_code(self, code: str, redirect_uri: str) -> Tokens:
        """The tokens for the code the provider sent back after consent."""
        answer = self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            what="finish connecting your calendar",
        )
        refresh_token = str(answer.get("refresh_token") or "")
        if not refresh_token:
            raise CalendarError(
                "credentials",
                f"{self.app.name} gave Overture no refresh token, so it could only use your calendar for an hour. "
                "Remove Overture's access in your account settings, then connect the calendar again.",
            )
        return self._tokens(answer, refresh_token)

    def refresh(self, tokens: Tokens) -> Tokens:
        """A new access token; the refresh token stays unless the provider sends a new one."""
        answer = self._token_request(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            what="renew its access to your calendar",
        )
        return self._tokens(answer, str(answer.get("refresh_token") or tokens.refresh_token), tokens)

    def _tokens(self, answer: Mapping[str, Any], refresh_token: str, old: Tokens | None = None) -> Tokens:
        lifetime = answer.get("expires_in")
        expires_at = self._clock() + timedelta(seconds=int(lifetime)) if lifetime is not None else None
        fresh = Tokens(str(answer["access_token"]), refresh_token, expires_at, str(answer.get("scope") or ""))
        if old is not None and not fresh.scope:
            fresh = replace(fresh, scope=old.scope)
        return fresh

    def _token_request(self, form: dict[str, str], what: str) -> Mapping[str, Any]:
        body = urlencode({**form, "client_id": self.app.client_id, "client_secret": self.app.client_secret})
        host = urlsplit(self.app.token_url).hostname or self.app.token_url
        try:
            response = self._http.request(
                "POST", self.app.token_url, headers=FORM_HEADERS, content=body, max_bytes=MAX_TOKEN_ANSWER_BYTES
            )
        except Unreachable as exc:
            raise CalendarError(
                "unavailable", f"Overture could not reach {host} to {what}; it will try again."
            ) from exc
        except BlockedAddress as exc:
            raise CalendarError("rejected", exc.message) from exc
        try:
            answer = json.loads(response.content or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        status = response.status_code
        if status == 200 and answer.get("access_token"):
            return answer
        error = str(answer.get("error") or "")
        if status == 429 or status >= 500:
            raise CalendarError(
                "unavailable",
                f"{self.app.name} is not answering properly (HTTP {status}) when Overture tried to "
                f"{what}; it will try again.",
            )
        if error in ("invalid_grant", "invalid_client", "unauthorized_client"):
            detail = str(answer.get("error_description") or error)
            raise CalendarError(
                "credentials",
                f"{self.app.name} no longer accepts Overture's access to your calendar ({detail}), so Overture could "
                f"not {what}. Connect the calendar again on the Calendar page.",
            )
        raise CalendarError(
            "rejected", f"{self.app.name} refused to let Overture {what} (HTTP {status}: {error or 'no reason'})."
        )
