"""Home (`GET /admin`): what a person signing in needs to see first, by role.

- What needs attention (analytics/attention.py): failed calendars, calendar events that cannot be written, failing
  mail; each item says what is wrong and links to the page that fixes it, shown only to roles that can act on it.
- Agents and sales admins: the next meetings of today and the rest of this week (scheduling/meeting_list.py).

Weeks and times are on the viewer's clock (web/pages/meetings.py::viewer_zone): a week runs Monday to Sunday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.analytics.attention import needing_attention
from overture.db import utcnow
from overture.scheduling import meeting_list
from overture.scheduling.meeting_list import MeetingRow
from overture.users.models import User
from overture.users.roles import Area, Role, can_open
from overture.web.deps import DbSession
from overture.web.guards import SignedInPageUser
from overture.web.pages.meetings import local_time, viewer_zone
from overture.web.pages.rendering import page_router, render

router = page_router()

# The next meetings Home lists; the Meetings page, filtered to this week, has them all.
NEXT_SHOWN = 8
# Rows read to find them: the list comes latest first, so Home reads the week's earliest rows (its last page)
# and skips those already over or cancelled.
NEXT_READ = 50
MEETING_ROLES = frozenset({Role.agent, Role.sales_admin})


@dataclass(frozen=True)
class Week:
    """This week so far on the viewer's clock: `first` (its Monday) to `today`; it ends before `end` (next Monday).
    `previous_first` to `previous_last` are the same days of last week, to compare with."""

    first: date
    today: date
    end: date
    previous_first: date
    previous_last: date


def week_of(now: datetime, zone: str) -> Week:
    today = now.astimezone(ZoneInfo(zone)).date()
    first = today - timedelta(days=today.weekday())
    week = timedelta(days=7)
    return Week(first, today, first + week, first - week, today - week)


@dataclass(frozen=True)
class NextMeeting:
    row: MeetingRow
    day: str  # "Today", "Tomorrow" or "Thursday 5 March", on the viewer's clock
    hours: str  # "10:00–10:30"


def next_meetings(session: Session, user: User, now: datetime, zone: str, week: Week) -> list[NextMeeting]:
    """The viewer's meetings (every agent's for a sales admin) not over yet, today and the rest of the week."""
    tz = ZoneInfo(zone)
    filters = meeting_list.Filters(
        start=datetime.combine(week.today, time(), tz), end=datetime.combine(week.end, time(), tz)
    )
    total = meeting_list.list_meetings(session, viewer=user, now=now, filters=filters, limit=1).total
    earliest = meeting_list.list_meetings(
        session, viewer=user, now=now, filters=filters, limit=NEXT_READ, offset=max(0, total - NEXT_READ)
    ).items
    coming = [row for row in reversed(earliest) if row.status != "cancelled" and row.ends_at > now][:NEXT_SHOWN]
    return [_next(row, tz, week.today) for row in coming]


def _next(row: MeetingRow, tz: ZoneInfo, today: date) -> NextMeeting:
    start, end = row.starts_at.astimezone(tz), row.ends_at.astimezone(tz)
    day = start.date()
    label = {today: "Today", today + timedelta(days=1): "Tomorrow"}.get(day, f"{day:%A} {day.day} {day:%B}")
    return NextMeeting(row, label, f"{start:%H:%M}–{end:%H:%M}")


def day_text(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


@router.get("/admin")
def home(request: Request, session: DbSession, user: SignedInPageUser) -> Response:
    now = utcnow()
    zone = viewer_zone(session, user)
    week = week_of(now, zone)
    meetings = next_meetings(session, user, now, zone, week) if Role(user.role) in MEETING_ROLES else None
    this_week = {"start": week.today.isoformat(), "end": (week.end - timedelta(days=1)).isoformat()}
    return render(
        request,
        "admin/home.html",
        user,
        attention=needing_attention(session, user, now),
        meetings=meetings,
        week_meetings_url="/admin/meetings?" + urlencode(this_week),
        manages_agents=can_open(user.role, Area.routing),
        zone=zone,
        shown=local_time(zone),
        week=week,
        day_text=day_text,
    )
