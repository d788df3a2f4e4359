"""The meeting invitation email: the site's body (a sandboxed Jinja template) plus the iCalendar invitation.

An invitation is an iMIP message (RFC 6047): text and HTML alternatives, then the VCALENDAR as a
`text/calendar; method=REQUEST` alternative, the one calendar part (Gmail, Outlook and Apple Mail show accept buttons
from it; a second copy as a file only showed twice). A cancellation is built the same way with METHOD:CANCEL.

The body is written by a site's admin: it runs in Jinja's sandbox (no attribute tricks, no huge results), is plain
text with tokens, and becomes HTML with every value escaped, the links made clickable and the visitor's reschedule
and cancel links made buttons. A name the visitor never gave renders as nothing and takes the space before it along,
so "Hello {{ visitor_name }}," greets "Hello," rather than "Hello ," (or the visitor's email address).

A broken template is reported with its line by `preview` and `check_template`; when one still reaches a send, the
default body is used, because an invitation the visitor never gets is worse than a plain one.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from icalendar import Calendar
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_DATA, Token, TokenStream
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from overture.errors import InvalidInput, Problem
from overture.mail.compose import CANCELLATION_KIND, INVITATION_KIND
from overture.mail.models import OutboxMessage
from overture.mail.schemas import Attachment, NewMessage
from overture.mail.service import enqueue
from overture.mail.templates import render

log = structlog.get_logger(__name__)

MAX_TEMPLATE_LENGTH = 20_000
# A sandboxed `'x' * 10**9` would still eat the memory: results of * and ** are kept small.
_MAX_RESULT_LENGTH = 100_000

# The tokens a body can use, with what they hold (docs/meetings.md lists the same).
TOKENS: dict[str, str] = {
    "visitor_name": "The visitor's full name, as they gave it (empty when they gave none).",
    "visitor_first_name": "The visitor's first name (empty when they gave none).",
    "agent_name": "The name of the agent who takes the meeting.",
    "title": "The meeting's title, e.g. “Product demo”.",
    "start_time": "When it starts, in the visitor's time zone, with the zone named: "
    "“Tuesday 10 March 2026 at 14:00 CET (Europe/Paris)”.",
    "duration": "How long it lasts: “30 minutes”, “1 hour 15 minutes”.",
    "meeting_link": "The video-call link.",
    "reschedule_link": "The visitor's link to pick another time.",
    "cancel_link": "The visitor's link to cancel.",
}

DEFAULT_BODY = """Hello {{ visitor_first_name }},

{{ agent_name }} is looking forward to meeting you on {{ start_time }}, for {{ duration }}.

{% if meeting_link %}
Join the meeting: {{ meeting_link }}

{% endif %}
Need another time? {{ reschedule_link }}
Can't make it? {{ cancel_link }}

Add the invitation to your calendar to get a reminder.
"""

CANCELLATION_BODY = """Hello {{ visitor_first_name }},

Your meeting “{{ title }}” with {{ agent_name }} on {{ start_time }} is cancelled.
"""


@dataclass(frozen=True)
class InvitationDetails:
    """What the email says. `start` and `end` are aware datetimes; `visitor_zone` is an IANA name; the visitor's
    names are empty strings when not known (never their email address: "Hello dana@…" greets nobody)."""

    visitor_name: str
    visitor_email: str
    visitor_zone: str
    agent_name: str
    title: str
    start: datetime
    end: datetime
    meeting_link: str = ""
    reschedule_link: str = ""
    cancel_link: str = ""
    visitor_first_name: str = ""


SAMPLE = InvitationDetails(
    visitor_name="Chloé Martin",
    visitor_email="chloe.martin@example.com",
    visitor_zone="Europe/Paris",
    agent_name="Rita Rep",
    title="Product demo",
    start=datetime(2030, 3, 12, 13, 0, tzinfo=ZoneInfo("UTC")),
    end=datetime(2030, 3, 12, 13, 30, tzinfo=ZoneInfo("UTC")),
    meeting_link="https://meet.example.com/rita-rep",
    reschedule_link="https://overture.example.com/meetings/sample/reschedule",
    cancel_link="https://overture.example.com/meetings/sample/cancel",
    visitor_first_name="Chloé",
)


@dataclass(frozen=True)
class TemplateProblem:
    """Why a body cannot be rendered: a sentence, and the template line it is on when known."""

    message: str
    line: int | None

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Body:
    text: str
    html: str


@dataclass(frozen=True)
class Preview:
    """What the admin sees: the rendered body, or the problem (never both)."""

    body: Body | None
    problem: TemplateProblem | None


def format_start(start: datetime, zone: str) -> str:
    """'Tuesday 10 March 2026 at 14:00 CET (Europe/Paris)': the time there, and which zone it is."""
    local = start.astimezone(ZoneInfo(zone))
    abbreviation = local.tzname() or ""
    named = f"{abbreviation} ({zone})" if abbreviation and abbreviation != zone else zone
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {named}"


def format_duration(length: timedelta) -> str:
    """'30 minutes', '1 hour', '1 hour 15 minutes'."""
    hours, minutes = divmod(round(length.total_seconds() / 60), 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def preview(template: str, sample: InvitationDetails = SAMPLE) -> Preview:
    """Renders the body with sample details for the admin; a broken template gives its problem, not an error."""
    try:
        return Preview(render_body(template, sample), None)
    except _BodyError as exc:
        return Preview(None, exc.problem)


def check_template(template: str) -> None:
    """Raises InvalidInput naming the line and the mistake when the body cannot be rendered; None when it can."""
    problem = preview(template).problem
    if problem is not None:
        sentence = str(problem) if str(problem).endswith(".") else f"{problem}."
        raise InvalidInput("The invitation email body has a mistake.", [Problem("invitation_body", sentence)])


def render_body(template: str, details: InvitationDetails) -> Body:
    """The body as text and as HTML. Raises _BodyError (with the line) when the template cannot be rendered."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise _BodyError(TemplateProblem(f"The body is longer than {MAX_TEMPLATE_LENGTH} characters", None))
    text = _render(_text_environment(), template, _values(details, html=False))
    html = _render(_html_environment(), template, _values(details, html=True))
    return Body(text=_close_gaps(text), html=_close_gaps(_paragraphs(html)))


