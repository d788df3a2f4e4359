"""The funnel's rollups (analytics/models.py `ReportFunnelCard`, `ReportFunnelMeetings`): for the conversations
started in each UTC hour on each version of a dialogue, the cards they entered and stopped at, the answers they
chose, and the meetings they booked, held or missed. The funnel (funnel.py) sums them; it never reads the
conversations, so a busy dialogue's report stays fast and its funnel outlives the raw conversations (24 months).

A conversation changes until it ends (each answer writes its `updated_at`), and a meeting when it is held, missed
or cancelled. The reports' job (rollups.py, one step at a time) reads the changes since its checkpoint in the order
of `(updated_at, id)` and counts again, from the conversations, every (dialogue, start hour) they touch: the whole
hour is replaced, so counting an hour twice gives the same rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, text, tuple_
from sqlalchemy.orm import Session

from overture.analytics.answers import Choices, Versions, chosen
from overture.analytics.models import ReportFunnelCard, ReportFunnelMeetings
from overture.analytics.rollup_sql import Hours, delete_spans, hour_sql, hour_start, insert_rows, run, table_of
from overture.conversations.models import Conversation
from overture.scheduling.models import Meeting

# Changed conversations (and meetings) read per step.
CHUNK = 100_000
_READ_BATCH = 1_000  # conversations fetched at a time while counting: a busy span is never held in memory at once


@dataclass(frozen=True)
class Position:
    """How far the changes of a table were read: the newest `(updated_at, id)` seen (None: nothing yet)."""

    at: datetime | None = None
    id: int = 0


@dataclass
class Changes:
    """What a step read: the (dialogue, start hour) its changes touch, and how far each table was read."""

    touched: dict[int, set[datetime]]
    conversations: Position
    meetings: Position
    done: bool


def read_changes(session: Session, conversations: Position, meetings: Position) -> Changes:
    """The conversations and meetings changed after the positions, at most CHUNK of each, oldest change first."""
    limit = CHUNK
    touched: dict[int, set[datetime]] = defaultdict(set)
    started = hour_sql(session, Conversation.started_at)

    conversation_rows = run(
        session,
        select(Conversation.dialogue_id, started, Conversation.updated_at, Conversation.id)
        .where(*_after(Conversation.updated_at, Conversation.id, conversations))
        .order_by(Conversation.updated_at, Conversation.id)
        .limit(limit),
    ).all()
    for dialogue_id, hour, _at, _id in conversation_rows:
        touched[dialogue_id].add(hour)

    meeting_changes = _after(Meeting.updated_at, Meeting.id, meetings)
    if len(conversation_rows) == limit:
        # A backlog: the meetings changed up to the last conversation change read, so that both count the same
        # hours (meetings are a few in a hundred conversations: as many of them spanned the whole log at once).
        meeting_changes.append(Meeting.updated_at <= conversation_rows[-1][2])
    meeting_rows = run(
        session,
        select(Conversation.dialogue_id, started, Meeting.updated_at, Meeting.id)
        .join(Conversation, Conversation.id == Meeting.conversation_id)
        .where(*meeting_changes)
        .order_by(Meeting.updated_at, Meeting.id)
        .limit(limit),
    ).all()
    for dialogue_id, hour, _at, _id in meeting_rows:
        touched[dialogue_id].add(hour)

    return Changes(
        touched=touched,
        conversations=Position(*conversation_rows[-1][2:]) if conversation_rows else conversations,
        meetings=Position(*meeting_rows[-1][2:]) if meeting_rows else meetings,
        done=len(conversation_rows) < limit and len(meeting_rows) < limit,
    )


def count_changes(session: Session, conversations: Position, meetings: Position, limit: int) -> int:
    """How many conversations and meetings changed after the positions, counting up to `limit` of each."""
    waiting = 0
    for first in (
        select(Conversation.id).where(*_after(Conversation.updated_at, Conversation.id, conversations)).limit(limit),
        select(Meeting.id).where(*_after(Meeting.updated_at, Meeting.id, meetings)).limit(limit),
    ):
        waiting += session.scalar(select(func.count()).select_from(first.subquery())) or 0
    return waiting


def _after(updated_at: Any, row_id: Any, position: Position) -> list[Any]:
    if position.at is None:
        return []
    return [tuple_(updated_at, row_id) > tuple_(position.at, position.id)]


def count_spans(session: Session, spans: Hours) -> None:
    """Replaces each dialogue's funnel rows in its span with what its conversations started there say now."""
    if not spans:
        return
    dialogues = sorted(spans)
    start = min(first for first, _ in spans.values())
    end = max(last for _, last in spans.values())
    in_span = (
        Conversation.dialogue_id.in_(dialogues),
        Conversation.started_at >= start,
        Conversation.started_at < end,
    )

    def inside(dialogue_id: int, at: datetime) -> bool:
        first, last = spans[dialogue_id]
        return first <= at < last

    reached: Counter[tuple[int, datetime, int, str]] = Counter()
    dropped: Counter[tuple[int, datetime, int, str]] = Counter()
    answers: dict[tuple[int, datetime, int, str], Counter[str]] = defaultdict(Counter)
    choices = Choices(session)
    statement = select(
        Conversation.dialogue_id,
        Conversation.started_at,
        Conversation.version_id,
        Conversation.flow_version_ids,
        Conversation.cards,
        Conversation.last_card,
        Conversation.status,
        Conversation.state["transcript"].label("transcript"),
    ).where(*in_span)
    rows = session.execute(statement.execution_options(yield_per=_READ_BATCH))
    for dialogue_id, started_at, version_id, flow_version_ids, cards, last_card, status, transcript in rows:
        hour = hour_start(started_at)
        if not inside(dialogue_id, hour):
            continue
        for card in cards or []:
            reached[dialogue_id, hour, version_id, card] += 1
        if status != "completed" and last_card is not None:
            dropped[dialogue_id, hour, version_id, last_card] += 1
        versions = Versions(version_id, flow_version_ids or {})
        for card, label in set(chosen(choices, versions, transcript or [])):
            answers[dialogue_id, hour, version_id, card][label] += 1

    started = hour_sql(session, Conversation.started_at)
    meetings = run(
        session,
        select(
            Conversation.dialogue_id,
            started,
            Conversation.version_id,
            func.count(func.distinct(Meeting.conversation_id)),
            func.count(func.distinct(case((Meeting.status == "held", Meeting.conversation_id)))),
            func.count(func.distinct(case((Meeting.status == "no_show", Meeting.conversation_id)))),
        )
        .join(Conversation, Conversation.id == Meeting.conversation_id)
        .where(*in_span)
        .group_by(text("1, 2, 3")),
    ).all()

    delete_spans(session, table_of(ReportFunnelCard), spans)
    delete_spans(session, table_of(ReportFunnelMeetings), spans)
    keys = set(reached) | set(dropped) | set(answers)
    insert_rows(
        session,
        ReportFunnelCard,
        [{"dialogue_id": d, "hour": at, "version_id": v, "card": card, "reached": reached[d, at, v, card],
          "dropped": dropped[d, at, v, card], "answers": dict(answers[d, at, v, card]) or None}
         for d, at, v, card in sorted(keys)],
    )  # fmt: skip
    insert_rows(
        session,
        ReportFunnelMeetings,
        [{"dialogue_id": d, "hour": at, "version_id": v, "booked": booked, "held": held, "no_show": no_show}
         for d, at, v, booked, held, no_show in meetings if inside(d, at)],
    )  # fmt: skip
