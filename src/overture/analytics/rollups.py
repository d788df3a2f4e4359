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
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
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
from overture.conversations.models import Conversation
from overture.db import Database, UTCDateTime

HOUR = timedelta(hours=1)
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
_BATCH = 5_000  # values in one IN list (SQLite's limit on bound parameters is 32,766)
_LOCK = 740_014  # PostgreSQL advisory lock: one catch-up at a time

Hours = dict[int, tuple[datetime, datetime]]  # dialogue id -> [first hour, end) to count again


def page_of(url: str | None) -> str:
    """The page a figure counts on: its URL without query string or fragment."""
    return (url or "").split("#", 1)[0].split("?", 1)[0][:PAGE_LENGTH]


def hour_start(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_sql(session: Session, column: Any) -> ColumnElement[datetime]:
    """The UTC hour an instant falls in, computed by the database. Literals, not bound parameters: PostgreSQL
    matches a GROUP BY expression to the selected one by its text."""
    if session.get_bind().dialect.name == "sqlite":
        expression = func.strftime(literal_column("'%Y-%m-%d %H:00:00'"), column)
    else:
        expression = func.date_trunc(literal_column("'hour'"), func.timezone(literal_column("'UTC'"), column))
    return type_coerce(expression, UTCDateTime())


# --- catching up ------------------------------------------------------------------------------------------------


def behind(session: Session) -> int:
    """How many activity (or conversation) ids were recorded after the newest checkpoint: a count of ids, not of
    rows. Ids given again after a purge of every row (SQLite) count from the first."""
    newest = _newest_checkpoint(session)
    top = session.scalar(select(func.max(Activity.id))) or 0
    top_conversation = session.scalar(select(func.max(Conversation.id))) or 0
    read, read_conversation = (newest.activity_id, newest.conversation_id) if newest is not None else (0, 0)
    return max(
        top - (read if read <= top else 0),
        top_conversation - (read_conversation if read_conversation <= top_conversation else 0),
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


def _start(session: Session, now: datetime, again: bool) -> tuple[int, int]:
    """The ids already read: the newest checkpoint's, or (again) the newest one at least 2 x SAFETY old (else
    the oldest kept); nothing read yet: 0."""
    checkpoint = _newest_checkpoint(session)
    if again:
        checkpoint = session.scalar(
            select(ReportCheckpoint)
            .where(ReportCheckpoint.at <= now - 2 * SAFETY)
            .order_by(ReportCheckpoint.id.desc())
            .limit(1)
        ) or session.scalar(select(ReportCheckpoint).order_by(ReportCheckpoint.id).limit(1))
    return (checkpoint.activity_id, checkpoint.conversation_id) if checkpoint is not None else (0, 0)


def _step(session: Session, now: datetime, *, again: bool) -> tuple[bool, int]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    first_activity, first_conversation = _start(session, now, again)
    top_activity = session.scalar(select(func.max(Activity.id))) or 0
    top_conversation = session.scalar(select(func.max(Conversation.id))) or 0
    # SQLite gives the ids of the newest rows again once they are deleted (a purge of every row): read from the
    # first then, or the new rows would never be read.
    first_activity = 0 if top_activity < first_activity else first_activity
    first_conversation = 0 if top_conversation < first_conversation else first_conversation
    last_activity = min(top_activity, first_activity + CHUNK)
    last_conversation = min(
        top_conversation, first_conversation + CHUNK, _conversations_of(session, first_activity, last_activity)
    )
    hours = _count(session, (first_activity, last_activity), (first_conversation, last_conversation))
    newest = _newest_checkpoint(session)
    reached = (max(last_activity, first_activity), max(last_conversation, first_conversation))
    if newest is None or (newest.activity_id, newest.conversation_id) != reached or again:
        session.add(ReportCheckpoint(at=now, activity_id=reached[0], conversation_id=reached[1]))
        session.flush()
    _forget_old_checkpoints(session, now)
    done = reached[0] >= top_activity and reached[1] >= top_conversation
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
        hour = _hour_sql(session, Activity.occurred_at)
        for dialogue_id, at in _run(
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
        hour = _hour_sql(session, Conversation.started_at)
        for dialogue_id, at in _run(
            session,
            select(Conversation.dialogue_id, hour)
            .where(Conversation.id > conversations[0], Conversation.id <= conversations[1])
            .distinct(),
        ):
            touched[dialogue_id].add(at)
    if not touched:
        return []
    spans: Hours = {dialogue: (min(hours), max(hours) + HOUR) for dialogue, hours in touched.items()}
    _count_hours(session, spans)
    _count_sums(session, spans)
    return [(dialogue, at) for dialogue, hours in touched.items() for at in hours]


def _acquire(session: Session, activities: tuple[int, int]) -> None:
    """Adds the people acquired by the email captures with ids in (first, last], oldest first: a capture counts
    when none of its keys was acquired by the dialogue before. A capture already in the ledger is skipped, so
    reading it again changes nothing."""
    captured = Activity.attributes["field"].as_string()
    captures = _run(
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
        _in_batches(
            session,
            lambda ids: select(ReportPerson.activity_id).where(ReportPerson.activity_id.in_(ids)),
            [row[0] for row in captures],
        )
    )
    keys_of = {row[0]: _keys(row[0], row[2], row[4]) for row in captures}
    wanted = {key for keys in keys_of.values() for key in keys}
    known = {
        (dialogue_id, key)
        for dialogue_id, key in _in_batches(
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
        _insert(session, ReportPerson, added)


def _keys(activity_id: int, person_id: int | None, email: str | None) -> list[str]:
    """What a person acquired is known by: their row and their email (an address given again in another browser,
    not yet merged, is the same person); a capture whose person was deleted counts on its own."""
    keys = [f"p:{person_id}"] if person_id is not None else [f"a:{activity_id}"]
    if email:
        keys.append("e:" + hashlib.sha256(email.strip().casefold().encode()).hexdigest())
    return keys


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _run(session: Session, statement: Any, parameters: Any = None) -> Any:
    """Runs a statement on the session's connection: rows come back as plain tuples, without the ORM's layer
    (the catch-up of a large log reads and writes millions of them)."""
    return session.connection().execute(statement, parameters)


def _in_batches(session: Session, statement: Any, values: Sequence[Any]) -> Iterable[Any]:
    for start in range(0, len(values), _BATCH):
        batch = values[start : start + _BATCH]
        rows = _run(session, statement(batch))
        yield from (row[0] if len(row) == 1 else tuple(row) for row in rows)


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

    hour = _hour_sql(session, Activity.occurred_at)
    version = func.coalesce(Conversation.version_id, 0)
    in_span = and_(Activity.dialogue_id.in_(dialogues), Activity.occurred_at >= start, Activity.occurred_at < end)
    for dialogue_id, at, version_id, kind, goal, count in _run(
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
    for dialogue_id, at, page_url, kind, count in _run(
        session,
        select(Activity.dialogue_id, hour, Conversation.page_url, Activity.type, func.count())
        .join(Conversation, Conversation.id == Activity.conversation_id)
        .where(in_span, Activity.type.in_(_PAGE_TYPES))
        .group_by(text("1, 2, 3, 4")),
    ):
        if dialogue_id is not None and inside(dialogue_id, at) and page_of(page_url):
            pages[dialogue_id, at, page_of(page_url)][_FIGURE_OF[kind]] += count
    for dialogue_id, at, version_id, page, count in _run(session, 
        select(ReportPerson.dialogue_id, ReportPerson.hour, ReportPerson.version_id, ReportPerson.page,
               func.count(func.distinct(ReportPerson.activity_id)))
        .where(ReportPerson.dialogue_id.in_(dialogues), ReportPerson.hour >= start, ReportPerson.hour < end)
        .group_by(text("1, 2, 3, 4"))
    ):  # fmt: skip
        if inside(dialogue_id, at):
            figures[dialogue_id, at, version_id]["people_acquired"] += count
            if page:
                pages[dialogue_id, at, page]["people_acquired"] += count
    started = _hour_sql(session, Conversation.started_at)
    for dialogue_id, at, version_id, count in _run(
        session,
        select(Conversation.dialogue_id, started, Conversation.version_id, func.count())
        .where(Conversation.dialogue_id.in_(dialogues), Conversation.started_at >= start, Conversation.started_at < end)
        .group_by(text("1, 2, 3")),
    ):
        if inside(dialogue_id, at):
            figures[dialogue_id, at, version_id]["conversations"] += count

    for model in (ReportHour, ReportPageHour):
        _delete_spans(session, _table(model), spans)
    if figures:
        _insert(session, 
            ReportHour,
            [{"dialogue_id": d, "hour": at, "version_id": v, **{name: counts[name] for name in COUNTS},
              "goals": dict(goals[d, at, v])} for (d, at, v), counts in figures.items()],
        )  # fmt: skip
    if pages:
        _insert(session, 
            ReportPageHour,
            [{"dialogue_id": d, "hour": at, "page": page, **{name: counts[name] for name in PAGE_COUNTS}}
             for (d, at, page), counts in pages.items()],
        )  # fmt: skip


def _delete_spans(session: Session, table: Table, spans: Hours) -> None:
    """Deletes each dialogue's rows of `table` in its span. PostgreSQL takes every span in one statement (one
    DELETE per dialogue, 500 a step, took a third of a big catch-up); SQLite runs one prepared statement per span."""
    if session.get_bind().dialect.name == "postgresql":
        dialogues = list(spans)
        _run(
            session,
            text(
                f"DELETE FROM {table.name} AS counted"  # a table of ours, never input
                " USING unnest(CAST(:dialogues AS integer[]), CAST(:firsts AS timestamptz[]),"
                " CAST(:lasts AS timestamptz[])) AS span(dialogue_id, first, last)"
                " WHERE counted.dialogue_id = span.dialogue_id AND counted.hour >= span.first"
                " AND counted.hour < span.last"
            ),
            {
                "dialogues": dialogues,
                "firsts": [spans[dialogue][0] for dialogue in dialogues],
                "lasts": [spans[dialogue][1] for dialogue in dialogues],
            },
        )
        return
    _run(
        session,
        delete(table).where(
            table.c.dialogue_id == bindparam("d"), table.c.hour >= bindparam("first"), table.c.hour < bindparam("last")
        ),
        [{"d": dialogue, "first": first, "last": last} for dialogue, (first, last) in spans.items()],
    )


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
        for at, *counts in _run(
            session,
            select(ReportHour.hour, *sums)
            .where(ReportHour.hour >= start, ReportHour.hour < end)
            .group_by(ReportHour.hour),
        )
    }
    total_goals: dict[datetime, Counter[str]] = defaultdict(Counter)
    for at, goals in _run(
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
    for dialogue_id, at, *counts in _run(
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
        for at, page, *counts in _run(
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
    for at, page, *counts in _run(session, 
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
    _run(session, removal)
    _insert(session, table, rows)


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Inserts the rows. PostgreSQL takes them as one array per column in one statement (a step writes some
    100,000 rows: one by one took longer than counting them); SQLite runs one prepared statement per row."""
    if not rows:
        return
    table = _table(model)
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        _run(session, insert(table), rows)
        return
    names = list(rows[0])
    arrays = {}
    for name in names:
        values = [row[name] for row in rows]
        arrays[name] = [json.dumps(value) for value in values] if isinstance(table.c[name].type, JSON) else values
    types = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in names)
    _run(
        session,
        text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({types})"),
        arrays,
    )
