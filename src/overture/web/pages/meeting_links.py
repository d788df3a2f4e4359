"""The visitor's pages reached from links in meeting emails: cancel and reschedule (signed links, no sign-in), and
the agent's one-click held / no-show links.

Opening a link only shows what it will do (mail scanners open links; they do not submit forms); a button confirms.
The link's token is the secret: the confirming form sends it back in its body, and a form whose token is missing or
differs is refused, so another site cannot make a visitor's browser post to a link it does not know.

The reschedule page is the widget's picker as a page: the days as sections, each with its free times as submit
buttons (one press moves the meeting, as a press books in the chat), on the visitor's clock with the zone named and a
choice of another zone; static/meeting_link.js turns the sections into tabs. It wears the site's appearance
(meeting_link_look.py) and never offers the meeting's own time.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Annotated, Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import InvalidInput, NotFound, OvertureError
from overture.mail.invitation import format_duration, format_start
from overture.scheduling import booking, links, meeting_list
from overture.scheduling import meetings as service
from overture.scheduling.availability import Slot
from overture.scheduling.models import Agent, Meeting
from overture.web.context import AppContext
from overture.web.deps import DbSession
from overture.web.pages.forms import refuse
from overture.web.pages.meeting_link_look import Look, look_of

router = APIRouter(include_in_schema=False)
LINK = "/meetings/link/{token}"
Token = Annotated[str, Path(max_length=400)]
Zone = Annotated[str, Query(max_length=64)]
# A standalone page: our own script and styles (plus the site's colours in one <style> with this answer's nonce),
# never framed, never cached, no token in a Referer.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-robots-tag": "noindex",
}
TITLES = {
    "cancel": "Cancel your meeting",
    "reschedule": "Pick another time",
    "held": "Mark the meeting held",
    "no_show": "Mark the meeting as a no-show",
}


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def visitor_page(request: Request, template: str, status: int, values: dict[str, object]) -> Response:
    """A page a visitor opens from an email or a link (templates/visitor_page.html's frame): its own CSP nonce for
    the site's look, never cached, never framed, never indexed."""
    nonce = secrets.token_urlsafe(16)
    headers = {**HEADERS, "content-security-policy": CSP.format(nonce=nonce)}
    response: Response = _context(request).templates.TemplateResponse(
        request, template, {"nonce": nonce, **values}, status_code=status, headers=headers
    )
    return response


def _page(request: Request, status: int = 200, **values: object) -> Response:
    return visitor_page(request, "meeting_link.html", status, {"title": "Your meeting", **values})


def _invalid(request: Request, message: str) -> Response:
    return _page(request, 400, title="This link is not valid", message=message)


def _facts(session: Session, meeting: Meeting, zone: str | None = None) -> dict[str, Any]:
    """What the page shows about the meeting, on the visitor's clock (or the zone they chose), and how it looks."""
    agent = session.get(Agent, meeting.agent_id)
    look: Look = look_of(session, meeting.site_key)
    return {
        "title": meeting.title,
        "agent": agent.name if agent else "",
        "when": format_start(meeting.starts_at, zone or meeting.visitor_zone),
        "duration": format_duration(meeting.ends_at - meeting.starts_at),
        "look": look,
    }


def _blocked(meeting: Meeting, action: links.Action, now: datetime) -> str | None:
    """Why the link can no longer do its action, in a sentence; None when it can."""
    if action in ("cancel", "reschedule"):
        if meeting.status == "cancelled":
            return "This meeting is already cancelled."
        if meeting.status in service.OUTCOMES or meeting.starts_at <= now:
            return "This meeting has already taken place (or started): it can no longer be changed."
        return None
    if meeting.status == "cancelled":
        return "This meeting was cancelled: it has no outcome to mark."
    if meeting.status in service.OUTCOMES:
        return f"This meeting is already marked {meeting_list.STATUS_LABELS[meeting.status].lower()}."
    if now < meeting.ends_at:
        return (
            f"The meeting has not ended yet: it ends {format_start(meeting.ends_at, meeting.visitor_zone)}. "
            "Use the link again after the end."
        )
    return None


@dataclass(frozen=True)
class Day:
    """One day of free times on the visitor's clock: `short` names its tab ("Wed 4 Mar"), `long` its section
    ("Wednesday 4 March 2026"); `times` are (ISO start in UTC, "14:30")."""

    short: str
    long: str
    times: list[tuple[str, str]]


def _days(slots: Sequence[Slot], zone: str) -> list[Day]:
    """Free times grouped by day on the clock of `zone`."""
    tz = ZoneInfo(zone)
    local = [(slot.start.astimezone(tz), slot.start) for slot in slots]
    return [
        Day(
            short=f"{day:%a} {day.day} {day:%b}",
            long=f"{day:%A} {day.day} {day:%B %Y}",
            times=[(utc.isoformat(), f"{at:%H:%M}") for at, utc in items],
        )
        for day, items in ((key, list(group)) for key, group in groupby(local, key=lambda pair: pair[0].date()))
    ]


def _free_times(request: Request, meeting: Meeting, now: datetime) -> list[Slot]:
    """The times the visitor may move the meeting to (read from the agent's calendar, outside any write): never the
    time it already has, which is not a move."""
    slots = booking.reschedule_slots(_context(request).calendar_world, meeting, now)
    return [slot for slot in slots if slot.start != meeting.starts_at]


_LEGACY_ZONES = ("Etc/", "US/", "SystemV/")


@functools.cache
def _zones() -> tuple[str, ...]:
    """The zones a visitor may pick: UTC and the IANA names of places (legacy aliases such as US/Eastern left out)."""
    places = sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(_LEGACY_ZONES))
    return ("UTC", *places)


