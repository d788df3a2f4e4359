"""Booking links: a team's and an agent's public booking page (`/book/{team}`, `/book/{team}/{agent}`), and signed
personalised links for a known person.

A booking page books as a `book_meeting` card does, through `booking.py` itself: the team page is a card of
`routing: round_robin` on that team (the visitor's account owner first, the team's rotation and mode), the agent
page a card of `routing: agent` (that agent only: the visitor chose them). The visitor gives the invitation's
fields (first name, last name, email); what they give is recorded as `field.captured` and the meeting as
`meeting.booked`, each with `channel: "link"`, so reports can tell these bookings from the chat's.

URL keys: the team's key, and an agent's slug, the local part of their email made URL-safe
(`ada.lovelace@example.com` -> `ada-lovelace`), looked up among the team's members.

A signed link names a known person: `p` is "<person id>.<expiry as Unix seconds>" and `sig` an HMAC-SHA256 (the
app's secret key) of `p` and the person's email, so a link stops working when it expires or the person's email
changes, and changing any character is refused. It skips the questions the person's record answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities.service import ActivityType, record
from overture.calendars.world import CalendarWorld
from overture.dialogues.document import BookMeeting
from overture.errors import InvalidInput, NotFound, Problem
from overture.people import identity
from overture.people import service as people
from overture.people.models import Person
from overture.scheduling import booking
from overture.scheduling.models import Agent, MeetingType, Team, TeamMember
from overture.users.service import normalize_email

CHANNEL = "link"
# How long a signed link works unless its maker says otherwise.
DEFAULT_DAYS = 30
MAX_DAYS = 366
NAME_LIMIT = 100
_SALT = b"overture.booking-link|"
_SLUG = re.compile(r"[^a-z0-9]+")
_P = re.compile(r"^([1-9][0-9]{0,9})\.([0-9]{1,12})$")


@dataclass(frozen=True)
class Target:
    """What a booking page books: the team, the agent of an agent page, and the meeting type asked for."""

    team: Team
    agent: Agent | None
    meeting_type: str | None = None

    @property
    def spec(self) -> BookMeeting:
        if self.agent is not None:
            return BookMeeting(routing="agent", agent=self.agent.email, meeting_type=self.meeting_type)
        return BookMeeting(routing="round_robin", team=self.team.key, meeting_type=self.meeting_type)

    @property
    def path(self) -> str:
        return f"/book/{self.team.key}" + (f"/{agent_slug(self.agent)}" if self.agent is not None else "")


def slug_of(email: str) -> str:
    """An agent's URL key from their email: its local part, lower case, runs of other characters as one hyphen."""
    return _SLUG.sub("-", email.split("@", 1)[0].lower()).strip("-") or "agent"


def agent_slug(agent: Agent) -> str:
    return slug_of(agent.email)


def target(session: Session, team_key: str, slug: str | None = None, meeting_type: str | None = None) -> Target:
    """The team (and agent) of a booking page. Raises NotFound naming what is missing."""
    team = session.scalar(select(Team).where(Team.key == team_key, Team.kind == "team"))
    if team is None:
        raise NotFound(f"There is no booking page '{team_key}': check the link you were given.")
    if (
        meeting_type is not None
        and session.scalar(select(MeetingType.id).where(MeetingType.key == meeting_type)) is None
    ):
        raise NotFound(f"There is no meeting type '{meeting_type}': check the link you were given.")
    agent = None
    if slug is not None:
        members = session.scalars(
            select(Agent).join(TeamMember, TeamMember.agent_id == Agent.id)
            .where(TeamMember.team_id == team.id).order_by(Agent.id)
        )  # fmt: skip
        agent = next((member for member in members if agent_slug(member) == slug), None)
        if agent is None:
            raise NotFound(f"{team.name} has nobody at '{slug}': check the link you were given.")
    return Target(team, agent, meeting_type)


def request_for(session: Session, target: Target, person: Person | None, email: str | None) -> booking.BookingRequest:
    """The booking request of a page: a known person's fields route it (account owner, rules), else the email
    typed. `person_id` is 0 until the visitor's person is written (`book` fills it in)."""
    if person is not None:
        values = people.field_values(person, people.company_of(session, person))
    else:
        values = {"person.email": email} if email else {}
    return booking.BookingRequest(
        spec=target.spec,
        person_id=person.id if person is not None else 0,
        values=values,
        channel=CHANNEL,
        owner_first=target.agent is None,
    )


# --- signed links ----------------------------------------------------------------------------------------------


