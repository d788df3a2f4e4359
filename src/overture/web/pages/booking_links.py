"""The public booking pages: `/book/{team}` and `/book/{team}/{agent}` (scheduling/booking_links.py says what they
book and how a signed link is read).

One form: the invitation's fields (those a signed link's person does not answer), the time zone, and the free times
as submit buttons: a press on a time books it, as a press books in the chat. The times are read as the card reads
them (`booking.offer`); the pick is read again from the calendars (`booking.prepare`, no transaction open), then
booked in one writing transaction that also writes the visitor's answers, so a time just taken keeps nothing and
answers "That time was just taken" with fresh times. No state lives in the web process: the page carries the
signed link's `p` and `sig` along in the form. It wears the site's appearance (meeting_link_look.py; `?site=`,
else the default site) and reuses the reschedule page's styles and script.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.conversations import meeting_steps
from overture.db import utcnow
from overture.errors import InvalidInput, NotFound, OvertureError, Problem
from overture.people.models import Person
from overture.scheduling import booking, booking_links
from overture.scheduling.clock import load_zone
from overture.sites.models import Site
from overture.sites.service import DEFAULT_SITE
from overture.sites.service import KEY_PATTERN as SITE_KEY_PATTERN
from overture.web.context import AppContext
from overture.web.pages.meeting_link_look import look_of
from overture.web.pages.meeting_links import _days, _zones, visitor_page

router = APIRouter(include_in_schema=False)
Key = Annotated[str, Path(max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Text = Annotated[str, Form(max_length=300)]
LABELS = {"first_name": "First name", "last_name": "Last name", "email": "Email"}


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _page(request: Request, status: int = 200, **values: object) -> Response:
    return visitor_page(request, "book_link.html", status, {"title": "Book a meeting", **values})


def _site(session: Session, asked: str) -> str | None:
    """The site whose look the page wears and whose meeting it books: the one asked, else the default site (None
    when there is none). Raises NotFound for an unknown site asked."""
    key = asked or DEFAULT_SITE
    found = session.scalar(select(Site.key).where(Site.key == key))
    if found is None and asked:
        raise NotFound(f"There is no site '{asked}': check the link you were given.")
    return found


def _zone(asked: str) -> tuple[str, str | None]:
    if not asked:
        return "UTC", None
    if asked in _zones():
        return asked, None
    return "UTC", f"“{asked[:64]}” is not a time zone we know: times are shown in UTC."


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _setting(
    request: Request, session: Session, team: str, agent: str | None, type_: str, site: str, p: str, sig: str
) -> tuple[booking_links.Target, Person | None, dict[str, Any]]:
    """The page's target, the signed link's person, and what every answer shows (title, look). Raises _Refused
    with the page to show for an unknown page or a refused link."""
    try:
        site_key = _site(session, site)
        look = look_of(session, site_key)
        target = booking_links.target(session, team, agent, type_ or None)
    except NotFound as exc:
        look = look_of(session, None)
        raise _Refused(_page(request, 404, title="Booking page not found", message=exc.message, look=look)) from None
    name = target.agent.name if target.agent is not None else target.team.name
    shown: dict[str, Any] = {"look": look, "title": f"Book a meeting with {name}", "path": target.path,
                             "site_key": site_key}  # fmt: skip
    person = None
    if p or sig:
        try:
            person = booking_links.read_signed(session, _context(request).secret_key, p, sig, utcnow())
        except booking_links.LinkRefused as exc:
            raise _Refused(_page(request, 403, message=exc.message, refused=True, **shown)) from None
        session.expunge(person)
    return target, person, shown


def _times(request: Request, target: booking_links.Target, person: Person | None, email: str | None,
           zone: str, now: datetime) -> dict[str, Any]:  # fmt: skip
    """The free times to show, read as the card reads them (outside any transaction: calendars may be read)."""
    context = _context(request)
    with context.db.read() as session:
        wanted = booking_links.request_for(session, target, person, email)
    try:
        offer = booking.offer(context.calendar_world, wanted, now)
    except OvertureError as exc:
        return {"days": [], "zone": zone, "zones": _zones(), "unavailable": exc.message}
    minutes = int(offer.duration.total_seconds() // 60)
    return {"days": _days(offer.slots, zone), "zone": zone, "zones": _zones(), "minutes": minutes,
            "agent_name": offer.agent_name}  # fmt: skip


def _known(person: Person | None) -> dict[str, str] | None:
    if person is None:
        return None
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    return {"name": name, "email": person.contact_email or ""}


@dataclass
class _Opened:
    """A booking page as asked for: whom it books, the signed link's person, what every answer shows (title, look),
    the zone shown (and the problem with the one asked for, if any), and the link's values that ride along."""

    target: booking_links.Target
    person: Person | None
    shown: dict[str, Any]
    zone: str
    zone_problem: str | None
    link: dict[str, str]

    def page(self, request: Request, status: int = 200, error: str | None = None, typed: dict[str, str] | None = None,
             problems: dict[str, str] | None = None) -> Response:  # fmt: skip
        """The page with its questions and the free times (read now, for the email typed, if any)."""
        values = typed or {}
        email = values.get("email", "").strip() or None
        times = _times(request, self.target, self.person, email, self.zone, utcnow())
        return _page(request, status, error=error, asked=booking_links.questions(self.person), labels=LABELS,
                     values=values, problems=problems or {}, known=_known(self.person), link=self.link,
                     **self.shown, **times)  # fmt: skip


