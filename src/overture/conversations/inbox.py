"""The Conversations inbox: every conversation, newest first, read from the conversations table as it is written
(nothing to wait for), filtered by dialogue, outcome, page, days and a person or company search; one conversation
with its transcript, person, company, fields captured, goals and meetings; the CSV export (docs/conversations.md).

Pages are cut by a keyset cursor on (started_at, id), never by OFFSET: a page costs the same deep in the list as at
its top, and conversations that start while someone pages (they come first) neither repeat a row nor hide one. Each
filter a marketer uses alone reads an index in the list's order (migration 0014): the list, a dialogue, each outcome
(the `engaged`, `reached_goal` and `booked_meeting` columns service.py sets, and the status), a period of days.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import hmac
import io
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session, defer

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.conversations.history import transcript_lines
from overture.conversations.models import Conversation
from overture.dialogues import service as dialogues
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import InvalidInput, NotFound, Problem
from overture.people import directory
from overture.people.models import Company, Person
from overture.people.schemas import CompanyRef, TranscriptLine
from overture.people.service import field_schema
from overture.scheduling import meeting_list
from overture.scheduling.clock import load_zone
from overture.scheduling.meeting_list import MeetingRow, csv_cell, utc_text
from overture.scheduling.models import Meeting

OUTCOMES = ("engaged", "completed", "goal", "meeting", "dropped")
OUTCOME_LABELS = {
    "engaged": "Engaged",
    "completed": "Completed",
    "goal": "Goal reached",
    "meeting": "Meeting booked",
    "dropped": "Dropped",
}
STATUS_LABELS = {
    "active": "Open",
    "completed": "Completed",
    "dismissed": "Closed by the visitor",
    "dropped": "Silent for a visitor session",
}
LEFT = ("dismissed", "dropped")  # ended before the end: closed by the visitor, or silent for a visitor session
PAGE_SIZE = 50
MAX_PAGE = 200
EXPORT_BATCH = 500
DELETED_VISITOR = "Deleted visitor"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# --- the filters -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The list's filters, as given (each None: not filtered). `first`/`last`: calendar days of the start, both
    counted, in `zone`; `page`: words in the address of the page the conversation started on; `q`: words that each
    start a name, an email or a company name (or domain) of the person."""

    dialogue: str | None = None
    outcome: str | None = None
    page: str | None = None
    first: date | None = None
    last: date | None = None
    zone: str = "UTC"
    q: str | None = None

    def fingerprint(self) -> str:
        """What a cursor is checked against: a cursor serves only the filters it was made for."""
        return repr(astuple(self))


def _outcome_condition(outcome: str) -> ColumnElement[bool]:
    # `= true`, not `IS TRUE`: PostgreSQL reads an index only for the first.
    match outcome:
        case "engaged":
            return Conversation.engaged == true()
        case "completed":
            return Conversation.status == "completed"
        case "goal":
            return Conversation.reached_goal == true()
        case "meeting":
            return Conversation.booked_meeting == true()
        case _:  # dropped
            return and_(Conversation.engaged == true(), Conversation.status.in_(LEFT))


def _bounds(filters: Filters, problems: list[Problem]) -> tuple[datetime | None, datetime | None]:
    """The UTC instants [start, end) of the days asked for: from the local midnight that starts `first` to the one
    that ends `last` (a day of a DST change is 23 or 25 hours long)."""
    try:
        zone = load_zone(filters.zone, "zone")
    except InvalidInput as exc:
        problems.extend(exc.problems)
        return None, None
    if filters.first and filters.last and filters.first > filters.last:
        problems.append(Problem("from", f"{filters.first} is after to ({filters.last}): give the first day first."))
        return None, None
    start = datetime.combine(filters.first, time(), zone) if filters.first else None
    end = datetime.combine(filters.last + timedelta(days=1), time(), zone) if filters.last else None
    return start, end


