"""What keeps the Marketo client inside Marketo's limits (reference: marketo.md, "Limits and codes").

Marketo counts per instance, shared by every app connected to it: 100 calls in any 20 s, 10 calls in flight and
50,000 calls a day (reset at 00:00 US Central). Adobe advises one app to take at most half of the first two, so the
defaults here are 50 calls per 20 s and 5 in flight; each is settable.

- `SlidingWindow`: at most `calls` starts in any `seconds`; `reserve(now)` admits a call or says how long to wait.
- `InFlightGate`: at most `limit` calls at once (threads wait their turn).
- `DailyQuota`: the calls of the current Marketo day, and the stop after a `607` until the next reset.
- `RetryPolicy`: which answers are retried after a wait (`502, 604, 606, 608, 615, 713, 1029` except "Export daily
  quota exceeded" and "already queued"), which renew the token (`601, 602`), which stop until the reset (`607`);
  everything else is fatal. Waits grow exponentially up to a cap, for at most `attempts` tries.

The window and the quota take `now` as an argument and never sleep: the client passes its injected clock's time
and sleeps with its injected sleep, so tests move a clock instead of waiting.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum

from overture.integrations.marketo.errors import MARKETO_TIME_ZONE, QuotaExhausted

DEFAULT_CALLS_PER_WINDOW = 50  # half of Marketo's 100 per instance, as Adobe advises one app to take
DEFAULT_WINDOW_SECONDS = 20.0
DEFAULT_IN_FLIGHT = 5  # half of Marketo's 10
DEFAULT_DAILY_QUOTA = 50_000

BACKOFF_CODES = frozenset({"502", "604", "606", "608", "615", "713", "1029"})
RENEW_CODES = frozenset({"601", "602"})
QUOTA_CODE = "607"
# The 1029s that waiting minutes does not cure: the day's 500 MB of exports are used ("Export daily quota 500MB
# exceeded"), or the job is queued already. Only a full queue ("Too many jobs in queue") is waited out.
UNCURED_1029 = ("daily quota", "already")


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"The Marketo limits need an aware time (with its offset), not {now.isoformat()}.")
    return now


class SlidingWindow:
    """At most `calls` call starts in any `seconds` (thread-safe). A call counts when it is admitted."""

    def __init__(self, calls: int = DEFAULT_CALLS_PER_WINDOW, seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        if calls < 1 or seconds <= 0:
            raise ValueError(f"A rate window needs at least 1 call in more than 0 s, not {calls} in {seconds} s.")
        self.calls = calls
        self.seconds = seconds
        self._starts: deque[datetime] = deque()
        self._lock = threading.Lock()

    def reserve(self, now: datetime) -> float:
        """Admit a call at `now` and return 0.0, or admit nothing and return the seconds to wait before asking
        again (when the oldest start in the window leaves it)."""
        now = _aware(now)
        span = timedelta(seconds=self.seconds)
        with self._lock:
            while self._starts and self._starts[0] <= now - span:
                self._starts.popleft()
            if len(self._starts) < self.calls:
                self._starts.append(now)
                return 0.0
            return (self._starts[0] + span - now).total_seconds()


class InFlightGate:
    """At most `limit` calls in flight at once; `with gate:` waits for a place (other threads' calls to end)."""

    def __init__(self, limit: int = DEFAULT_IN_FLIGHT) -> None:
        if limit < 1:
            raise ValueError(f"At least one call must be allowed in flight, not {limit}.")
        self.limit = limit
        self._places = threading.BoundedSemaphore(limit)

    def try_enter(self) -> bool:
        """Take a place if one is free at once; True when taken (then `leave()` once)."""
        return self._places.acquire(blocking=False)

    def leave(self) -> None:
        self._places.release()

    def __enter__(self) -> InFlightGate:
        self._places.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.leave()


def marketo_day(now: datetime) -> date:
    """The Marketo day `now` falls in: the calendar date in US Central time (CST or CDT)."""
    return _aware(now).astimezone(MARKETO_TIME_ZONE).date()


def next_reset(now: datetime) -> datetime:
    """When the daily quota next resets after `now`: the coming 00:00 in US Central time (aware). Midnight exists
    on every day there (the clocks change at 02:00), so the day before a change is 23 or 25 hours long."""
    tomorrow = marketo_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=MARKETO_TIME_ZONE)


