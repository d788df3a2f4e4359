"""A dialogue's breakdowns (docs/reports.md): its conversations started in a period, grouped by the page they
started on, the visit's utm_source or utm_campaign, the visitor's company, whether the visitor was known, or the
channel (the widget on the site, or the dialogue's landing page), with what each group yielded.

Every figure here counts conversations (a breakdown splits conversations, not visitor sessions): a conversation is
engaged when the visitor answered at least once, completed when it reached an end card. People acquired count once
per person within a group; meetings booked count every meeting booked in the group's conversations.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.analytics.dialogue_report import period
from overture.analytics.funnel import started_in
from overture.analytics.rollups import EMAIL_FIELD, page_of
from overture.analytics.schemas import Breakdown, BreakdownRow
from overture.conversations.models import Conversation
from overture.dialogues import service as dialogues
from overture.errors import InvalidInput, Problem
from overture.people.models import Company, PageView, Person
from overture.scheduling.models import Meeting

# What a dialogue can be broken down by, with the heading of the column that names each group.
BREAKDOWNS: dict[str, str] = {
    "page": "Page",
    "utm_source": "UTM source",
    "utm_campaign": "UTM campaign",
    "company": "Company",
    "known": "Visitor",
    "channel": "Channel",
}
NONE = "(none)"
NO_COMPANY = "(no company)"
KNOWN, ANONYMOUS = "known", "anonymous"
_KNOWN_LABELS = {KNOWN: "Known", ANONYMOUS: "Anonymous"}
# Where a conversation started: the widget on a page of the site, or the dialogue's own landing page (/chat/...).
CHAT, LANDING_PAGE = "chat", "landing_page"
_CHANNEL_LABELS = {CHAT: "Chat on the site", LANDING_PAGE: "Landing page"}


@dataclass
class _Group:
    """What one group's conversations yielded, as they are counted."""

    label: str
    conversations: int = 0
    engaged: int = 0
    completed: int = 0
    meetings_booked: int = 0
    acquired: set[Hashable] = field(default_factory=set)
    people_acquired: int = 0

    def add_person(self, keys: list[Hashable]) -> None:
        """One acquisition, once per person: known by their row or by the email given (as the report does)."""
        if self.acquired.isdisjoint(keys):
            self.people_acquired += 1
        self.acquired.update(keys)

    def row(self, key: str) -> BreakdownRow:
        return BreakdownRow(
            key=key,
            label=self.label,
            conversations=self.conversations,
            engaged=self.engaged,
            completed=self.completed,
            people_acquired=self.people_acquired,
            meetings_booked=self.meetings_booked,
            engagement_rate=self.engaged / self.conversations if self.conversations else None,
            conversion_rate=self.people_acquired / self.engaged if self.engaged else None,
        )


def breakdown(
    session: Session,
    key: str,
    *,
    by: str,
    first: date | None = None,
    last: date | None = None,
    version: int | None = None,
    zone: str | None = None,
    now: datetime,
) -> Breakdown:
    """The dialogue's conversations started in the period, grouped `by` one of BREAKDOWNS, largest group first
    (known before anonymous). Raises InvalidInput for an unknown `by` or a wrong period, NotFound for an unknown
    dialogue or version."""
    if by not in BREAKDOWNS:
        raise InvalidInput(
            f"A report cannot be broken down by '{by[:40]}'.",
            [Problem("by", f"choose one of {', '.join(BREAKDOWNS)}.")],
        )
    chosen_period = period(first, last, zone, now)
    dialogue = dialogues.get(session, key)
    chosen = None if version is None else dialogues.version(session, dialogue, version)
    start, end = chosen_period.bounds()
    conditions = started_in(dialogue, chosen, start, end)

    groups: dict[str, _Group] = {}
    group_of: dict[int, _Group] = {}
    for conversation_id, step, status, group_key, label in _grouped(session, by, conditions):
        group = groups.setdefault(group_key, _Group(label))
        group.conversations += 1
        group.engaged += step > 0
        group.completed += status == "completed"
        group_of[conversation_id] = group
    for conversation_id, keys in _acquisitions(session, conditions):
        group_of[conversation_id].add_person(keys)
    for conversation_id, count in _meetings(session, conditions):
        group_of[conversation_id].meetings_booked += count

    if by == "known":
        ordered = [name for name in (KNOWN, ANONYMOUS) if name in groups]
    else:
        ordered = sorted(groups, key=lambda name: (-groups[name].conversations, groups[name].label, name))
    return Breakdown(
        dialogue=dialogue.key,
        version=version,
        from_=chosen_period.first,
        to=chosen_period.last,
        zone=chosen_period.zone_name,
        by=by,
        rows=[groups[name].row(name) for name in ordered],
    )


# (conversation id, step, status, group key, group label) of each conversation counted.
_Grouped = Iterable[tuple[int, int, str, str, str]]
_BASE = (Conversation.id, Conversation.step, Conversation.status)


def _grouped(session: Session, by: str, conditions: list[ColumnElement[bool]]) -> _Grouped:
    if by == "page":
        return _by_page(session, conditions)
    if by == "company":
        return _by_company(session, conditions)
    if by == "known":
        return _by_known(session, conditions)
    if by == "channel":
        return _by_channel(session, conditions)
    return _by_utm(session, conditions, by)


