"""The reports' rollups (analytics/models.py): each dialogue's figures by version and UTC hour, counted from the
activity log and the conversations, and the sums the dashboard reads (all dialogues by hour, each dialogue by
day, each page by hour and by day). Reports read these, never the raw activities, so they stay fast as the log
grows and keep their figures for 24 months after the raw rows are purged (90 days).

How they are kept: `catch_up` reads the activities and conversations recorded since its last checkpoint, by id,
and counts again from the raw rows every (dialogue, hour) they fall in: the whole hour is replaced, so counting an
hour twice gives the same rows (idempotent), and a run that stopped half-way (a restart) is finished by the next.
On PostgreSQL ids can commit out of order (a row with a lower id commits after a higher one was read), so the
periodic run (`again=True`, every minute in jobs.py) also reads once more the rows recorded in the last
2 x `SAFETY` (20 minutes).
A report first catches up with what is new (`refresh`), so what just happened is already counted.

People acquired are counted once per person and dialogue: `report_people` keeps, for each dialogue, the keys of
the people acquired (their person row, the hash of their email) and the capture that counted them.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.analytics import funnel_rollups
from overture.analytics.models import (
    COUNTS,
    PAGE_COUNTS,
    PAGE_LENGTH,
    ReportCheckpoint,
    ReportDay,
    ReportHour,
    ReportPageDay,
    ReportPageHour,
    ReportPageTotalHour,
    ReportPerson,
    ReportTotalHour,
)
from overture.analytics.rollup_sql import (
    HOUR,
    Hours,
    delete_spans,
    hour_sql,
    hour_start,
    in_batches,
    insert_rows,
    run,
    spans_of,
    table_of,
)
from overture.conversations.models import Conversation
from overture.db import Database

DAY = timedelta(days=1)
# How long a transaction may stay open between taking its activity ids and committing (they take seconds), and the
# longest pause of the periodic run: that run reads again what was recorded in the last 2 x SAFETY, so a row that
# commits after rows with higher ids were read is counted by it. (One open longer is counted when its hour is.)
SAFETY = timedelta(minutes=10)
# Ids of activities (and of conversations) read per step; each step is one transaction of the job.
CHUNK = 100_000
# A report catches up itself when at most this many activities wait to be counted; more (right after the upgrade
# that added rollups, or after a long stop of the job) is left to the job, so a request never counts millions.
LIVE_LIMIT = 50_000
EMAIL_FIELD = "person.email"

_FIGURE_OF = {
    ActivityType.dialogue_triggered.value: "triggered",
    ActivityType.dialogue_engaged.value: "engaged",
    ActivityType.dialogue_completed.value: "completed",
    ActivityType.dialogue_dismissed.value: "dismissed",
    ActivityType.meeting_booked.value: "meetings_booked",
}
_GOAL = ActivityType.goal_reached.value
_CAPTURE = ActivityType.field_captured.value
_COUNTED_TYPES = [*_FIGURE_OF, _GOAL, _CAPTURE]
_PAGE_TYPES = [ActivityType.dialogue_triggered.value, ActivityType.dialogue_engaged.value]
_LOCK = 740_014  # PostgreSQL advisory lock: one catch-up at a time


def page_of(url: str | None) -> str:
    """The page a figure counts on: its URL without query string or fragment."""
    return (url or "").split("#", 1)[0].split("?", 1)[0][:PAGE_LENGTH]


# --- catching up ------------------------------------------------------------------------------------------------


def behind(session: Session) -> int:
    """How many activity (or conversation) ids were recorded after the newest checkpoint (a count of ids, not of
    rows; ids given again after a purge of every row, on SQLite, count from the first), or how many conversations
    and meetings changed since, counted up to LIVE_LIMIT: whichever is more."""
    newest = _newest_checkpoint(session)
    top = session.scalar(select(func.max(Activity.id))) or 0
    top_conversation = session.scalar(select(func.max(Conversation.id))) or 0
    read = _Read.of(newest)
    return max(
        top - (read.activity_id if read.activity_id <= top else 0),
        top_conversation - (read.conversation_id if read.conversation_id <= top_conversation else 0),
        funnel_rollups.count_changes(session, read.conversations_changed, read.meetings_changed, LIVE_LIMIT + 1),
    )


def refresh(db: Database, now: datetime) -> None:
    """Catches up before a report is read, when little is waiting (LIVE_LIMIT); the job counts more."""
    with db.read() as session:
        waiting = behind(session)
    if 0 < waiting <= LIVE_LIMIT:
        with db.write() as session:
            catch_up(session, now)


def catch_up_all(db: Database, now: datetime, *, again: bool = False) -> int:
    """The job: catches up in steps of CHUNK ids, one transaction each, until nothing is left; `again` reads the
    last SAFETY once more. Returns the dialogue-hours counted."""
    counted = 0
    while True:
        with db.write() as session:
            done, hours = _step(session, now, again=again)
        counted += hours
        again = False
        if done:
            return counted


def catch_up(session: Session, now: datetime, *, again: bool = False) -> int:
    """Catches up in the caller's transaction, however much is waiting. Returns the dialogue-hours counted."""
    counted = 0
    while True:
        done, hours = _step(session, now, again=again)
        counted += hours
        again = False
        if done:
            return counted