def invitation_message(
    details: InvitationDetails, ics: bytes, template: str | None = None, *, updated: bool = False
) -> NewMessage:
    """The invitation (or, `updated`, the new time of a rescheduled meeting) for the visitor, with the site's body."""
    _require_method(ics, "REQUEST")
    body = _body_or_default(template, details)
    label = "Updated invitation" if updated else "Invitation"
    return _message(details, ics, "REQUEST", INVITATION_KIND, f"{label}: {details.title}", body)


def cancellation_message(details: InvitationDetails, ics: bytes) -> NewMessage:
    """Tells the visitor the meeting is cancelled, carrying the METHOD:CANCEL object that removes it from calendars."""
    _require_method(ics, "CANCEL")
    body = render_body(CANCELLATION_BODY, details)
    return _message(details, ics, "CANCEL", CANCELLATION_KIND, f"Cancelled: {details.title}", body)


def queue_invitation(
    session: Session, details: InvitationDetails, ics: bytes, template: str | None = None, *, updated: bool = False
) -> OutboxMessage:
    """Queues the invitation in the caller's transaction (see mail.service.enqueue)."""
    return enqueue(session, invitation_message(details, ics, template, updated=updated))


def queue_cancellation(session: Session, details: InvitationDetails, ics: bytes) -> OutboxMessage:
    """Queues the cancellation in the caller's transaction (see mail.service.enqueue)."""
    return enqueue(session, cancellation_message(details, ics))


def _message(details: InvitationDetails, ics: bytes, method: str, kind: str, label: str, body: Body) -> NewMessage:
    subject = f"{label} — {format_start(details.start, details.visitor_zone)}"
    return NewMessage(
        to=[details.visitor_email],
        subject=subject if len(subject) <= 300 else subject[:299] + "…",
        text_body=body.text,
        html_body=render("invitation.html", title=details.title, body=Markup(body.html), body_style=BODY_STYLE),
        kind=kind,
        attachments=[
            # The iMIP part: compose.py makes this row the last alternative of the body, not a file. The Outbox
            # page offers it as invite.ics.
            Attachment(
                filename="invite.ics", content_type=f"text/calendar; method={method}; charset=UTF-8", content=ics
            ),
        ],
    )


def _require_method(ics: bytes, method: str) -> None:
    # The part's method= must equal the object's METHOD, or clients do not treat it as an invitation.
    found = str(Calendar.from_ical(ics).get("METHOD", ""))
    if found.upper() != method:
        raise InvalidInput(
            "The calendar object does not match the email.",
            [Problem("ics", f"Expected METHOD:{method}, found “{found or 'no METHOD'}”.")],
        )


def _body_or_default(template: str | None, details: InvitationDetails) -> Body:
    if template:
        try:
            return render_body(template, details)
        except _BodyError as exc:
            log.warning("invitation_template_broken", problem=str(exc.problem))
    return render_body(DEFAULT_BODY, details)