class DailyQuota:
    """The calls this client made in the current Marketo day, and whether it must stop until the reset.

    The count is Overture's own: other apps share the instance's quota, so Marketo may answer `607` earlier, which
    `exhausted(now)` records. Thread-safe."""

    def __init__(self, limit: int = DEFAULT_DAILY_QUOTA) -> None:
        if limit < 1:
            raise ValueError(f"The daily quota must allow at least 1 call, not {limit}.")
        self.limit = limit
        self._day: date | None = None
        self._used = 0
        self._stopped_until: datetime | None = None
        self._lock = threading.Lock()

    def used(self, now: datetime) -> int:
        """Calls counted in the Marketo day of `now`."""
        with self._lock:
            self._roll(now)
            return self._used

    def count(self, now: datetime) -> None:
        """Count one call about to be sent at `now`. Raises `QuotaExhausted` (and counts nothing) when the quota is
        used up or a `607` stopped calls until a reset still to come."""
        with self._lock:
            self._roll(now)
            if self._stopped_until is not None and now < self._stopped_until:
                raise QuotaExhausted(self._stopped_until)
            if self._used >= self.limit:
                raise QuotaExhausted(next_reset(now))
            self._used += 1

    def exhausted(self, now: datetime) -> QuotaExhausted:
        """Record Marketo's `607` at `now`: no call until the next reset. Returns the error to raise."""
        with self._lock:
            self._stopped_until = next_reset(now)
            return QuotaExhausted(self._stopped_until)

    def _roll(self, now: datetime) -> None:
        day = marketo_day(now)
        if day != self._day:
            self._day = day
            self._used = 0


class Verdict(Enum):
    """What the client does with a failed call."""

    BACK_OFF = "back off"  # wait, then send the same call again
    RENEW_TOKEN = "renew token"  # get a new access token, then send the call again once
    STOP_FOR_THE_DAY = "stop for the day"  # 607: raise QuotaExhausted
    FATAL = "fatal"  # raise; sending it again would get the same answer


@dataclass(frozen=True)
class RetryPolicy:
    """The reference's retry policy with exponential waits: the n-th retry (from 0) waits `first_wait * 2**n`
    seconds, at most `max_wait`; a call is tried at most `attempts` times in all."""

    attempts: int = 6
    first_wait: float = 2.0
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_wait < 0 or self.max_wait < self.first_wait:
            raise ValueError(
                f"A retry policy needs attempts >= 1 and 0 <= first_wait <= max_wait, not attempts={self.attempts}, "
                f"first_wait={self.first_wait}, max_wait={self.max_wait}."
            )

    def verdict(self, code: str, message: str = "") -> Verdict:
        """The verdict for Marketo's error `code` (a numeric string; an HTTP status such as "502" for a gateway
        error) and its `message`."""
        if code in RENEW_CODES:
            return Verdict.RENEW_TOKEN
        if code == QUOTA_CODE:
            return Verdict.STOP_FOR_THE_DAY
        if code == "1029" and any(words in message.lower() for words in UNCURED_1029):
            return Verdict.FATAL
        if code in BACKOFF_CODES:
            return Verdict.BACK_OFF
        return Verdict.FATAL

    def verdict_for_status(self, status: int) -> Verdict:
        """The verdict for an HTTP error status: a server or gateway error (5xx) is backed off, like `502`; any
        other status is fatal (the client turns 401, 404 and 414 into their own errors first)."""
        return Verdict.BACK_OFF if 500 <= status <= 599 else Verdict.FATAL

    def wait(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0 for the first)."""
        return min(self.max_wait, self.first_wait * 2.0**retry)


@dataclass
class Limits:
    """The limits one Marketo instance's clients share. Give every client of one instance in a process the same
    `Limits` (the counts are per instance); the defaults are half of Marketo's, as Adobe advises."""

    window: SlidingWindow = field(default_factory=SlidingWindow)
    gate: InFlightGate = field(default_factory=InFlightGate)
    daily: DailyQuota = field(default_factory=DailyQuota)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