def _newest_checkpoint(session: Session) -> ReportCheckpoint | None:
    return session.scalar(select(ReportCheckpoint).order_by(ReportCheckpoint.id.desc()).limit(1))


@dataclass(frozen=True)
class _Read:
    """How far a checkpoint read: activity and conversation ids, and the changes of conversations and meetings."""

    activity_id: int = 0
    conversation_id: int = 0
    conversations_changed: funnel_rollups.Position = funnel_rollups.Position()
    meetings_changed: funnel_rollups.Position = funnel_rollups.Position()

    @classmethod
    def of(cls, checkpoint: ReportCheckpoint | None) -> _Read:
        if checkpoint is None:
            return cls()
        return cls(
            checkpoint.activity_id,
            checkpoint.conversation_id,
            funnel_rollups.Position(checkpoint.conversation_changed_at, checkpoint.conversation_changed_id),
            funnel_rollups.Position(checkpoint.meeting_changed_at, checkpoint.meeting_changed_id),
        )

    def checkpoint(self, now: datetime) -> ReportCheckpoint:
        return ReportCheckpoint(
            at=now,
            activity_id=self.activity_id,
            conversation_id=self.conversation_id,
            conversation_changed_at=self.conversations_changed.at,
            conversation_changed_id=self.conversations_changed.id,
            meeting_changed_at=self.meetings_changed.at,
            meeting_changed_id=self.meetings_changed.id,
        )


def _start(session: Session, now: datetime, again: bool) -> _Read:
    """What was already read: the newest checkpoint's, or (again) the newest one at least 2 x SAFETY old (else
    the oldest kept); nothing read yet: nothing."""
    checkpoint = _newest_checkpoint(session)
    if again:
        checkpoint = session.scalar(
            select(ReportCheckpoint)
            .where(ReportCheckpoint.at <= now - 2 * SAFETY)
            .order_by(ReportCheckpoint.id.desc())
            .limit(1)
        ) or session.scalar(select(ReportCheckpoint).order_by(ReportCheckpoint.id).limit(1))
    return _Read.of(checkpoint)


def _step(session: Session, now: datetime, *, again: bool) -> tuple[bool, int]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    first = _start(session, now, again)
    top_activity = session.scalar(select(func.max(Activity.id))) or 0
    top_conversation = session.scalar(select(func.max(Conversation.id))) or 0
    # SQLite gives the ids of the newest rows again once they are deleted (a purge of every row): read from the
    # first then, or the new rows would never be read.
    first_activity = 0 if top_activity < first.activity_id else first.activity_id
    first_conversation = 0 if top_conversation < first.conversation_id else first.conversation_id
    last_activity = min(top_activity, first_activity + CHUNK)
    last_conversation = min(
        top_conversation, first_conversation + CHUNK, _conversations_of(session, first_activity, last_activity)
    )
    hours = _count(session, (first_activity, last_activity), (first_conversation, last_conversation))
    changes = funnel_rollups.read_changes(session, first.conversations_changed, first.meetings_changed)
    funnel_rollups.count_spans(session, spans_of(changes.touched))
    reached = _Read(
        max(last_activity, first_activity),
        max(last_conversation, first_conversation),
        changes.conversations,
        changes.meetings,
    )
    if reached != _Read.of(_newest_checkpoint(session)) or again:
        session.add(reached.checkpoint(now))
        session.flush()
    _forget_old_checkpoints(session, now)
    done = reached.activity_id >= top_activity and reached.conversation_id >= top_conversation and changes.done
    return done, sum(1 for _ in hours)