def _sig(secret_key: str, p: str, email: str) -> str:
    digest = hmac.new(secret_key.encode(), _SALT + f"{p}|{email.lower()}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret_key: str, person: Person, expires_at: datetime) -> dict[str, str]:
    """The query parameters (`p`, `sig`) of a signed link for `person`. Raises InvalidInput when the person has no
    email (the invitation needs one)."""
    email = person.contact_email
    if not email:
        raise InvalidInput(
            f"Person {person.id} has no email: a booking link needs one to send the invitation.",
            [Problem("person", "No email.")],
        )
    p = f"{person.id}.{int(expires_at.timestamp())}"
    return {"p": p, "sig": _sig(secret_key, p, email)}


def signed_url(base_url: str, secret_key: str, path: str, person: Person, expires_at: datetime) -> str:
    return f"{base_url.rstrip('/')}{path}?{urlencode(sign(secret_key, person, expires_at))}"


def expiry(days: int | None, now: datetime) -> datetime:
    """When a link made now for `days` days expires. Raises InvalidInput for a number out of range."""
    wanted = DEFAULT_DAYS if days is None else days
    if not 1 <= wanted <= MAX_DAYS:
        raise InvalidInput(
            f"A booking link works for 1 to {MAX_DAYS} days.", [Problem("days", f"Between 1 and {MAX_DAYS}.")]
        )
    return now + timedelta(days=wanted)


class LinkRefused(InvalidInput):
    """A signed link that was changed, cut short or has expired."""


TAMPERED = "This booking link is not valid: it was changed or cut short. Use the link you were sent, or book below."


def read_signed(session: Session, secret_key: str, p: str, sig: str, now: datetime) -> Person:
    """The person a signed link names. Raises LinkRefused for a changed or expired link."""
    found = _P.match(p)
    person = session.get(Person, int(found.group(1))) if found else None
    email = person.contact_email if person is not None else None
    if found is None or person is None or not email or not hmac.compare_digest(_sig(secret_key, p, email), sig):
        raise LinkRefused(TAMPERED, [Problem("sig", "Does not match.")])
    if datetime.fromtimestamp(int(found.group(2)), UTC) <= now:
        message = "This booking link has expired. Book below, or ask for a new link."
        raise LinkRefused(message, [Problem("p", "Expired.")])
    return person


# --- the visitor and the booking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """What the visitor typed (stripped); a field the page did not ask is None."""

    first_name: str | None
    last_name: str | None
    email: str | None


def questions(person: Person | None) -> tuple[str, ...]:
    """The fields the page asks: all three, or those a known person's record does not answer."""
    if person is None:
        return ("first_name", "last_name", "email")
    asked = [] if person.first_name else ["first_name", "last_name"]
    return (*asked, *([] if person.contact_email else ["email"]))


def check(answers: Mapping[str, str], asked: tuple[str, ...]) -> Answers:
    """The answers to the asked fields, checked. Raises InvalidInput naming every field that is wrong."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name in asked:
        text = answers.get(name, "").strip()
        if name == "email":
            if not text:
                problems.append(Problem("email", "Your email is needed to send the invitation."))
                continue
            try:
                values[name] = normalize_email(text)
            except InvalidInput as exc:
                problems.extend(exc.problems)
        elif name == "first_name" and not text:
            problems.append(Problem("first_name", "Your first name is needed for the invitation."))
        elif len(text) > NAME_LIMIT:
            problems.append(Problem(name, f"At most {NAME_LIMIT} characters."))
        else:
            values[name] = text or None
    if problems:
        raise InvalidInput("Some answers need a look: " + "; ".join(p.message for p in problems), problems)
    return Answers(values.get("first_name"), values.get("last_name"), values.get("email"))


def _visitor(session: Session, known: Person | None, answers: Answers, now: datetime) -> Person:
    """The person booking: the signed link's, or a new visitor, with the answers given (each a `field.captured`
    of the channel `link`). A typed email that belongs to someone else is only claimed, as in the chat."""
    person = known if known is not None else people.visitor(session, None, now)[0]
    given = {"person.first_name": answers.first_name, "person.last_name": answers.last_name}
    for field, value in given.items():
        if value:
            people.set_field(session, person, field, value, now)
    if answers.email:
        person = identity.capture_email(session, person, answers.email, now, proven=False)
        given["person.email"] = answers.email
    for field, value in given.items():
        if value:
            record(session, person, ActivityType.field_captured, now,
                   {"field": field, "value": value, "channel": CHANNEL})  # fmt: skip
    return person


def book(
    session: Session,
    world: CalendarWorld,
    prepared: booking.Prepared | booking.Unavailable,
    known: Person | None,
    answers: Answers,
    zone: str,
    now: datetime,
) -> booking.Outcome:
    """Writes the visitor's answers and books the prepared time in the caller's writing transaction. A time just
    taken keeps nothing, not even the visitor's answers (a savepoint); an unavailable booking keeps the answers
    and the notice to the agents and admins."""
    if isinstance(prepared, booking.Unavailable):
        return prepared
    savepoint = session.begin_nested()
    person = _visitor(session, known, answers, now)
    request = replace(prepared.request, person_id=person.id)
    outcome = booking.book(session, world, replace(prepared, request=request), visitor_zone=zone, now=now)
    if isinstance(outcome, booking.Taken):
        savepoint.rollback()
    else:
        savepoint.commit()
    return outcome


def make_link(
    session: Session,
    *,
    base_url: str,
    secret_key: str,
    person_id: int,
    team_key: str,
    slug: str | None,
    meeting_type: str | None,
    days: int | None,
    now: datetime,
) -> tuple[str, datetime]:
    """A signed link for a known person to the booking page of a team (or one of its agents), and when it expires.
    Raises NotFound for an unknown person or page, InvalidInput for a person without an email or days out of range."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"There is no person {person_id}.")
    found = target(session, team_key, slug, meeting_type)
    expires_at = expiry(days, now)
    url = signed_url(base_url, secret_key, found.path, person, expires_at)
    if meeting_type:
        url += "&" + urlencode({"type": meeting_type})
    return url, expires_at