def _open(
    request: Request, team: str, agent: str | None, type_: str, site: str, p: str, sig: str, zone: str
) -> _Opened:
    """Reads what a booking page is for. Raises _Refused with the page to answer (unknown team, bad signature...)."""
    with _context(request).db.read() as session:
        target, person, shown = _setting(request, session, team, agent, type_, site, p, sig)
    shown_zone, unknown = _zone(zone)
    return _Opened(target, person, shown, shown_zone, unknown, {"p": p, "sig": sig, "type": type_, "site": site})


@router.get("/book/{team}")
@router.get("/book/{team}/{agent}")
def booking_page(
    request: Request,
    team: Key,
    agent: Key | None = None,
    zone: Annotated[str, Query(max_length=64)] = "",
    type_: Annotated[str, Query(alias="type", max_length=80)] = "",
    site: Annotated[str, Query(max_length=80, pattern=SITE_KEY_PATTERN + "|^$")] = "",
    p: Annotated[str, Query(max_length=40)] = "",
    sig: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    try:
        opened = _open(request, team, agent, type_, site, p, sig, zone)
    except _Refused as refused:
        return refused.response
    return opened.page(request, error=opened.zone_problem)


@router.post("/book/{team}")
@router.post("/book/{team}/{agent}")
def book(
    request: Request,
    team: Key,
    agent: Key | None = None,
    first_name: Text = "",
    last_name: Text = "",
    email: Text = "",
    start: Annotated[str, Form(max_length=40)] = "",
    zone: Annotated[str, Form(max_length=64)] = "",
    type_: Annotated[str, Form(alias="type", max_length=80)] = "",
    site: Annotated[str, Form(max_length=80, pattern=SITE_KEY_PATTERN + "|^$")] = "",
    p: Annotated[str, Form(max_length=40)] = "",
    sig: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Checks the answers and the time, reads the calendars again, then writes answers and meeting together."""
    context = _context(request)
    now = utcnow()
    try:
        opened = _open(request, team, agent, type_, site, p, sig, zone)
    except _Refused as refused:
        return refused.response
    target, person, shown, shown_zone = opened.target, opened.person, opened.shown, opened.zone
    asked = booking_links.questions(person)
    typed = {"first_name": first_name, "last_name": last_name, "email": email}

    def again(status: int, message: str, problems: dict[str, str] | None = None) -> Response:
        return opened.page(request, status, message, typed, problems)

    if opened.zone_problem is not None:
        return again(422, opened.zone_problem)
    try:
        answers = booking_links.check(typed, asked)
        chosen = _start(start)
    except InvalidInput as exc:
        return again(422, exc.message, {problem.path: problem.message for problem in exc.problems})
    with context.db.read() as session:
        wanted = booking_links.request_for(session, target, person, answers.email)
    wanted = _with_site(wanted, shown["site_key"])
    world = context.calendar_world
    outcome: booking.Outcome
    try:
        prepared = booking.prepare(world, wanted, chosen, now)
        with context.db.write() as session:
            known = session.get(Person, person.id) if person is not None else None
            outcome = booking_links.book(session, world, prepared, known, answers, shown_zone, now)
            if isinstance(outcome, booking.Booked):
                facts = _booked(outcome, shown_zone)
    except OvertureError as exc:  # the visitor's own mistake (a time never offered...): nothing was written
        return again(422, exc.message, {problem.path: problem.message for problem in exc.problems})
    except Exception as exc:
        # As in the chat (conversations/meeting_steps.py): the agents and admins hear of it, then it is raised.
        reason = f"The booking could not be saved ({type(exc).__name__}: {exc})"[: meeting_steps.REASON_LIMIT]
        booking.report_failure(world, wanted, chosen, reason, now)
        raise
    if isinstance(outcome, booking.Taken):
        return again(409, "That time was just taken. Here are the times still free.")
    if isinstance(outcome, booking.Unavailable):
        return again(409, outcome.reason)
    return _page(request, done=True, booked=facts, look=shown["look"], title="Your meeting is booked",
                 message="Your meeting is booked. The invitation is on its way to your inbox.")  # fmt: skip


def _start(text: str) -> datetime:
    if not text:
        raise InvalidInput("Pick one of the free times below.", [Problem("start", "Pick a time.")])
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise InvalidInput("That time is not one of the times offered: pick one below.", [Problem("start", "Invalid.")])
    return start


def _with_site(wanted: booking.BookingRequest, site: str | None) -> booking.BookingRequest:
    return replace(wanted, site_key=site)


def _booked(outcome: booking.Booked, zone: str) -> dict[str, str]:
    meeting, local = outcome.meeting, load_zone(zone)
    start = meeting.starts_at.astimezone(local)
    return {
        "title": meeting.title,
        "agent": outcome.agent.name,
        "when": f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M} ({zone})",
        "duration": f"{int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)} minutes",
    }