def _conversations_of(session: Session, first: int, last: int) -> int:
    """How far the conversations read with the activities (first, last] go: up to the newest one they belong to, so
    a step of a long backlog counts the same hours from both (a conversation has about a third as many ids as its
    activities: reading as many of each recounted three times the hours). No activity waiting: no bound."""
    if last <= first:
        return 2**63
    newest = session.scalar(select(func.max(Activity.conversation_id)).where(Activity.id > first, Activity.id <= last))
    return newest if newest is not None else 2**63


def _forget_old_checkpoints(session: Session, now: datetime) -> None:
    """Keeps the newest checkpoint at least 2 x SAFETY old and the ones after it."""
    kept = session.scalar(
        select(ReportCheckpoint.id)
        .where(ReportCheckpoint.at <= now - 2 * SAFETY)
        .order_by(ReportCheckpoint.id.desc())
        .limit(1)
    )
    if kept is not None:
        session.execute(delete(ReportCheckpoint).where(ReportCheckpoint.id < kept))


# --- counting -----------------------------------------------------------------------------------------------------


def _count(session: Session, activities: tuple[int, int], conversations: tuple[int, int]) -> list[tuple[int, datetime]]:
    """Counts again every (dialogue, hour) of the activities and conversations with ids in (first, last]."""
    touched: dict[int, set[datetime]] = defaultdict(set)
    if activities[1] > activities[0]:
        hour = hour_sql(session, Activity.occurred_at)
        for dialogue_id, at in run(
            session,
            select(Activity.dialogue_id, hour)
            .where(
                Activity.id > activities[0],
                Activity.id <= activities[1],
                Activity.dialogue_id.is_not(None),
                Activity.type.in_(_COUNTED_TYPES),
            )
            .distinct(),
        ):
            touched[dialogue_id or 0].add(at)  # never 0: the query skips activities without a dialogue
        _acquire(session, activities)
    if conversations[1] > conversations[0]:
        hour = hour_sql(session, Conversation.started_at)
        for dialogue_id, at in run(
            session,
            select(Conversation.dialogue_id, hour)
            .where(Conversation.id > conversations[0], Conversation.id <= conversations[1])
            .distinct(),
        ):
            touched[dialogue_id].add(at)
    if not touched:
        return []
    spans = spans_of(touched)
    _count_hours(session, spans)
    _count_sums(session, spans)
    return [(dialogue, at) for dialogue, hours in touched.items() for at in hours]


def _acquire(session: Session, activities: tuple[int, int]) -> None:
    """Adds the people acquired by the email captures with ids in (first, last], oldest first: a capture counts
    when none of its keys was acquired by the dialogue before. A capture already in the ledger is skipped, so
    reading it again changes nothing."""
    captured = Activity.attributes["field"].as_string()
    captures = run(
        session,
        select(
            Activity.id,
            Activity.dialogue_id,
            Activity.person_id,
            Activity.occurred_at,
            Activity.attributes["value"].as_string(),
            func.coalesce(Conversation.version_id, 0),
            Conversation.page_url,
        )
        .outerjoin(Conversation, Conversation.id == Activity.conversation_id)
        .where(
            Activity.id > activities[0],
            Activity.id <= activities[1],
            Activity.type == _CAPTURE,
            Activity.dialogue_id.is_not(None),
            captured == EMAIL_FIELD,
        )
        .order_by(Activity.occurred_at, Activity.id),
    ).all()
    if not captures:
        return
    done = set(
        in_batches(
            session,
            lambda ids: select(ReportPerson.activity_id).where(ReportPerson.activity_id.in_(ids)),
            [row[0] for row in captures],
        )
    )
    keys_of = {row[0]: _keys(row[0], row[2], row[4]) for row in captures}
    wanted = {key for keys in keys_of.values() for key in keys}
    known = {
        (dialogue_id, key)
        for dialogue_id, key in in_batches(
            session, lambda keys: select(ReportPerson.dialogue_id, ReportPerson.key).where(ReportPerson.key.in_(keys)),
            sorted(wanted),
        )
    }  # fmt: skip
    added = []
    for activity_id, dialogue_id, _person, occurred_at, _email, version_id, page_url in captures:
        keys = keys_of[activity_id]
        if activity_id in done or any((dialogue_id, key) in known for key in keys):
            continue
        known.update((dialogue_id, key) for key in keys)
        for key in keys:
            added.append(
                {"dialogue_id": dialogue_id, "key": key, "activity_id": activity_id, "version_id": version_id,
                 "hour": hour_start(occurred_at), "page": page_of(page_url)}
            )  # fmt: skip
    if added:
        insert_rows(session, ReportPerson, added)


