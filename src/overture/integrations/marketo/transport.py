"""What every Marketo call shares: the token, the limits, the retries, the envelope (reference: marketo.md).

`Transport` sends one `Call` (an endpoint: method, path, what it does in words, whether sending it twice is
harmless) through `overture.http.HttpClient` (its deadline, byte cap and private-address guard) and returns
Marketo's answer, or raises the `MarketoFailure` it means. `client.MarketoClient` adds one method per endpoint.

- **Token**: the identity call (`/identity/oauth/token`, credentials in the query string), kept until less than
  60 s remain, renewed at once when a call answers `601`/`602`, and that call sent again once. (Asked early,
  Marketo answers the same token with less time left: that one is then kept until it expires.)
- **Limits** (`limits.py`): a place in the in-flight gate, a start in the sliding window and one call of the daily
  quota before each call; `607` stops every call until 00:00 US Central.
- **Retries**: `502, 604, 606, 608, 615, 713, 1029` (not "Export daily quota exceeded") are sent again after an
  exponential wait; 6xx/7xx codes mean Marketo did nothing, so any call may be sent again then. An HTTP 5xx or a
  dropped connection is sent again only for a call that is harmless to repeat (reads and upserts): a write such as
  adding custom activities may have happened before the answer was lost, and is left to the caller's outbox.
- **Answers are input**: each is parsed with the pydantic models of `schemas.py`; one out of shape raises
  `MalformedAnswer` naming the endpoint.
- **Network**: no answer in time or a dropped connection raise `MarketoUnreachable`; a host name that does not
  exist, a private address refused by the guard, a 404 or an answer that is not JSON raise `WrongInstance`.
- **Long URLs**: a GET whose URL passes 8 KB is sent as `POST ...?_method=GET` with the query as a form body.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx2
from pydantic import BaseModel, ValidationError

from overture.errors import InvalidInput, Problem
from overture.http import IDEMPOTENT_METHODS, BlockedAddress, HttpClient, TooLarge, TooSlow, Unreachable
from overture.integrations.marketo.errors import (
    AccessDenied,
    BadCredentials,
    ConnectionDropped,
    MalformedAnswer,
    MarketoError,
    MarketoUnreachable,
    WrongInstance,
)
from overture.integrations.marketo.limits import Limits, Verdict
from overture.integrations.marketo.schemas import Envelope, Token

MAX_URL = 8_000  # a URL longer than 8 KB answers 414; past this, send the query as a form body
RENEW_BEFORE = timedelta(seconds=60)  # renew the token when less than this remains

Clock = Callable[[], datetime]
Model = TypeVar("Model", bound=BaseModel)


def _now() -> datetime:
    return datetime.now(UTC)


def _base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    if parts.scheme not in ("http", "https") or not parts.hostname or path not in ("", "/rest"):
        message = (
            f"{url!r} is not a Marketo REST base URL: give the REST API endpoint from Marketo's Admin > Web "
            "Services, like https://123-ABC-456.mktorest.com (with or without /rest, nothing after it)."
        )
        raise InvalidInput(message, [Problem("base_url", message)])
    return f"{parts.scheme}://{parts.netloc}"


def marketo_time(moment: datetime, what: str) -> str:
    """`moment` as Marketo takes it (UTC, to the second, with Z). Raises `ValueError` for a naive datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime (with its offset), not {moment.isoformat()}.")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _name_not_found(exc: BaseException) -> bool:
    """True when a connection failed because the host name has no address (not for a DNS server that failed)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return seen.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME))
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class Call:
    """One Marketo endpoint as the client calls it. `what` says in words what it does ("read the lead fields"),
    for error messages; `repeatable` is True when sending it twice does no harm (reads, upserts); `raw` when a
    success is not an envelope (the bulk file); `deadline` (seconds) when Marketo may take longer than the HTTP
    client's default to answer it."""

    method: str
    path: str
    what: str
    repeatable: bool = True
    raw: bool = False
    deadline: float | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