def _by_page(session: Session, conditions: list[ColumnElement[bool]]) -> _Grouped:
    for conversation_id, step, status, url in session.execute(select(*_BASE, Conversation.page_url).where(*conditions)):
        page = page_of(url) or NONE  # the page as the dashboard's top pages name it
        yield conversation_id, step, status, page, page


def _by_utm(session: Session, conditions: list[ColumnElement[bool]], name: str) -> _Grouped:
    """The UTM value of the page the conversation started on, else of the first page of that visit."""
    statement = select(*_BASE, Conversation.page_url, _landing_page()).where(*conditions)
    for conversation_id, step, status, url, landing in session.execute(statement):
        value = _utm(url, name) or _utm(landing or "", name)
        yield conversation_id, step, status, value or "", value or NONE


def _by_company(session: Session, conditions: list[ColumnElement[bool]]) -> _Grouped:
    statement = (
        select(*_BASE, Company.id, Company.name, Company.domain)
        .outerjoin(Person, Person.id == Conversation.person_id)
        .outerjoin(Company, Company.id == Person.company_id)
        .where(*conditions)
    )
    for conversation_id, step, status, company_id, name, domain in session.execute(statement):
        label = name or domain or (NO_COMPANY if company_id is None else f"Company {company_id}")
        yield conversation_id, step, status, "" if company_id is None else str(company_id), label


def _by_known(session: Session, conditions: list[ColumnElement[bool]]) -> _Grouped:
    """Known: the visitor had an email when the conversation started (given in an earlier chat, or by the site's
    identify call); anonymous: everyone else, a deleted person included."""
    statement = (
        select(*_BASE, Conversation.started_at, Person.email, Person.claimed_email, _first_email())
        .outerjoin(Person, Person.id == Conversation.person_id)
        .where(*conditions)
    )
    for conversation_id, step, status, started_at, email, claimed, first_email in session.execute(statement):
        known = bool(email or claimed) and (first_email is None or first_email < started_at)
        name = KNOWN if known else ANONYMOUS
        yield conversation_id, step, status, name, _KNOWN_LABELS[name]


def _by_channel(session: Session, conditions: list[ColumnElement[bool]]) -> _Grouped:
    """The channel the conversation's start recorded on its dialogue.triggered activity (a landing page says so);
    a conversation started by the widget on a page records none."""
    channel = (
        select(Activity.attributes["channel"].as_string())
        .where(
            Activity.conversation_id == Conversation.id,
            Activity.type == ActivityType.dialogue_triggered.value,
        )
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    for conversation_id, step, status, recorded in session.execute(select(*_BASE, channel).where(*conditions)):
        name = recorded if recorded in _CHANNEL_LABELS else CHAT
        yield conversation_id, step, status, name, _CHANNEL_LABELS[name]


def _utm(url: str, name: str) -> str | None:
    query = urlsplit(url).query if url else ""
    return next((value for key, value in parse_qsl(query) if key == name and value), None)


def _landing_page() -> Any:
    """The first page of the visit in which the conversation started: the visitor's last page view at its start
    says which visit (session) that was."""
    visit = (
        select(PageView.session_number)
        .where(PageView.person_id == Conversation.person_id, PageView.occurred_at <= Conversation.started_at)
        .order_by(PageView.occurred_at.desc(), PageView.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    return (
        select(PageView.url)
        .where(PageView.person_id == Conversation.person_id, PageView.session_number == visit)
        .order_by(PageView.occurred_at, PageView.id)
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
        .label("landing")
    )


def _first_email() -> Any:
    """When the visitor first gave an email in any dialogue (None: never in a chat, e.g. identified by the site)."""
    return (
        select(func.min(Activity.occurred_at))
        .where(
            Activity.person_id == Conversation.person_id,
            Activity.type == ActivityType.field_captured.value,
            Activity.attributes["field"].as_string() == EMAIL_FIELD,
        )
        .correlate(Conversation)
        .scalar_subquery()
        .label("first_email")
    )


def _acquisitions(session: Session, conditions: list[ColumnElement[bool]]) -> Iterable[tuple[int, list[Hashable]]]:
    """Each email given in a counted conversation: (conversation id, what identifies the person)."""
    statement = (
        select(Activity.conversation_id, Activity.id, Activity.person_id, Activity.attributes["value"].as_string())
        .join(Conversation, Conversation.id == Activity.conversation_id)
        .where(
            *conditions,
            Activity.type == ActivityType.field_captured.value,
            Activity.attributes["field"].as_string() == EMAIL_FIELD,
        )
        .order_by(Activity.occurred_at, Activity.id)
    )
    for conversation_id, activity_id, person_id, email in session.execute(statement):
        keys: list[Hashable] = [("person", person_id) if person_id is not None else ("activity", activity_id)]
        if email:
            keys.append(("email", email.strip().casefold()))
        yield conversation_id, keys


def _meetings(session: Session, conditions: list[ColumnElement[bool]]) -> Iterable[tuple[int, int]]:
    statement = (
        select(Meeting.conversation_id, func.count(literal(1)))
        .join(Conversation, Conversation.id == Meeting.conversation_id)
        .where(*conditions)
        .group_by(Meeting.conversation_id)
    )
    for conversation_id, count in session.execute(statement):
        if conversation_id is not None:  # joined to a conversation: never None
            yield conversation_id, count