def _keys(activity_id: int, person_id: int | None, email: str | None) -> list[str]:
    """What a person acquired is known by: their row and their email (an address given again in another browser,
    not yet merged, is the same person); a capture whose person was deleted counts on its own."""
    keys = [f"p:{person_id}"] if person_id is not None else [f"a:{activity_id}"]
    if email:
        keys.append("e:" + hashlib.sha256(email.strip().casefold().encode()).hexdigest())
    return keys


def _count_hours(session: Session, spans: Hours) -> None:
    """Replaces each dialogue's hours in its span with the figures counted from the raw rows."""
    dialogues = sorted(spans)
    start = min(first for first, _ in spans.values())
    end = max(last for _, last in spans.values())
    figures: dict[tuple[int, datetime, int], Counter[str]] = defaultdict(Counter)
    goals: dict[tuple[int, datetime, int], Counter[str]] = defaultdict(Counter)
    pages: dict[tuple[int, datetime, str], Counter[str]] = defaultdict(Counter)

    def inside(dialogue_id: int, at: datetime) -> bool:
        first, last = spans[dialogue_id]
        return first <= at < last

    hour = hour_sql(session, Activity.occurred_at)
    version = func.coalesce(Conversation.version_id, 0)
    in_span = and_(Activity.dialogue_id.in_(dialogues), Activity.occurred_at >= start, Activity.occurred_at < end)
    for dialogue_id, at, version_id, kind, goal, count in run(
        session,
        select(
            Activity.dialogue_id, hour, version, Activity.type, Activity.attributes["goal"].as_string(), func.count()
        )
        .outerjoin(Conversation, Conversation.id == Activity.conversation_id)
        .where(in_span, Activity.type.in_([*_FIGURE_OF, _GOAL]))
        .group_by(text("1, 2, 3, 4, 5")),
    ):
        if not inside(dialogue_id, at):
            continue
        if kind == _GOAL:
            goals[dialogue_id, at, version_id][str(goal or "")] += count
            figures[dialogue_id, at, version_id]  # noqa: B018 (the hour has a row, even with goals only)
        else:
            figures[dialogue_id, at, version_id][_FIGURE_OF[kind]] += count
    for dialogue_id, at, page_url, kind, count in run(
        session,
        select(Activity.dialogue_id, hour, Conversation.page_url, Activity.type, func.count())
        .join(Conversation, Conversation.id == Activity.conversation_id)
        .where(in_span, Activity.type.in_(_PAGE_TYPES))
        .group_by(text("1, 2, 3, 4")),
    ):
        if dialogue_id is not None and inside(dialogue_id, at) and page_of(page_url):
            pages[dialogue_id, at, page_of(page_url)][_FIGURE_OF[kind]] += count
    for dialogue_id, at, version_id, page, count in run(session, 
        select(ReportPerson.dialogue_id, ReportPerson.hour, ReportPerson.version_id, ReportPerson.page,
               func.count(func.distinct(ReportPerson.activity_id)))
        .where(ReportPerson.dialogue_id.in_(dialogues), ReportPerson.hour >= start, ReportPerson.hour < end)
        .group_by(text("1, 2, 3, 4"))
    ):  # fmt: skip
        if inside(dialogue_id, at):
            figures[dialogue_id, at, version_id]["people_acquired"] += count
            if page:
                pages[dialogue_id, at, page]["people_acquired"] += count
    started = hour_sql(session, Conversation.started_at)
    for dialogue_id, at, version_id, count in run(
        session,
        select(Conversation.dialogue_id, started, Conversation.version_id, func.count())
        .where(Conversation.dialogue_id.in_(dialogues), Conversation.started_at >= start, Conversation.started_at < end)
        .group_by(text("1, 2, 3")),
    ):
        if inside(dialogue_id, at):
            figures[dialogue_id, at, version_id]["conversations"] += count

    for model in (ReportHour, ReportPageHour):
        delete_spans(session, table_of(model), spans)
    if figures:
        insert_rows(session, 
            ReportHour,
            [{"dialogue_id": d, "hour": at, "version_id": v, **{name: counts[name] for name in COUNTS},
              "goals": dict(goals[d, at, v])} for (d, at, v), counts in figures.items()],
        )  # fmt: skip
    if pages:
        insert_rows(session, 
            ReportPageHour,
            [{"dialogue_id": d, "hour": at, "page": page, **{name: counts[name] for name in PAGE_COUNTS}}
             for (d, at, page), counts in pages.items()],
        )  # fmt: skip