def _conditions(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    """The filters as conditions on conversations. Raises InvalidInput naming every parameter that is wrong."""
    problems: list[Problem] = []
    conditions: list[ColumnElement[bool]] = []
    dialect = session.get_bind().dialect.name
    if filters.dialogue:
        dialogue = dialogues.find(session, filters.dialogue)
        if dialogue is None:
            problems.append(Problem("dialogue", f"there is no dialogue with the key {filters.dialogue!r}."))
        else:
            conditions.append(Conversation.dialogue_id == dialogue.id)
    if filters.outcome:
        if filters.outcome in OUTCOMES:
            conditions.append(_outcome_condition(filters.outcome))
        else:
            problems.append(Problem("outcome", f"the outcome must be one of {', '.join(OUTCOMES)}."))
    start, end = _bounds(filters, problems)
    if start is not None:
        conditions.append(Conversation.started_at >= start)
    if end is not None:
        conditions.append(Conversation.started_at < end)
    if filters.page and filters.page.strip():
        pattern = "%" + directory.escaped_like(filters.page.strip()) + "%"
        conditions.append(directory.like_any_case(Conversation.page_url, pattern, dialect))
    terms = directory.search_terms(filters.q)
    if terms:
        # The people first, by the name and email indexes; then their conversations by `person_id`'s index. When
        # the terms match many people, the list is read in its order, checking each conversation's person.
        found = directory.matching_people(session, terms)
        if found is None:
            matches = (directory.person_matches(term) for term in terms)
            conditions.append(exists().where(Person.id == Conversation.person_id, *matches))
        else:
            conditions.append(directory.among(Conversation.person_id, found, dialect))
    if problems:
        raise InvalidInput("The conversation filters are not valid.", problems)
    return conditions


def dialogue_choices(session: Session) -> list[tuple[str, str]]:
    """Every dialogue and reusable flow as (key, name), by name: what the dialogue filter offers."""
    rows = session.execute(select(Dialogue.key, Dialogue.name).order_by(Dialogue.name, Dialogue.key))
    return [(key, name) for key, name in rows]


def check(session: Session, filters: Filters) -> None:
    """Raises InvalidInput when the filters are wrong (before a CSV starts streaming, when nothing can be said)."""
    _conditions(session, filters)


# --- the cursor --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: its last row's (started_at, id). Given out opaque, with a check of its content and of
    the filters it was made for, so an edited cursor, or one used with other filters, is refused rather than
    silently starting somewhere else."""

    started_at: datetime
    id: int

    def encode(self, filters: Filters) -> str:
        body = f"{(self.started_at - _EPOCH) // _MICROSECOND}.{self.id}"
        text = f"{body}.{_check(body, filters)}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, filters: Filters) -> Cursor:
        """Raises InvalidInput for a cursor this list did not give out for these filters."""
        refused = InvalidInput(
            "The cursor is not one this list gave out for these filters. Start again from the first page.",
            [Problem("cursor", "use the `next` of the previous page, with the same filters.")],
        )
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
            micros, row_id, check = decoded.split(".")
            body = f"{int(micros)}.{int(row_id)}"
            at = _EPOCH + timedelta(microseconds=int(micros))
        except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
            raise refused from None
        if body != f"{micros}.{row_id}" or not hmac.compare_digest(check, _check(body, filters)):
            raise refused
        return cls(at, int(row_id))


def _check(body: str, filters: Filters) -> str:
    return hashlib.sha256(f"{body}|{filters.fingerprint()}".encode()).hexdigest()[:16]


def _after(cursor: Cursor) -> ColumnElement[bool]:
    """Rows after the cursor in the list's order, written so that `started_at <=` bounds an index range."""
    return and_(
        Conversation.started_at <= cursor.started_at,
        or_(Conversation.started_at < cursor.started_at, Conversation.id < cursor.id),
    )


# --- what is shown -----------------------------------------------------------------------------------------------


class PersonBrief(BaseModel):
    id: int
    name: str = Field(description="First and last name, else the email, else 'Anonymous visitor'.")
    email: str | None = Field(description="Their email, else the one this browser typed that belongs to another.")


class ConversationRow(BaseModel):
    """One conversation as the list and its CSV show it. Times are UTC."""

    public_id: str
    dialogue_key: str
    dialogue_name: str
    version: int = Field(description="The version of the dialogue it runs on.")
    status: str = Field(description="active, completed, dismissed (closed by the visitor) or dropped (left).")
    status_label: str
    outcomes: list[str] = Field(description="What it came to: engaged, completed, goal, meeting, dropped.")
    started_at: datetime
    ended_at: datetime | None
    updated_at: datetime
    page_url: str = Field(description="The page it started on.")
    person: PersonBrief | None = Field(description="None when the person was deleted at their request.")
    company: CompanyRef | None


class ConversationPage(BaseModel):
    items: list[ConversationRow]
    next: str | None = Field(description="Pass as `cursor`, with the same filters, for the next page; null: last.")


class CapturedField(BaseModel):
    name: str = Field(description="The dotted field name, e.g. `person.email`.")
    label: str
    value: Any = Field(description="What the visitor gave; null once the person was deleted.")
    captured_at: datetime


class GoalOut(BaseModel):
    name: str
    score: int | None
    reached_at: datetime


class ConversationDetail(ConversationRow):
    language: str | None
    time_zone: str | None = Field(description="The visitor's time zone as their browser said.")
    steps: int = Field(description="Steps the visitor took (answers, going back, starting over).")
    transcript: list[TranscriptLine] = Field(description="Empty once the person was deleted.")
    fields: list[CapturedField] = Field(description="What the visitor typed or chose into fields, in order.")
    goals: list[GoalOut]
    meetings: list[MeetingRow] = Field(description="The meetings booked in it (usually one), as on Meetings.")


def outcomes_of(conversation: Any) -> list[str]:
    """The outcomes a conversation (a row with its status and flags) came to, in OUTCOMES' order."""
    found = {
        "engaged": conversation.engaged,
        "completed": conversation.status == "completed",
        "goal": conversation.reached_goal,
        "meeting": conversation.booked_meeting,
        "dropped": conversation.engaged and conversation.status in LEFT,
    }
    return [outcome for outcome in OUTCOMES if found[outcome]]


_ROW = (
    select(Conversation, Dialogue.key, Dialogue.name, DialogueVersion.number, Person, Company)
    .join(Dialogue, Dialogue.id == Conversation.dialogue_id)
    .join(DialogueVersion, DialogueVersion.id == Conversation.version_id)
    .outerjoin(Person, Person.id == Conversation.person_id)
    .outerjoin(Company, Company.id == Person.company_id)
)


def _row(row: Any) -> ConversationRow:
    conversation, key, name, version, person, company = row
    return ConversationRow(
        public_id=conversation.public_id,
        dialogue_key=key,
        dialogue_name=name,
        version=version,
        status=conversation.status,
        status_label=STATUS_LABELS.get(conversation.status, conversation.status),
        outcomes=outcomes_of(conversation),
        started_at=conversation.started_at,
        ended_at=conversation.ended_at,
        updated_at=conversation.updated_at,
        page_url=conversation.page_url,
        person=PersonBrief(id=person.id, name=directory.display_name(person), email=person.contact_email)
        if person
        else None,
        company=CompanyRef(id=company.id, name=company.name, domain=company.domain) if company else None,
    )


def _rows(session: Session, ids: Sequence[int]) -> list[ConversationRow]:
    """The rows of these conversations, in the order given. Loaded by primary key once the page is cut, so only
    (started_at, id) go through the filtered, ordered read; the transcript (state) is not loaded."""
    if not ids:
        return []
    query = _ROW.where(Conversation.id.in_(ids)).options(defer(Conversation.state))
    found = {row[0].id: _row(row) for row in session.execute(query)}
    return [found[i] for i in ids if i in found]


# --- the list, one conversation, the CSV ---------------------------------------------------------------------------


def _keys(
    session: Session, conditions: Sequence[ColumnElement[bool]], after: Cursor | None, limit: int
) -> list[tuple[int, datetime]]:
    query = select(Conversation.id, Conversation.started_at).where(*conditions)
    if after is not None:
        query = query.where(_after(after))
    query = query.order_by(Conversation.started_at.desc(), Conversation.id.desc()).limit(limit)
    return [(row.id, row.started_at) for row in session.execute(query)]


def list_conversations(
    session: Session, filters: Filters = Filters(), *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> ConversationPage:
    """One page of the conversations matching `filters`, newest first, after `cursor` (the `next` of the page
    before). Raises InvalidInput naming a wrong filter, a cursor not given out for these filters, or a limit out of
    1 to MAX_PAGE."""
    problems: list[Problem] = []
    if not 1 <= limit <= MAX_PAGE:
        problems.append(Problem("limit", f"the page size must be between 1 and {MAX_PAGE}."))
    try:
        conditions = _conditions(session, filters)
    except InvalidInput as exc:
        problems = exc.problems + problems
    if problems:
        raise InvalidInput("The conversation filters are not valid.", problems)
    after = Cursor.decode(cursor, filters) if cursor else None
    keys = _keys(session, conditions, after, limit + 1)
    page, more = keys[:limit], len(keys) > limit
    next_cursor = Cursor(page[-1][1], page[-1][0]).encode(filters) if more else None
    return ConversationPage(items=_rows(session, [i for i, _ in page]), next=next_cursor)


def get(session: Session, public_id: str, now: datetime) -> ConversationDetail:
    """One conversation with its transcript, fields captured, goals and meetings. Raises NotFound."""
    found = session.execute(_ROW.where(Conversation.public_id == public_id)).first()
    if found is None:
        raise NotFound("There is no such conversation: it may have been deleted.")
    conversation = found[0]
    activities = session.execute(
        select(Activity.type, Activity.attributes, Activity.occurred_at)
        .where(
            Activity.conversation_id == conversation.id,
            Activity.type.in_([ActivityType.field_captured.value, ActivityType.goal_reached.value]),
        )
        .order_by(Activity.occurred_at, Activity.id)
    ).all()
    schema = field_schema(session)
    fields, goals = [], []
    for kind, attributes, at in activities:
        attributes = attributes or {}
        if kind == ActivityType.goal_reached.value:
            goals.append(GoalOut(name=str(attributes.get("goal", "")), score=attributes.get("score"), reached_at=at))
            continue
        name = str(attributes.get("field", ""))
        spec = schema.get(name)
        label = spec.label if spec else name
        fields.append(CapturedField(name=name, label=label, value=attributes.get("value"), captured_at=at))
    meetings = (
        session.scalars(select(Meeting).where(Meeting.conversation_id == conversation.id).order_by(Meeting.id)).all()
        if conversation.booked_meeting
        else []
    )
    return ConversationDetail(
        **_row(found).model_dump(),
        language=conversation.language,
        time_zone=conversation.time_zone,
        steps=conversation.step,
        transcript=transcript_lines(conversation),
        fields=fields,
        goals=goals,
        meetings=[meeting_list.meeting_row(session, meeting, now) for meeting in meetings],
    )


CSV_COLUMNS = (
    "conversation", "start (UTC)", "end (UTC)", "dialogue", "version", "status", "outcomes", "person", "email",
    "company", "page",
)  # fmt: skip


def _csv_values(row: ConversationRow) -> tuple[object, ...]:
    person, company = row.person, row.company
    return (
        row.public_id,
        utc_text(row.started_at),
        utc_text(row.ended_at),
        row.dialogue_name,
        row.version,
        row.status_label,
        "; ".join(row.outcomes),
        person.name if person else DELETED_VISITOR,
        person.email if person else None,
        (company.name or company.domain) if company else None,
        row.page_url,
    )


def _csv_line(values: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(csv_cell(value) for value in values)
    return out.getvalue()


def export_csv(session: Session, filters: Filters = Filters()) -> Iterator[str]:
    """Every conversation of the filtered list (not one page), newest first, as CSV lines, read a batch at a time
    (a million rows never sit in memory). Times in ISO 8601 UTC. Raises InvalidInput for wrong filters at the first
    line: call `check` first when the lines are streamed."""
    conditions = _conditions(session, filters)
    yield _csv_line(CSV_COLUMNS)
    after: Cursor | None = None
    while True:
        keys = _keys(session, conditions, after, EXPORT_BATCH)
        for row in _rows(session, [i for i, _ in keys]):
            yield _csv_line(_csv_values(row))
        if len(keys) < EXPORT_BATCH:
            return
        after = Cursor(keys[-1][1], keys[-1][0])
        session.expunge_all()  # the batch's rows are written out: let them go