class Transport:
    """What the calls to one Marketo instance share. `base_url` is its REST base (`client.rest_base_url`; a
    trailing /rest is dropped, anything else raises `InvalidInput`), `client_id` and `client_secret` those of a
    LaunchPoint custom service.

    `http` sends every call; `clock` (aware UTC datetimes) and `sleep` pace the limits and the retries (tests pass
    a fake clock and a sleep that moves it); `limits` are shared by every client of one instance in a process.
    Thread-safe: calls from several threads share the token and the limits.
    Every method raises the `MarketoFailure`s of `errors.py`, and `ValueError` for bad arguments.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: HttpClient,
        clock: Clock = _now,
        sleep: Callable[[float], None] = time.sleep,
        limits: Limits | None = None,
    ) -> None:
        self.base_url = _base_url(base_url)
        self.host = urlsplit(self.base_url).hostname or self.base_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self.clock = clock
        self.sleep = sleep
        self.limits = limits if limits is not None else Limits()
        self._token: str | None = None
        self._renew_at = datetime.min.replace(tzinfo=UTC)
        self._token_lock = threading.Lock()

    # -- token --------------------------------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Make sure a token with more than 60 s left is held, asking the identity endpoint when not. Raises
        `BadCredentials`, `WrongInstance`, `MarketoUnreachable`, or `MarketoError` for a server error (5xx)."""
        self._bearer()

    def _bearer(self, stale: str | None = None) -> str:
        """The token to send; a new one when the held one is `stale` (Marketo said 601/602) or nearly expired."""
        with self._token_lock:
            now = self.clock()
            if self._token is not None and self._token != stale and now < self._renew_at:
                return self._token
            token = self._identity()
            self._token = token.access_token
            expires_at = now + timedelta(seconds=token.expires_in)
            # Asked before expiry, Marketo answers the same token with the time it has left: asking again would
            # get it again, so a token with under a minute left is used until it expires (then 602 renews it).
            left = timedelta(seconds=token.expires_in)
            self._renew_at = expires_at - RENEW_BEFORE if left > RENEW_BEFORE else expires_at
            return token.access_token

    def _identity(self) -> Token:
        call = Call("GET", "/identity/oauth/token", "sign in")
        query = urlencode(
            {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}
        )
        response = self._send(call, f"{self.base_url}{call.path}?{query}", {}, None)
        if response.status_code == 401 or (response.status_code == 400 and _oauth_error(response)):
            raise BadCredentials(_oauth_error(response) or f"HTTP {response.status_code}")
        if response.status_code >= 500:
            raise MarketoError(str(response.status_code), response.reason_phrase or "server error", call.name)
        try:
            return Token.model_validate_json(response.content)
        except ValidationError:
            raise WrongInstance(
                self.base_url, f"it answered {call.path} with HTTP {response.status_code} and no access token"
            ) from None

    # -- sending ------------------------------------------------------------------------------------------------

    def _send(
        self,
        call: Call,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        *,
        max_bytes: int | None = None,
        deadline: float | None = None,
    ) -> httpx2.Response:
        """One HTTP exchange, with the network's failures turned into Marketo errors."""
        method = call.method
        if method == "GET" and len(url) > MAX_URL:
            url, _, query = url.partition("?")
            url, method, content = f"{url}?_method=GET", "POST", query.encode()
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            return self._http.request(
                method, url, headers=headers, content=content, max_bytes=max_bytes, deadline=deadline
            )
        except BlockedAddress as exc:
            raise WrongInstance(self.base_url, exc.message) from exc
        except TooLarge as exc:
            raise MalformedAnswer(call.name, "the answer was larger than Overture reads") from exc
        except TooSlow as exc:
            limit = deadline if deadline is not None else self._http.deadline
            raise MarketoUnreachable(self.host, f"it did not answer in time ({limit:g} s) to {call.what}") from exc
        except Unreachable as exc:
            if _name_not_found(exc):
                raise WrongInstance(self.base_url, f"the host name {self.host} does not exist") from exc
            if isinstance(exc.__cause__, httpx2.TimeoutException):  # one read or the connection took too long
                raise MarketoUnreachable(self.host, f"it did not answer in time to {call.what}") from exc
            detail = f"the connection failed or was closed before Marketo answered ({call.what})"
            raise ConnectionDropped(self.host, detail) from exc

    def _exchange(
        self,
        call: Call,
        params: Sequence[tuple[str, str]],
        body: object,
        headers: Mapping[str, str],
        stale: str | None,
        max_bytes: int | None,
        deadline: float | None,
    ) -> tuple[httpx2.Response, str]:
        """One attempt inside the limits: a place in the gate, a start in the window, a call of the daily quota.
        Returns the answer and the token it was sent with."""
        token = self._bearer(stale)
        url = f"{self.base_url}{call.path}"
        if params:
            url = f"{url}?{urlencode(params, quote_via=quote)}"
        sent = {"Authorization": f"Bearer {token}", **headers}
        content = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode()
            sent["Content-Type"] = "application/json"
        with self.limits.gate:
            while (wait := self.limits.window.reserve(self.clock())) > 0:
                self.sleep(wait)
            self.limits.daily.count(self.clock())
            return self._send(call, url, sent, content, max_bytes=max_bytes, deadline=deadline), token

    def request(
        self,
        call: Call,
        params: Sequence[tuple[str, str]] = (),
        body: object = None,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        deadline: float | None = None,
    ) -> tuple[httpx2.Response, Envelope | None]:
        """Send `call` until Marketo answers it or the retry policy gives up. Returns the answer and its envelope
        (None for a `raw` call's non-JSON success). Raises the `MarketoFailure` the answer means."""
        policy = self.limits.retry
        deadline = deadline if deadline is not None else call.deadline
        stale: str | None = None
        renewed = False
        retry = 0
        while True:
            try:
                response, token = self._exchange(call, params, body, headers or {}, stale, max_bytes, deadline)
            except ConnectionDropped:
                # The HTTP client already sent idempotent methods again; an upsert is harmless to send again too.
                if call.repeatable and call.method not in IDEMPOTENT_METHODS and retry + 1 < policy.attempts:
                    self.sleep(policy.wait(retry))
                    retry += 1
                    continue
                raise
            envelope: Envelope | None = None
            status = response.status_code
            if status == 200 and not (call.raw and not response.content.startswith(b"{")):
                envelope = self._envelope(call, response)
                if envelope.success:
                    return response, envelope
                if not envelope.errors:
                    raise MalformedAnswer(call.name, "it said the call failed without saying why")
                code, message = envelope.errors[0].code, envelope.errors[0].message
                verdict = policy.verdict(code, message)
            elif status in (200, 206) or (call.raw and status in (404, 416)):
                return response, None
            else:
                code, message = str(status), response.reason_phrase or "HTTP error"
                self._refuse_status(call, status)
                verdict = policy.verdict_for_status(status) if call.repeatable else Verdict.FATAL
            if verdict is Verdict.RENEW_TOKEN and not renewed:
                stale, renewed = token, True
                continue
            if verdict is Verdict.STOP_FOR_THE_DAY:
                raise self.limits.daily.exhausted(self.clock())
            if verdict is Verdict.BACK_OFF:
                if retry + 1 < policy.attempts:
                    self.sleep(policy.wait(retry))
                    retry += 1
                    continue
                message = f"{message} (still after {policy.attempts} attempts; try again later)"
            if code == "603":
                raise AccessDenied(call.what, f"{code} {message}")
            raise MarketoError(code, message, call.name)

    def _refuse_status(self, call: Call, status: int) -> None:
        """Raise the error an HTTP status other than 200 means (Marketo answers its own errors with 200)."""
        if status == 404:
            raise WrongInstance(self.base_url, f"it answered HTTP 404 to {call.path}, a path every Marketo has")
        if status == 413:
            raise MarketoError("413", "the request was over Marketo's 1 MB limit", call.name)
        if status == 414:
            raise MarketoError("414", "the request's URL was over Marketo's 8 KB limit", call.name)

    def _envelope(self, call: Call, response: httpx2.Response) -> Envelope:
        try:
            return Envelope.model_validate_json(response.content)
        except ValidationError as exc:
            if not response.content.lstrip().startswith(b"{"):
                raise WrongInstance(self.base_url, f"it answered {call.path} with something other than JSON") from None
            raise MalformedAnswer(call.name, first_problem(exc)) from None

    def _result(self, call: Call, params: Sequence[tuple[str, str]] = (), body: object = None) -> Envelope:
        envelope = self.request(call, params, body)[1]
        if envelope is None:  # pragma: no cover - only raw calls answer without an envelope
            raise MalformedAnswer(call.name, "it was not a JSON envelope")
        return envelope

    def items(self, call: Call, model: type[Model], envelope: Envelope) -> list[Model]:
        """The envelope's `result`, each item validated by `model`. Raises `MalformedAnswer`."""
        try:
            return [model.model_validate(item) for item in envelope.result]
        except ValidationError as exc:
            raise MalformedAnswer(call.name, first_problem(exc)) from None

    def _one(self, call: Call, model: type[Model], envelope: Envelope) -> Model:
        found = self.items(call, model, envelope)
        if len(found) != 1:
            raise MalformedAnswer(call.name, f"it held {len(found)} results where one was expected")
        return found[0]

    def _in_order(self, call: Call, model: type[Model], envelope: Envelope, sent: int) -> list[Model]:
        """One result per record sent, in input order (by `seq` when Marketo gives it)."""
        found = self.items(call, model, envelope)
        if len(found) != sent:
            raise MalformedAnswer(call.name, f"it held {len(found)} results for {sent} records sent")
        seqs = [getattr(item, "seq", None) for item in found]
        numbered = [seq for seq in seqs if isinstance(seq, int)]
        if len(numbered) == sent:
            if sorted(numbered) != list(range(sent)):
                raise MalformedAnswer(call.name, "its seq numbers do not match the records sent")
            by_seq = dict(zip(numbered, found, strict=True))
            found = [by_seq[seq] for seq in range(sent)]
        return found


def _oauth_error(response: httpx2.Response) -> str:
    """The OAuth error of an identity answer ("Bad client credentials"), or "" when it holds none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict) or "error" not in body:
        return ""
    return str(body.get("error_description") or body["error"])[:200]


def first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "the answer"
    return f"{where}: {error['msg']}"
