"""A dialogue's report: its figures with Dynamic Chat's definitions (docs/reports.md), by day in the viewer's time
zone, and the funnel of its cards. Read from the raw activity log (by dialogue, type and time: an index of
activities) and the dialogue's conversations (by dialogue and start: an index of conversations).

Nothing here counts previews: the admin's dialogue tests run on the pure engine and the appearance preview answers
the widget itself, so neither writes a conversation or an activity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.analytics.funnel import funnel, funnel_meetings
from overture.analytics.schemas import DialogueReport, Figures
from overture.conversations.models import Conversation
from overture.dialogues import service as dialogues
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import InvalidInput, Problem
from overture.scheduling.clock import load_zone

DEFAULT_DAYS = 30
MAX_DAYS = 366
EMAIL_FIELD = "person.email"

# The activities a report counts, and the figure each one adds to.
_COUNTED = {
    ActivityType.dialogue_triggered: "triggered",
    ActivityType.dialogue_engaged: "engaged",
    ActivityType.dialogue_completed: "completed",
    ActivityType.dialogue_dismissed: "dismissed",
    ActivityType.field_captured: "people_acquired",
    ActivityType.meeting_booked: "meetings_booked",
    ActivityType.goal_reached: "goals",
}
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
class _Tally:
    """The figures of the period or of one day, as they are counted."""

    counts: Counter[str] = field(default_factory=Counter)
    goals: Counter[str] = field(default_factory=Counter)

    def figures(self) -> Figures:
        counts = self.counts
        return Figures(
            **{name: counts[name] for name in FIGURES},
            goals=dict(sorted(self.goals.items())),
            engagement_rate=_rate(counts["engaged"], counts["triggered"]),
            conversion_rate=_rate(counts["people_acquired"], counts["engaged"]),
        )


def _rate(part: int, whole: int) -> float | None:
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
    start, end = chosen_period.bounds()

    total = _Tally()
    daily = {day: _Tally() for day in chosen_period.days()}
    counted: dict[str, set[Hashable]] = {name: set() for name in FIGURES}
    for row in _activities(session, dialogue, chosen, start, end):
        figure = _COUNTED[ActivityType(row.type)]
        day = daily[chosen_period.day_of(row.occurred_at)]
        if figure == "goals":
            name = str(row.goal or "")
            total.goals[name] += 1
            day.goals[name] += 1
            continue
        keys = _once_keys(figure, row)
        if keys:
            if not counted[figure].isdisjoint(keys):
                continue
            counted[figure].update(keys)
        total.counts[figure] += 1
        day.counts[figure] += 1

    return DialogueReport(
        dialogue=dialogue.key,
        version=version,
        from_=chosen_period.first,
        to=chosen_period.last,
        zone=chosen_period.zone_name,
        **total.figures().model_dump(),
        daily={day: tally.figures() for day, tally in daily.items()},
        funnel=funnel(session, dialogue, chosen, start, end),
        funnel_meetings=funnel_meetings(session, dialogue, chosen, start, end),
    )


def _once_keys(figure: str, row: Any) -> list[Hashable]:
    """What a figure counts once: a visitor session (triggered, engaged), a person (people acquired: known by their
    row or by the email, so an address given again in another browser, not yet merged, is the same person); none:
    every activity counts. An activity whose person was deleted counts on its own (it can no longer be matched)."""
    if figure in ("triggered", "engaged"):
        return [(row.person_id, row.session_number) if row.person_id is not None else ("activity", row.id)]
    if figure == "people_acquired":
        keys: list[Hashable] = [("person", row.person_id) if row.person_id is not None else ("activity", row.id)]
        if row.email:
            keys.append(("email", row.email.strip().casefold()))
        return keys
    return []


def _activities(
    session: Session, dialogue: Dialogue, chosen: DialogueVersion | None, start: datetime, end: datetime
) -> Iterable[Any]:
    """The dialogue's counted activities in [start, end), oldest first (a once-counted figure counts on the day of
    its first activity); field captures of the email only."""
    captured = Activity.attributes["field"].as_string()
    statement = (
        select(
            Activity.id,
            Activity.type,
            Activity.person_id,
            Activity.session_number,
            Activity.occurred_at,
            Activity.attributes["goal"].as_string().label("goal"),
            Activity.attributes["value"].as_string().label("email"),
        )
        .where(
            Activity.dialogue_id == dialogue.id,
            Activity.type.in_([kind.value for kind in _COUNTED]),
            Activity.occurred_at >= start,
            Activity.occurred_at < end,
            (Activity.type != ActivityType.field_captured.value) | (captured == EMAIL_FIELD),
        )
        .order_by(Activity.occurred_at, Activity.id)
    )
    if chosen is not None:
        statement = statement.join(Conversation, Conversation.id == Activity.conversation_id).where(
            Conversation.version_id == chosen.id
        )
    return session.execute(statement)