def _count_sums(session: Session, spans: Hours) -> None:
    """Counts again the dashboard's sums over the spans, from the hours just counted (never from raw rows: sums of
    rollups stay right after the raw rows are purged)."""
    start = min(first for first, _ in spans.values())
    end = max(last for _, last in spans.values())
    first_day, last_day = start.date(), (end - HOUR).date()
    day_start = datetime.combine(first_day, time(), UTC)
    day_end = datetime.combine(last_day + DAY, time(), UTC)
    sums = [func.sum(getattr(ReportHour, name)) for name in COUNTS]

    totals = {
        at: dict(zip(COUNTS, counts, strict=True))
        for at, *counts in run(
            session,
            select(ReportHour.hour, *sums)
            .where(ReportHour.hour >= start, ReportHour.hour < end)
            .group_by(ReportHour.hour),
        )
    }
    total_goals: dict[datetime, Counter[str]] = defaultdict(Counter)
    for at, goals in run(
        session, select(ReportHour.hour, ReportHour.goals).where(ReportHour.hour >= start, ReportHour.hour < end)
    ):
        total_goals[at].update(goals or {})
    _replace(
        session,
        delete(ReportTotalHour).where(ReportTotalHour.hour >= start, ReportTotalHour.hour < end),
        ReportTotalHour,
        [{"hour": at, **counts, "goals": dict(total_goals[at])} for at, counts in totals.items()],
    )

    dialogues = sorted(spans)
    days: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for dialogue_id, at, *counts in run(
        session,
        select(ReportHour.dialogue_id, ReportHour.hour, *[getattr(ReportHour, name) for name in COUNTS]).where(
            ReportHour.dialogue_id.in_(dialogues), ReportHour.hour >= day_start, ReportHour.hour < day_end
        ),
    ):
        days[dialogue_id, at.date()].update(dict(zip(COUNTS, counts, strict=True)))
    _replace(
        session,
        delete(ReportDay).where(
            ReportDay.dialogue_id.in_(dialogues), ReportDay.day >= first_day, ReportDay.day <= last_day
        ),
        ReportDay,
        [{"dialogue_id": d, "day": day, **counts} for (d, day), counts in days.items()],
    )

    page_sums = [func.sum(getattr(ReportPageHour, name)) for name in PAGE_COUNTS]
    page_totals = [
        {"hour": at, "page": page, **dict(zip(PAGE_COUNTS, counts, strict=True))}
        for at, page, *counts in run(
            session,
            select(ReportPageHour.hour, ReportPageHour.page, *page_sums)
            .where(ReportPageHour.hour >= start, ReportPageHour.hour < end)
            .group_by(ReportPageHour.hour, ReportPageHour.page),
        )
    ]
    _replace(
        session,
        delete(ReportPageTotalHour).where(ReportPageTotalHour.hour >= start, ReportPageTotalHour.hour < end),
        ReportPageTotalHour,
        page_totals,
    )
    page_days: dict[tuple[date, str], Counter[str]] = defaultdict(Counter)
    for at, page, *counts in run(session, 
        select(ReportPageTotalHour.hour, ReportPageTotalHour.page,
               *[getattr(ReportPageTotalHour, name) for name in PAGE_COUNTS])
        .where(ReportPageTotalHour.hour >= day_start, ReportPageTotalHour.hour < day_end)
    ):  # fmt: skip
        page_days[at.date(), page].update(dict(zip(PAGE_COUNTS, counts, strict=True)))
    _replace(
        session,
        delete(ReportPageDay).where(ReportPageDay.day >= first_day, ReportPageDay.day <= last_day),
        ReportPageDay,
        [{"day": day, "page": page, **counts} for (day, page), counts in page_days.items()],
    )


def _replace(session: Session, removal: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    run(session, removal)
    insert_rows(session, table, rows)
