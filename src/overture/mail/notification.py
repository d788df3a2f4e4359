"""Plain meeting notices: what the agent reads when a meeting is booked, moved, cancelled or reassigned, what
every admin reads when a booking failed, and the visitor's reminder before the meeting.

Each function turns plain facts into a `NewMessage` of kind "meeting_notice"; scheduling/notices.py gathers the
facts from the database and queues the messages. Times are written on the reader's clock with the zone named
(the agent's zone for agents, the visitor's for the visitor), by the same `format_start` as the invitation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from overture.mail.invitation import InvitationDetails, format_duration, format_start
from overture.mail.schemas import NewMessage

NOTICE_KIND = "meeting_notice"
# The chat transcript is the bulk of a notification; past this it is cut (NewMessage allows 200,000 characters).
MAX_TRANSCRIPT = 100_000
_ROLE_LABELS = {"bot": "Bot", "visitor": "Visitor", "agent": "Agent", "system": "System"}


@dataclass(frozen=True)
class Visitor:
    """Who booked, as far as they told us: empty strings for what is not known."""

    name: str
    email: str
    company: str = ""
    phone: str = ""


@dataclass(frozen=True)
class AgentMeeting:
    """A meeting as its agent sees it: times are aware; `agent_zone` is the agent's IANA zone, `dialogue` the name
    of the dialogue it was booked in (empty when unknown)."""

    title: str
    start: datetime
    end: datetime
    agent_name: str
    agent_email: str
    agent_zone: str
    visitor: Visitor
    meeting_link: str = ""
    dialogue: str = ""


def booked_notice(
    meeting: AgentMeeting,
    transcript: Sequence[tuple[str, str]],
    *,
    held_link: str,
    no_show_link: str,
    reassigned_from: str = "",
) -> NewMessage:
    """The agent's notification of a new meeting (or of one reassigned to them from `reassigned_from`): the
    visitor's details, when, the dialogue, the chat transcript and one-click links to record the outcome."""
    who = _visitor_label(meeting.visitor)
    when = _agent_time(meeting)
    if reassigned_from:
        subject = f"Meeting reassigned to you: {who} — {when}"
        opening = f"A meeting that was {reassigned_from}'s is now yours."
    else:
        subject = f"New meeting: {who} — {when}"
        opening = "A visitor booked a meeting with you."
    parts = [
        f"Hello {meeting.agent_name},",
        opening,
        _meeting_block(meeting),
        _visitor_block(meeting.visitor),
    ]
    if transcript:
        parts.append("The chat:\n" + _transcript(transcript))
    parts.append(
        "After the meeting, record how it went with one click:\n"
        f"It took place: {held_link}\n"
        f"The visitor did not come: {no_show_link}"
    )
    return _notice(meeting.agent_email, subject, parts)


def rescheduled_notice(meeting: AgentMeeting) -> NewMessage:
    """Tells the agent the visitor moved the meeting, with its new time."""
    who = _visitor_label(meeting.visitor)
    parts = [
        f"Hello {meeting.agent_name},",
        f"{who} moved your meeting. It is now on {_agent_time(meeting)}; your calendar is updated.",
        _meeting_block(meeting),
        _visitor_block(meeting.visitor),
    ]
    return _notice(meeting.agent_email, f"Meeting moved: {who} — {_agent_time(meeting)}", parts)


def cancelled_notice(meeting: AgentMeeting, by: str) -> NewMessage:
    """Tells the agent the meeting is off; `by` is "visitor" or who cancelled it (a name or an email)."""
    who = _visitor_label(meeting.visitor)
    cancelled_by = "The visitor cancelled it" if by == "visitor" else f"It was cancelled by {by}"
    parts = [
        f"Hello {meeting.agent_name},",
        f"Your meeting with {who} on {_agent_time(meeting)} is cancelled. {cancelled_by}; the event is removed "
        "from your calendar.",
        _visitor_block(meeting.visitor),
    ]
    return _notice(meeting.agent_email, f"Meeting cancelled: {who} — {_agent_time(meeting)}", parts)


def reassigned_away_notice(meeting: AgentMeeting, new_agent_name: str) -> NewMessage:
    """Tells the previous agent the meeting (described with their own name and zone) went to `new_agent_name`."""
    who = _visitor_label(meeting.visitor)
    parts = [
        f"Hello {meeting.agent_name},",
        f"Your meeting with {who} on {_agent_time(meeting)} is now {new_agent_name}'s. The event is removed from "
        "your calendar.",
    ]
    return _notice(meeting.agent_email, f"Meeting reassigned: {who} — now with {new_agent_name}", parts)


