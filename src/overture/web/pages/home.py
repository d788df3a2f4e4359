"""Home (`GET /admin`): what a person signing in needs to see first, by role.

- Admins and marketers: this week's headline figures (Monday to today) beside last week's same days, from the
  dashboard's rollups (analytics/dashboard.py), each linking to where it is detailed.
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

from overture.analytics import rollups
from overture.analytics.attention import needing_attention
from overture.analytics.dashboard import dashboard
from overture.analytics.schemas import DashboardFigures
from overture.db import utcnow
from overture.scheduling import meeting_list
from overture.scheduling.meeting_list import MeetingRow
from overture.users.models import User
from overture.users.roles import Area, Role, can_open
from overture.web.context import AppContext
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
# The headline figures: the dashboard's total, its label, and where it is detailed (the Reports dashboard of this
# week's days unless another page lists it).
HEADLINES = (
    ("conversations", "Conversations", "/admin/conversations"),
    ("engaged", "Engaged", None),
    ("people_acquired", "People acquired", None),
    ("meetings_booked", "Meetings booked", "/admin/meetings"),
)


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


def day_text(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def week_text(first: date, last: date, today: date | None = None) -> str:
    """ "Monday 2 March to today, Wednesday 4 March", or "Monday 23 to Wednesday 25 February"."""
    end = day_text(last) if today != last else f"today, {day_text(last)}"
    if first == last:
        return end[0].upper() + end[1:]
    same_month = first.month == last.month and today is None
    start = f"{first:%A} {first.day}" if same_month else day_text(first)
    return f"{start} to {end}"


@dataclass(frozen=True)
class Headline:
    """One figure of this week beside last week's same days, and the page that details it."""

    label: str
    now: int
    before: int
    href: str

    @property
    def trend(self) -> str:
        return "up" if self.now > self.before else "down" if self.now < self.before else "same"

    @property
    def change(self) -> str:
        """The change in words (colour only repeats it): "up 4 (+50%) from 8 last week"."""
        if self.trend == "same":
            return f"same as last week ({self.before})"
        difference = abs(self.now - self.before)
        if self.before == 0:
            return f"{self.trend} {difference} from none last week"
        percent = f"{'+' if self.trend == 'up' else '−'}{round(100 * difference / self.before)}%"
        return f"{self.trend} {difference} ({percent}) from {self.before} last week"


def headlines(session: Session, user: User, now: datetime, zone: str, week: Week) -> list[Headline]:
    """This week's conversations, engaged, people acquired and meetings booked, beside last week's same days."""
    this = dashboard(session, first=week.first, last=week.today, zone=zone, now=now, top=0).totals
    last = dashboard(session, first=week.previous_first, last=week.previous_last, zone=zone, now=now, top=0).totals
    period = {"from": week.first.isoformat(), "to": week.today.isoformat(), "zone": zone}
    reports = "/admin/reports?" + urlencode(period)
    return [
        Headline(label, _count(this, name), _count(last, name), _detail(user, page) or reports)
        for name, label, page in HEADLINES
    ]


def _count(figures: DashboardFigures, name: str) -> int:
    count: int = getattr(figures, name)
    return count


def _detail(user: User, page: str | None) -> str | None:
    """The page that lists a figure's rows, if the viewer may open it (a marketer reads meetings in Reports)."""
    if page == "/admin/meetings" and not can_open(user.role, Area.meetings):
        return None
    return page


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
    label = {today: "Today", today + timedelta(days=1): "Tomorrow"}.get(day, day_text(day))
    return NextMeeting(row, label, f"{start:%H:%M}–{end:%H:%M}")


@router.get("/admin")
def home(request: Request, session: DbSession, user: SignedInPageUser) -> Response:
    now = utcnow()
    zone = viewer_zone(session, user)
    week = week_of(now, zone)
    meetings = next_meetings(session, user, now, zone, week) if Role(user.role) in MEETING_ROLES else None
    figures = None
    if can_open(user.role, Area.reports):
        # What was recorded since the rollups' last count is counted first, as for Reports. The request's
        # transaction ends before (it holds the sign-in's note): on SQLite it would not see the new count.
        session.commit()
        context: AppContext = request.app.state.context
        rollups.refresh(context.db, now)
        figures = headlines(session, user, now, zone, week)
    rest_of_week = {"start": week.today.isoformat(), "end": (week.end - timedelta(days=1)).isoformat()}
    return render(
        request,
        "admin/home.html",
        user,
        attention=needing_attention(session, user, now),
        figures=figures,
        this_week=week_text(week.first, week.today, week.today),
        last_week=week_text(week.previous_first, week.previous_last),
        meetings=meetings,
        week_meetings_url="/admin/meetings?" + urlencode(rest_of_week),
        manages_agents=can_open(user.role, Area.routing),
        zone=zone,
        shown=local_time(zone),
    )
