"""A dialogue's report: its figures with Dynamic Chat's definitions (docs/reports.md), by day in the viewer's time
zone, and the funnel of its cards. The figures are read from the rollups (analytics/rollups.py: by dialogue,
version and UTC hour), the funnel from its own (analytics/funnel_rollups.py: by dialogue, version and the UTC hour
its conversations started), over the same hours.

Nothing here counts previews: the admin's dialogue tests run on the pure engine and the appearance preview answers
the widget itself, so neither writes a conversation or an activity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.analytics.funnel import funnel, funnel_meetings
from overture.analytics.models import ReportHour
from overture.analytics.rollup_sql import HOUR
from overture.analytics.schemas import DialogueReport, Figures
from overture.dialogues import service as dialogues
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import InvalidInput, Problem
from overture.scheduling.clock import load_zone

DEFAULT_DAYS = 30
MAX_DAYS = 366
FIGURES = ("triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked")


@dataclass(frozen=True)
class Period:
    """Calendar days `first` to `last` (both counted) in `zone`."""

    first: date
    last: date
    zone: ZoneInfo
    zone_name: str

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants [start, end): from the local midnight that starts `first` to the one that
        ends `last` (a day of a DST change is 23 or 25 hours long)."""
        start = datetime.combine(self.first, time(), self.zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), self.zone)
        return start, end

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def day_of(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def hours(self) -> tuple[datetime, datetime]:
        """The UTC hours of the rollups counted, [first, end): those starting in the period. In a zone whose offset
        is not whole hours (India, Nepal...) a day counts from the first whole UTC hour after its midnight."""
        start, end = self.bounds()
        return _next_hour(start), _next_hour(end)


def _next_hour(instant: datetime) -> datetime:
    """The instant itself if it starts a UTC hour, else the start of the next one."""
    floor = instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return floor if floor == instant else floor + HOUR


def period(first: date | None, last: date | None, zone: str | None, now: datetime) -> Period:
    """The period asked for: by default the last 30 days ending today in `zone` (default UTC); a period given by
    only one end runs 30 days from or to it. Raises InvalidInput naming the parameter that is wrong: an unknown
    zone, a `from` after `to`, a period longer than 366 days."""
    zone_name = zone or "UTC"
    tz = load_zone(zone_name, "zone")
    if last is None:
        last = now.astimezone(tz).date() if first is None else first + timedelta(days=DEFAULT_DAYS - 1)
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput(
            f"The period starts ({first}) after it ends ({last}).",
            [Problem("from", f"{first} is after to ({last}): give the first day, then the last.")],
        )
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(
            f"The period is {days} days long; a report covers at most {MAX_DAYS}.",
            [Problem("to", f"{days} days from {first}: at most {MAX_DAYS}.")],
        )
    return Period(first, last, tz, zone_name)


@dataclass
class Tally:
    """The figures of the period or of one day, as they are summed from the rollups."""

    counts: Counter[str] = field(default_factory=Counter)
    goals: Counter[str] = field(default_factory=Counter)

    def add(self, counts: dict[str, int], goals: dict[str, int] | None) -> None:
        self.counts.update(counts)
        self.goals.update(goals or {})

    def figures(self) -> Figures:
        counts = self.counts
        return Figures(
            **{name: counts[name] for name in FIGURES},
            goals=dict(sorted(self.goals.items())),
            engagement_rate=rate(counts["engaged"], counts["triggered"]),
            conversion_rate=rate(counts["people_acquired"], counts["engaged"]),
        )


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _version_row(session: Session, dialogue: Dialogue, number: int | None) -> DialogueVersion | None:
    """The version counted (NotFound for one the dialogue does not have); None: every version."""
    return None if number is None else dialogues.version(session, dialogue, number)


def dialogue_report(
    session: Session,
    key: str,
    *,
    first: date | None = None,
    last: date | None = None,
    version: int | None = None,
    zone: str | None = None,
    now: datetime,
) -> DialogueReport:
    """The report of the dialogue (or reusable flow) `key` over a period of calendar days in `zone`, of one
    version or all. Raises NotFound for an unknown key or version, InvalidInput for a wrong period or zone."""
    chosen_period = period(first, last, zone, now)
    dialogue = dialogues.get(session, key)
    chosen = _version_row(session, dialogue, version)

    total = Tally()
    daily = {day: Tally() for day in chosen_period.days()}
    for counts, goals, at in _hours(session, dialogue, chosen, chosen_period):
        total.add(counts, goals)
        daily[chosen_period.day_of(at)].add(counts, goals)

    return DialogueReport(
        dialogue=dialogue.key,
        version=version,
        from_=chosen_period.first,
        to=chosen_period.last,
        zone=chosen_period.zone_name,
        **total.figures().model_dump(),
        daily={day: tally.figures() for day, tally in daily.items()},
        funnel=funnel(session, dialogue, chosen, chosen_period.hours()),
        funnel_meetings=funnel_meetings(session, dialogue, chosen, chosen_period.hours()),
    )


def _hours(
    session: Session, dialogue: Dialogue, chosen: DialogueVersion | None, chosen_period: Period
) -> Iterable[tuple[dict[str, int], dict[str, int], datetime]]:
    """The dialogue's rollups of the period's hours (of one version, or all): counts, goals, hour."""
    first, end = chosen_period.hours()
    statement = select(ReportHour).where(
        ReportHour.dialogue_id == dialogue.id, ReportHour.hour >= first, ReportHour.hour < end
    )
    if chosen is not None:
        statement = statement.where(ReportHour.version_id == chosen.id)
    for row in session.scalars(statement):
        yield {name: getattr(row, name) for name in FIGURES}, row.goals, row.hour