def _values(details: InvitationDetails, *, html: bool) -> dict[str, Any]:
    link: Callable[[str], Any] = _anchor if html else str
    return {
        "visitor_name": details.visitor_name or _Unknown(),
        "visitor_first_name": details.visitor_first_name or _Unknown(),
        "agent_name": details.agent_name,
        "title": details.title,
        "start_time": format_start(details.start, details.visitor_zone),
        # In UTC: Python subtracts two times of one zone by the wall clock, which lies on the night clocks change.
        "duration": format_duration(details.end.astimezone(UTC) - details.start.astimezone(UTC)),
        "meeting_link": link(details.meeting_link),
        "reschedule_link": _button(details.reschedule_link, "Pick another time", _BUTTON_STYLE)
        if html
        else details.reschedule_link,
        "cancel_link": _button(details.cancel_link, "Cancel the meeting", _QUIET_BUTTON_STYLE)
        if html
        else details.cancel_link,
    }


def _anchor(url: str) -> Markup | str:
    if not re.match(r"https?://", url):
        return url  # autoescaped as text
    return Markup('<a href="{0}">{0}</a>').format(url)


# Inline styles: mail clients drop <style> blocks. White on #1f5fbf has a contrast of 6.09:1 (WCAG AA); Outlook's
# Word engine ignores the padding and shows a coloured link, which still reads as one.
_BUTTON_STYLE = (
    "display:inline-block;margin:4px 0;padding:10px 18px;border:2px solid #1f5fbf;border-radius:6px;"
    "background-color:#1f5fbf;color:#ffffff;font-weight:600;text-decoration:none"
)
# Cancelling is the quieter choice: the same shape, outlined (#1f5fbf on white, 6.09:1).
_QUIET_BUTTON_STYLE = _BUTTON_STYLE.replace(
    "background-color:#1f5fbf;color:#ffffff", "background-color:#ffffff;color:#1f5fbf"
)


BODY_STYLE = (
    "font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.5; "
    "color: #1f2328;"
)
# Every style attribute an invitation carries: the admin's CSP allows exactly these (by hash) so that the preview of
# the invitation on the Sites page looks as the mail does.
INLINE_STYLES = (BODY_STYLE, _BUTTON_STYLE, _QUIET_BUTTON_STYLE)


def _button(url: str, label: str, style: str) -> Markup | str:
    """A link that looks like a button, named by what it does: the 100-character signed URL says nothing to a
    reader (the text part still carries it)."""
    if not re.match(r"https?://", url):
        return url  # autoescaped as text
    return Markup('<a href="{0}" style="{1}">{2}</a>').format(url, style, label)


class _Unknown(str):
    """A name the visitor never gave: empty and false in the template, and marked in the output (see _finalize)."""


# Where an unknown name was written: _close_gaps removes the mark with the spaces before it.
_GAP = "\x00"


def _finalize(value: Any) -> Any:
    return _GAP if isinstance(value, _Unknown) else value


def _close_gaps(rendered: str) -> str:
    return re.sub(f"[ \t]*{_GAP}", "", rendered)


def _paragraphs(html: str) -> str:
    """Blank lines separate paragraphs, single line breaks stay breaks (the input is already escaped HTML)."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", html.strip()) if block.strip()]
    return "\n".join("<p>" + "<br>\n".join(line.strip() for line in block.splitlines()) + "</p>" for block in blocks)


class _BodyError(Exception):
    def __init__(self, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _render(environment: SandboxedEnvironment, template: str, values: dict[str, Any]) -> str:
    try:
        return environment.from_string(template).render(values)
    except TemplateSyntaxError as exc:
        raise _BodyError(TemplateProblem(exc.message or "the template cannot be read", exc.lineno)) from exc
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
        message = str(exc) or type(exc).__name__
        raise _BodyError(TemplateProblem(message, _template_line(exc.__traceback__))) from exc


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line a rendering error happened on: Jinja rewrites tracebacks to point into the template."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


class _EscapedText(Extension):
    """Escapes the template's own text for the HTML part (values are escaped by autoescape): the body is plain text."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        for token in stream:
            if token.type == TOKEN_DATA:
                yield Token(token.lineno, token.type, str(escape(token.value)))
            else:
                yield token


class _BodyEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Every value is escaped in the HTML part: a body may not unescape one (a visitor's name is visitor input).
        for name in ("safe", "forceescape", "xmlattr"):
            self.filters.pop(name, None)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**" and isinstance(right, int | float) and abs(right) > 100:
            raise SecurityError("the power is too large")
        if operator_ == "*" and any(isinstance(side, str | list | tuple) for side in (left, right)):
            count = right if isinstance(left, str | list | tuple) else left
            size = len(left if isinstance(left, str | list | tuple) else right)
            if isinstance(count, int) and count * size > _MAX_RESULT_LENGTH:
                raise SecurityError("the repeated text is too long")
        return (operator.pow if operator_ == "**" else operator.mul)(left, right)


@functools.cache
def _text_environment() -> SandboxedEnvironment:
    return _BodyEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True, finalize=_finalize
    )


@functools.cache
def _html_environment() -> SandboxedEnvironment:
    return _BodyEnvironment(
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_EscapedText],
        finalize=_finalize,
    )