def _zone(asked: str, meeting: Meeting) -> tuple[str, str | None]:
    """The zone to show times in, and a sentence when the asked one is not known (the meeting's zone is used)."""
    if not asked or asked == meeting.visitor_zone:
        return meeting.visitor_zone, None
    if asked in _zones():
        return asked, None
    return (
        meeting.visitor_zone,
        f"“{asked[:64]}” is not a time zone we know: times are shown in {meeting.visitor_zone}.",
    )


def _choices(slots: Sequence[Slot], zone: str) -> dict[str, Any]:
    return {"days": _days(slots, zone), "zone": zone, "zones": _zones()}


def _read(request: Request, token: str) -> tuple[str, links.Action] | None:
    try:
        return links.read(_context(request).secret_key, token)
    except InvalidInput:
        return None


NOT_VALID = "This meeting link is not valid: it was changed or cut short. Use the link in your email."


@router.get(LINK)
def link_page(request: Request, session: DbSession, token: Token, zone: Zone = "") -> Response:
    found = _read(request, token)
    if found is None:
        return _invalid(request, NOT_VALID)
    public_id, action = found
    now = utcnow()
    try:
        meeting = meeting_list.by_public_id(session, public_id)
    except NotFound as exc:
        return _page(request, 404, title="Meeting not found", message=exc.message)
    shown, unknown = _zone(zone, meeting)
    facts = _facts(session, meeting, shown)
    blocked = _blocked(meeting, action, now)
    if blocked is not None:
        return _page(request, title=TITLES[action], message=blocked, meeting=facts)
    extra = _choices(_free_times(request, meeting, now), shown) if action == "reschedule" else {}
    return _page(request, title=TITLES[action], action=action, token=token, meeting=facts, error=unknown, **extra)


@router.post(LINK)
def confirm_link(
    request: Request,
    session: DbSession,
    token: Token,
    link: Annotated[str, Form(max_length=400)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    zone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    found = _read(request, token)
    if found is None or link != token:
        return _invalid(request, NOT_VALID if found is None else "This form did not come from your meeting link.")
    public_id, action = found
    if action == "reschedule":
        return _reschedule(request, session, public_id, start, zone)
    context = _context(request)
    now = utcnow()
    try:
        meeting = meeting_list.by_public_id(session, public_id)
        if action == "cancel":
            service.cancel(session, meeting, by="visitor", now=now, base_url=context.settings.base_url,
                           secret_key=context.secret_key)  # fmt: skip
            done = "Your meeting is cancelled. You and your host will get an email saying so."
        else:
            service.mark_outcome(session, meeting, action, None, now)
            done = f"The meeting is marked {meeting_list.STATUS_LABELS[action].lower()}. Thank you."
    except NotFound as exc:
        return _page(request, 404, title="Meeting not found", message=exc.message)
    except OvertureError as exc:
        refused = refuse(session, exc, {})
        return _page(request, refused.status, title=TITLES[action], message=refused.message)
    return _page(request, title=TITLES[action], message=done, done=True, meeting=_facts(session, meeting))


def _reschedule(request: Request, session: Session, public_id: str, start: str, asked_zone: str) -> Response:
    """Reads the agent's calendar before writing anything: the request's writing transaction starts only at the
    end, so no write lock is held while the calendar answers."""
    context = _context(request)
    now = utcnow()
    title = TITLES["reschedule"]
    with context.db.read() as reading:
        try:
            meeting = meeting_list.by_public_id(reading, public_id)
        except NotFound as exc:
            return _page(request, 404, title="Meeting not found", message=exc.message)
        zone, _ = _zone(asked_zone, meeting)
        facts = _facts(reading, meeting, zone)
    blocked = _blocked(meeting, "reschedule", now)
    if blocked is not None:
        return _page(request, title=title, message=blocked, meeting=facts)
    slots = _free_times(request, meeting, now)
    again: dict[str, Any] = {"action": "reschedule", "token": request.path_params["token"], "meeting": facts}
    chosen = next((slot for slot in slots if slot.start.isoformat() == start), None)
    if chosen is None:
        message = "That time is no longer free: pick another." if start else "Pick one of the free times below."
        return _page(request, 409 if start else 422, title=title, error=message, **again, **_choices(slots, zone))
    length = meeting.ends_at - meeting.starts_at
    world = context.calendar_world
    free = booking.agent_is_free(world, meeting.agent_id, chosen.start, chosen.start + length, now,
                                 ignore_meeting_id=meeting.id)  # fmt: skip
    if not free:
        fresh = _choices(_free_times(request, meeting, now), zone)
        return _page(request, 409, title=title, error="That time was just taken: pick another.", **again, **fresh)
    try:
        live = meeting_list.by_public_id(session, public_id)
        # Times picked on another clock say where the visitor is: the updated invitation and the reminders use it.
        live.visitor_zone = zone
        service.reschedule(session, live, chosen.start, now=now, base_url=context.settings.base_url,
                           secret_key=context.secret_key)  # fmt: skip
    except OvertureError as exc:
        # Nothing is kept, and the transaction ends before fresh times are read.
        refused = refuse(session, exc, {"start": start, "zone": asked_zone})
        fresh = _choices(_free_times(request, meeting, now), zone)
        return _page(request, refused.status, title=title, error=refused.message, **again, **fresh)
    return _page(request, title="Your meeting is moved", done=True, meeting=_facts(session, live),
                 message="Your meeting is moved. You will get an updated invitation by email.")  # fmt: skip