def booking_failed_notice(
    to: str, *, reason: str, agent_name: str, visitor_email: str, start: datetime | None, zone: str
) -> NewMessage:
    """Tells an agent or an admin that a booking failed and why; empty `agent_name` / `visitor_email` and a None
    `start` are left out. `zone` is the reader's zone for the time."""
    facts = []
    if visitor_email:
        facts.append(f"Visitor: {visitor_email}")
    if agent_name:
        facts.append(f"Agent: {agent_name}")
    if start is not None:
        facts.append(f"Time asked for: {format_start(start, zone)}")
    parts = ["Hello,", "Overture could not book a meeting a visitor asked for.", f"Why: {reason}"]
    if facts:
        parts.append("\n".join(facts))
    parts.append("The visitor was not given a meeting. If they left an email address, you may want to contact them.")
    return _notice(to, "A meeting could not be booked", parts)


def reminder(details: InvitationDetails, now: datetime) -> NewMessage:
    """The visitor's reminder: when (on their clock), with whom, the meeting link and their own links."""
    when = format_start(details.start, details.visitor_zone)
    soon = _roughly(details.start.astimezone(UTC) - now.astimezone(UTC))
    parts = [
        f"Hello {details.visitor_first_name}," if details.visitor_first_name else "Hello,",
        f"A reminder: your meeting “{details.title}” with {details.agent_name} starts in {soon}, on {when}.",
    ]
    if details.meeting_link:
        parts.append(f"Join the meeting: {details.meeting_link}")
    links = []
    if details.reschedule_link:
        links.append(f"Need another time? {details.reschedule_link}")
    if details.cancel_link:
        links.append(f"Can't make it? {details.cancel_link}")
    if links:
        parts.append("\n".join(links))
    return _notice(details.visitor_email, f"Reminder: {details.title} — {when}", parts)


def _notice(to: str, subject: str, parts: Sequence[str]) -> NewMessage:
    text = "\n\n".join(part.strip("\n") for part in parts if part) + "\n"
    return NewMessage(to=[to], subject=_cut(subject, 300), text_body=text, kind=NOTICE_KIND)


def _agent_time(meeting: AgentMeeting) -> str:
    return format_start(meeting.start, meeting.agent_zone)


def _meeting_block(meeting: AgentMeeting) -> str:
    # In UTC: Python subtracts two times of one zone by the wall clock, which lies on the night clocks change.
    length = meeting.end.astimezone(UTC) - meeting.start.astimezone(UTC)
    lines = [
        f"Meeting: {meeting.title}",
        f"When: {_agent_time(meeting)}, for {format_duration(length)}",
    ]
    if meeting.meeting_link:
        lines.append(f"Link: {meeting.meeting_link}")
    if meeting.dialogue:
        lines.append(f"Booked in the dialogue: {meeting.dialogue}")
    return "\n".join(lines)


def _visitor_block(visitor: Visitor) -> str:
    lines = [f"Name: {visitor.name or '(not given)'}", f"Email: {visitor.email or '(not known)'}"]
    if visitor.company:
        lines.append(f"Company: {visitor.company}")
    if visitor.phone:
        lines.append(f"Phone: {visitor.phone}")
    return "The visitor:\n" + "\n".join(lines)


def _visitor_label(visitor: Visitor) -> str:
    return visitor.name or visitor.email or "a visitor"


def _transcript(transcript: Sequence[tuple[str, str]]) -> str:
    lines = []
    for role, text in transcript:
        label = _ROLE_LABELS.get(role, role.title() or "?")
        # Continuation lines are indented so a multi-line answer reads as one turn.
        lines.append(f"{label}: " + "\n    ".join(text.strip().splitlines() or [""]))
    whole = "\n".join(lines)
    if len(whole) > MAX_TRANSCRIPT:
        whole = whole[:MAX_TRANSCRIPT] + "\n… (the rest of the chat is cut)"
    return whole


def _roughly(remaining: timedelta) -> str:
    """'24 hours', '1 hour', '25 minutes': how long until the meeting, rounded as a person would say it."""
    minutes = max(1, round(remaining.total_seconds() / 60))
    if minutes >= 90:
        return format_duration(timedelta(hours=round(minutes / 60)))
    if minutes >= 10:
        minutes = 5 * round(minutes / 5)
    return format_duration(timedelta(minutes=minutes))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
