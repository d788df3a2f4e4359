"""Wall-clock minutes of one local day to UTC instants (whole seconds since the epoch), right across
daylight-saving changes: a wall time that does not exist (spring forward) has no instant, and one that happens twice
(fall back) is taken once, at its first occurrence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from overture.errors import InvalidInput, Problem

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
SECOND = timedelta(seconds=1)
DAY_SECONDS = 86_400


def load_zone(name: str, path: str = "zone") -> ZoneInfo:
    """The IANA zone `name` (from the tzdata package when the system has none). Raises InvalidInput naming `path`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{name!r} is not a time zone.", [Problem(path, f"{name!r} is not an IANA time zone such as Europe/Paris.")]
        ) from None


def to_seconds(instant: datetime, path: str = "time") -> int:
    """Whole seconds since the epoch, rounded down. Raises InvalidInput for a naive datetime."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput("Times must carry their time zone.", [Problem(path, f"{instant} has no time zone.")])
    return (instant - EPOCH) // SECOND


def to_instant(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def local_date(seconds: int, zone: ZoneInfo) -> date:
    return to_instant(seconds).astimezone(zone).date()


def _offset(naive: datetime, zone: ZoneInfo, fold: int) -> timedelta | None:
    return naive.replace(tzinfo=zone, fold=fold).utcoffset()


@dataclass(frozen=True, slots=True)
class DayClock:
    """How the wall clock of `day` in `zone` maps to instants. `offset` (seconds east of UTC) is set when the
    whole day has one offset, the common case, computed without touching the zone again."""

    day: date
    zone: ZoneInfo
    offset: int | None

    def wall_seconds(self, minute: int) -> int:
        """The wall time as if it were UTC: seconds since the epoch of `day` at `minute` (1440 is next midnight)."""
        return (self.day.toordinal() - EPOCH_ORDINAL) * DAY_SECONDS + minute * 60

    def instant(self, minute: int) -> int | None:
        """The instant of `minute` on this day; None when the clock skips it; the first one when it repeats."""
        if self.offset is not None:
            return self.wall_seconds(minute) - self.offset
        naive = datetime(self.day.year, self.day.month, self.day.day) + timedelta(minutes=minute)
        first = naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        if first.astimezone(self.zone).replace(tzinfo=None) != naive:
            return None
        return (first - EPOCH) // SECOND

    def boundary(self, minute: int) -> int:
        """The instant a range starting or ending at `minute` starts or ends: a skipped wall time stands for the
        moment the clock jumped (the first wall time after it that exists)."""
        for later in range(minute, minute + 24 * 60):
            found = self.instant(later)
            if found is not None:
                return found
        raise AssertionError(f"no wall time exists after {minute} on {self.day} in {self.zone}")  # pragma: no cover


def day_clock(day: date, zone: ZoneInfo) -> DayClock:
    """The clock of `day`: with a fixed offset when midnight to midnight has one offset and no repeated hour."""
    midnight = datetime(day.year, day.month, day.day)
    next_midnight = midnight + timedelta(days=1)
    offsets = {
        _offset(midnight, zone, 0),
        _offset(midnight, zone, 1),
        _offset(next_midnight, zone, 0),
        _offset(next_midnight, zone, 1),
    }
    if len(offsets) == 1:
        (only,) = offsets
        if only is not None:
            return DayClock(day, zone, only // SECOND)
    return DayClock(day, zone, None)
