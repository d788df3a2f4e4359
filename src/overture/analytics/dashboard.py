"""The dashboard: every dialogue's figures over a period of calendar days in the viewer's zone (docs/reports.md),
by day, the top dialogues and pages, and the meetings by agent and by dialogue. Read from the rollups
(analytics/rollups.py), the meetings from their table (one row per meeting: small).

The top dialogues and pages sum whole UTC days (`report_days`, `report_page_days`) and, at the ends of a period in
another zone, the hours the period has of the days it only partly covers: a 30-day period reads about 30 rows per
dialogue or page, not 720.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from overture.analytics.dialogue_report import Tally, period, rate
from overture.analytics.models import (
    PAGE_COUNTS,
    ReportDay,
    ReportHour,
    ReportPageDay,
    ReportPageTotalHour,
    ReportTotalHour,
)
from overture.analytics.schemas import Dashboard, DashboardFigures, MeetingCount, TopDialogue, TopPage
from overture.dialogues.models import Dialogue
from overture.scheduling.models import Agent, Meeting
from overture.users.models import User

_TOP = ("triggered", "engaged", "completed", "people_acquired", "meetings_booked")
_TOTALS = ("conversations", "triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked")


def dashboard(
    session: Session,
    *,
    first: date | None = None,
    last: date | None = None,
    zone: str | None = None,
    now: datetime,
    top: int = 10,
) -> Dashboard:
    """The dashboard over a period (the rules of `dialogue_report.period`: by default the last 30 days ending
    today in `zone`). Raises InvalidInput for a wrong period or zone."""
    chosen = period(first, last, zone, now)
    first_hour, end_hour = chosen.hours()

    total = Tally()
    daily = {day: Tally() for day in chosen.days()}
    columns = [getattr(ReportTotalHour, name) for name in _TOTALS]
    for at, goals, *counts in session.execute(
        select(ReportTotalHour.hour, ReportTotalHour.goals, *columns).where(
            ReportTotalHour.hour >= first_hour, ReportTotalHour.hour < end_hour
        )
    ):
        by_name = dict(zip(_TOTALS, counts, strict=True))
        total.add(by_name, goals)
        daily[chosen.day_of(at)].add(by_name, goals)

    start, end = chosen.bounds()
    return Dashboard(
        from_=chosen.first,
        to=chosen.last,
        zone=chosen.zone_name,
        totals=_figures(total),
        daily={day: _figures(tally) for day, tally in daily.items()},
        top_dialogues=_top_dialogues(session, first_hour, end_hour, top),
        top_pages=_top_pages(session, first_hour, end_hour, top),
        meetings_by_agent=_meetings(session, start, end, Meeting.agent_id, _agents),
        meetings_by_dialogue=_meetings(session, start, end, Meeting.dialogue_id, _dialogues),
        meetings_by_source=_meetings(session, start, end, Meeting.channel, _sources),
    )


def _figures(tally: Tally) -> DashboardFigures:
    return DashboardFigures(**tally.figures().model_dump(), conversations=tally.counts["conversations"])


def _split(first_hour: datetime, end_hour: datetime) -> tuple[date, date, list[tuple[datetime, datetime]]]:
    """[first_hour, end_hour) as whole UTC days [first_day, end_day) and the hours left at either end."""
    first_day = (first_hour + timedelta(hours=23)).date()  # the first UTC day starting at or after first_hour
    end_day = end_hour.date()
    if first_day >= end_day:
        return first_day, first_day, [(first_hour, end_hour)]
    midnight = datetime.combine(first_day, time(), UTC)
    last_midnight = datetime.combine(end_day, time(), UTC)
    edges = [(a, b) for a, b in ((first_hour, midnight), (last_midnight, end_hour)) if a < b]
    return first_day, end_day, edges


def _sums(
    session: Session,
    day_table: Any,
    hour_table: Any,
    key: str,
    names: tuple[str, ...],
    first_hour: datetime,
    end_hour: datetime,
) -> dict[Any, Counter[str]]:
    """The period's sums of `names` by `key`, from the whole days of `day_table` and the edge hours of
    `hour_table`."""
    first_day, end_day, edges = _split(first_hour, end_hour)
    sums: dict[Any, Counter[str]] = defaultdict(Counter)
    statements = []
    if first_day < end_day:
        statements.append(_summed(day_table, key, names).where(day_table.day >= first_day, day_table.day < end_day))
    for a, b in edges:
        statements.append(_summed(hour_table, key, names).where(hour_table.hour >= a, hour_table.hour < b))
    for statement in statements:
        for found, *counts in session.execute(statement):
            sums[found].update(dict(zip(names, (int(count or 0) for count in counts), strict=True)))
    return sums


def _summed(table: Any, key: str, names: tuple[str, ...]) -> Any:
    column = getattr(table, key)
    return select(column, *[func.sum(getattr(table, name)) for name in names]).group_by(column)


def _top_dialogues(session: Session, first_hour: datetime, end_hour: datetime, top: int) -> list[TopDialogue]:
    sums = _sums(session, ReportDay, ReportHour, "dialogue_id", _TOP, first_hour, end_hour)
    ranked = sorted((ident for ident in sums if any(sums[ident].values())), key=lambda i: -sums[i]["triggered"])
    names = {
        ident: (key, name)
        for ident, key, name in session.execute(
            select(Dialogue.id, Dialogue.key, Dialogue.name).where(Dialogue.id.in_(ranked))
        )
    }
    ranked = sorted((ident for ident in ranked if ident in names), key=lambda i: (-sums[i]["triggered"], names[i][0]))
    return [
        TopDialogue(
            dialogue=names[ident][0],
            name=names[ident][1],
            **{name: sums[ident][name] for name in _TOP},
            engagement_rate=rate(sums[ident]["engaged"], sums[ident]["triggered"]),
            conversion_rate=rate(sums[ident]["people_acquired"], sums[ident]["engaged"]),
        )
        for ident in ranked[:top]
    ]


def _top_pages(session: Session, first_hour: datetime, end_hour: datetime, top: int) -> list[TopPage]:
    sums = _sums(session, ReportPageDay, ReportPageTotalHour, "page", PAGE_COUNTS, first_hour, end_hour)
    ranked = sorted(sums, key=lambda page: (-sums[page]["triggered"], -sums[page]["engaged"], page))
    return [TopPage(page=page, **{name: sums[page][name] for name in PAGE_COUNTS}) for page in ranked[:top]]


def _agents(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    return {
        ident: (email, display or name or email)
        for ident, email, name, display in session.execute(
            select(Agent.id, User.email, User.name, Agent.display_name)
            .join(User, User.id == Agent.user_id)
            .where(Agent.id.in_(ids))
        )
    }


def _dialogues(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    return {
        ident: (key, name)
        for ident, key, name in session.execute(
            select(Dialogue.id, Dialogue.key, Dialogue.name).where(Dialogue.id.in_(ids))
        )
    }


# Where meetings are booked (`meetings.channel`): the chat's book_meeting card, or a booking page.
SOURCES = {"chat": "Chat", "link": "Booking links"}


def _sources(session: Session, keys: list[str]) -> dict[str, tuple[str, str]]:
    return {key: (key, SOURCES.get(key, key)) for key in keys}


def _meetings(session: Session, start: datetime, end: datetime, by: Any, labels: Any) -> list[MeetingCount]:
    """The meetings booked in [start, end) by agent or dialogue, with how many were held and missed."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for ident, status, count in session.execute(
        select(by, Meeting.status, func.count())
        .where(Meeting.created_at >= start, Meeting.created_at < end, by.is_not(None))
        .group_by(by, Meeting.status)
    ):
        counts[ident]["booked"] += count
        if status != "booked":  # "booked" is every meeting, counted above; a meeting still booked adds nothing more
            counts[ident][status] += count
    named = labels(session, list(counts))
    ranked = sorted((i for i in counts if i in named), key=lambda i: (-counts[i]["booked"], named[i][1]))
    return [
        MeetingCount(key=named[i][0], label=named[i][1], booked=counts[i]["booked"], held=counts[i]["held"],
                     no_show=counts[i]["no_show"])
        for i in ranked
    ]  # fmt: skip
