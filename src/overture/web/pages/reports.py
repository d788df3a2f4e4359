"""The Reports pages: the dashboard of every dialogue (`/admin/reports`) and each dialogue's report
(`/admin/reports/dialogues/{key}`): its figures, a daily chart, the funnel with the answers chosen, and breakdowns,
over a period of days in the viewer's zone. Every table has its CSV (`.../{table}.csv`, the same period).

The numbers come from analytics/ (the same functions as the admin API); report_tables.py turns them into the
tables, charts and CSV files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.analytics import rollups
from overture.analytics.breakdowns import BREAKDOWNS, breakdown
from overture.analytics.dashboard import dashboard
from overture.analytics.dialogue_report import dialogue_report, period
from overture.analytics.schemas import Dashboard, DialogueReport
from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.dialogues.document import KEY_PATTERN
from overture.dialogues.models import Dialogue
from overture.errors import InvalidInput, Problem
from overture.users.models import User
from overture.web.deps import DbSession
from overture.web.guards import ReportsPageUser
from overture.web.pages import report_tables as tables
from overture.web.pages.forms import refuse
from overture.web.pages.meetings import viewer_zone
from overture.web.pages.rendering import page_router, render

router = page_router()
PAGE = "/admin/reports"
DialogueKey = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN)]
DIALOGUE_TABLES = ("figures", "goals", "daily", "funnel", "answers", "breakdown")
# Each breakdown: its name in the menu, and its table's title.
BREAKDOWN_NAMES = {
    "page": ("Page", "By page"),
    "utm_source": ("UTM source", "By UTM source"),
    "utm_campaign": ("UTM campaign", "By UTM campaign"),
    "company": ("Company", "By company"),
    "known": ("Known or anonymous", "Known and anonymous visitors"),
    "channel": ("Channel", "By channel: the chat on the site or the landing page"),
}
DialogueTable = Annotated[str, Path(pattern=f"^({'|'.join(DIALOGUE_TABLES)})$")]


def asked_period(
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
    version: Annotated[str, Query(max_length=7)] = "",
    zone: Annotated[str, Query(max_length=64)] = "",
    by: Annotated[str, Query(max_length=20)] = "page",
) -> dict[str, str]:
    """The period form's values as typed (for the page, its links and its CSV files)."""
    return {"from": first.strip(), "to": last.strip(), "version": version.strip(), "zone": zone.strip(), "by": by}


Asked = Annotated[dict[str, str], Depends(asked_period)]


@dataclass(frozen=True)
class Chosen:
    """The period asked for, read: days (None: the default), a version (None: all), the zone."""

    first: date | None
    last: date | None
    version: int | None
    zone: str


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("The period is not valid.", [Problem(name, "use a date such as 2026-03-16.")]) from None


def _chosen(session: Session, user: User, asked: dict[str, str]) -> Chosen:
    """Raises InvalidInput naming the field that is wrong (a malformed day or version); the period's own checks
    (an end before the start, too long, an unknown zone) are the report's."""
    first, last = _day(asked["from"], "from"), _day(asked["to"], "to")
    version = asked["version"]
    if version and not version.isdigit():
        raise InvalidInput("The version is not valid.", [Problem("version", "choose a version of the list.")])
    return Chosen(first, last, int(version) if version else None, asked["zone"] or viewer_zone(session, user))


def _query(asked: dict[str, str], **changes: str) -> str:
    kept = {name: value for name, value in {**asked, **changes}.items() if value and (name, value) != ("by", "page")}
    return f"?{urlencode(kept)}" if kept else ""


# --- the dashboard ---------------------------------------------------------------------------------------------

DASHBOARD_TABLES = ("figures", "daily", "dialogues", "pages", "meetings-by-agent", "meetings-by-dialogue")
DashboardTable = Annotated[str, Path(pattern=f"^({'|'.join(DASHBOARD_TABLES)})$")]


def _dashboard(session: Session, chosen: Chosen) -> Dashboard:
    return dashboard(session, first=chosen.first, last=chosen.last, zone=chosen.zone, now=utcnow())


def _dashboard_tables(board: Dashboard, asked: dict[str, str]) -> list[tables.Table]:
    period_query = _query(asked, version="", by="")
    built = [
        tables.dashboard_figures_table(board),
        tables.dashboard_daily_table(board),
        tables.top_dialogues_table(board, lambda key: f"{PAGE}/dialogues/{key}{period_query}"),
        tables.top_pages_table(board),
        tables.meetings_table("meetings-by-agent", "Meetings by agent", "Agent", board.meetings_by_agent),
        tables.meetings_table("meetings-by-dialogue", "Meetings by dialogue", "Dialogue", board.meetings_by_dialogue),
        tables.meetings_table("meetings-by-source", "Meetings by source", "Source", board.meetings_by_source),
    ]
    for table in built:
        table.csv_url = f"{PAGE}/{table.name}.csv{period_query}"
    return built


@router.get(PAGE)
def dashboard_page(request: Request, session: DbSession, user: ReportsPageUser, asked: Asked) -> Response:
    every = [{"key": d.key, "name": d.name} for d in dialogues.list_all(session) if d.published_version]
    up_to_date(session, request)
    try:
        chosen = _chosen(session, user, {**asked, "version": ""})
        board = _dashboard(session, chosen)
    except InvalidInput as exc:
        refused = refuse(session, exc, asked)
        return render(request, "admin/report_dashboard.html", user, status=refused.status, error=refused.message,
                      problems=refused.problems, board=None, zone=asked["zone"], asked=asked,
                      every=every)  # fmt: skip
    built = {table.name: table for table in _dashboard_tables(board, asked)}
    counts_chart, rates_chart = tables.dashboard_charts(board)
    totals = board.totals
    period_query = _query(asked, version="", by="")
    return render(
        request,
        "admin/report_dashboard.html",
        user,
        board=board,
        figures=[(name, tables.FIGURE_LABELS[name], getattr(totals, name)) for name in tables.DASHBOARD_COUNTS]
        + [(name, tables.FIGURE_LABELS[name], tables.percent(getattr(totals, name))) for name in tables.RATES],
        tables=built,
        counts_chart=counts_chart,
        rates_chart=rates_chart,
        every=[{**item, "url": f"{PAGE}/dialogues/{item['key']}{period_query}"} for item in every],
        cell=tables.cell_text,
        day=tables.day_label,
        zone=chosen.zone,
        asked=asked,
        error=None,
        problems={},
    )


@router.get(PAGE + "/{table}.csv")
def dashboard_csv(
    request: Request, session: DbSession, user: ReportsPageUser, table: DashboardTable, asked: Asked
) -> Response:
    up_to_date(session, request)
    chosen = _chosen(session, user, {**asked, "version": ""})
    board = _dashboard(session, chosen)
    found = next(built for built in _dashboard_tables(board, asked) if built.name == table)
    return tables.csv_response(found, f"reports-{table}-{board.from_}-{board.to}")


# --- a dialogue's report ---------------------------------------------------------------------------------------


def up_to_date(session: Session, request: Request) -> None:
    """Counts what was recorded since the rollups' last run, as the API does before a report (the request's
    transaction ends first: on SQLite it would go on seeing the database as it was before the count)."""
    session.commit()
    rollups.refresh(request.app.state.context.db, utcnow())


def _report(session: Session, key: str, chosen: Chosen) -> DialogueReport:
    return dialogue_report(session, key, first=chosen.first, last=chosen.last, version=chosen.version,
                           zone=chosen.zone, now=utcnow())  # fmt: skip


def _books_meetings(dialogue: Dialogue, report: DialogueReport) -> bool:
    """Whether the listed flow has a book_meeting card (its funnel then goes on to the meeting)."""
    listed = report.version or dialogue.published_version
    version = next((v for v in dialogue.versions if v.number == listed), None)
    cards = version.document["flow"]["cards"] if version is not None else {}
    return any("book_meeting" in card for card in cards.values())


def _dialogue_table(session: Session, dialogue: Dialogue, chosen: Chosen, name: str, by: str) -> tables.Table:
    """One table of the dialogue's report (the breakdown's only when asked: it reads more)."""
    if name == "breakdown":
        split = breakdown(session, dialogue.key, by=by, first=chosen.first, last=chosen.last,
                          version=chosen.version, zone=chosen.zone, now=utcnow())  # fmt: skip
        return tables.breakdown_table(split, BREAKDOWN_NAMES[by][1], BREAKDOWNS[by])
    report = _report(session, dialogue.key, chosen)
    built = {
        "figures": tables.figures_table,
        "goals": tables.goals_table,
        "daily": tables.daily_table,
        "answers": tables.answers_table,
    }
    if name == "funnel":
        return tables.funnel_table(report, _books_meetings(dialogue, report))
    return built[name](report)


@router.get(PAGE + "/dialogues/{key}")
def dialogue_page(
    request: Request, session: DbSession, user: ReportsPageUser, key: DialogueKey, asked: Asked
) -> Response:
    dialogue = dialogues.get(session, key)
    about: dict[str, Any] = {
        "dialogue": {"key": dialogue.key, "name": dialogue.name, "status": dialogue.status},
        "versions": sorted((v.number for v in dialogue.versions), reverse=True),
        "live_version": dialogue.published_version,
        "ran_experiment": any(version.document.get("experiment") for version in dialogue.versions),
        "asked": asked,
        "breakdowns": [
            {"by": by, "label": name, "url": _query(asked, by=by) + "#breakdowns", "current": by == asked["by"]}
            for by, (name, _) in BREAKDOWN_NAMES.items()
        ],
    }
    up_to_date(session, request)
    try:
        chosen = _chosen(session, user, asked)
        report = _report(session, key, chosen)
        split = breakdown(session, key, by=asked["by"], first=chosen.first, last=chosen.last,
                          version=chosen.version, zone=chosen.zone, now=utcnow())  # fmt: skip
    except InvalidInput as exc:
        refused = refuse(session, exc, asked)
        return render(request, "admin/report_dialogue.html", user, status=refused.status, error=refused.message,
                      problems=refused.problems, report=None, zone=asked["zone"], **about)  # fmt: skip
    base = f"{PAGE}/dialogues/{key}"
    built = [
        tables.goals_table(report),
        tables.daily_table(report),
        tables.funnel_table(report, _books_meetings(dialogue, report)),
        tables.answers_table(report),
        tables.breakdown_table(split, BREAKDOWN_NAMES[split.by][1], BREAKDOWNS[split.by]),
    ]
    for table in built:
        table.csv_url = f"{base}/{table.name}.csv" + _query(asked, by=asked["by"] if table.name == "breakdown" else "")
    return render(
        request,
        "admin/report_dialogue.html",
        user,
        report=report,
        figures=[(name, tables.FIGURE_LABELS[name], getattr(report, name)) for name in tables.COUNTS],
        rates=[(name, tables.FIGURE_LABELS[name], tables.percent(getattr(report, name))) for name in tables.RATES],
        figures_csv=f"{base}/figures.csv" + _query(asked, by=""),
        tables={table.name: table for table in built},
        cell=tables.cell_text,
        day=tables.day_label,
        zone=chosen.zone,
        error=None,
        problems={},
        **about,
    )


@router.get(PAGE + "/dialogues/{key}/{table}.csv")
def dialogue_csv(
    request: Request, session: DbSession, user: ReportsPageUser, key: DialogueKey, table: DialogueTable, asked: Asked
) -> Response:
    up_to_date(session, request)
    dialogue = dialogues.get(session, key)
    chosen = _chosen(session, user, asked)
    days = period(chosen.first, chosen.last, chosen.zone, utcnow())
    found = _dialogue_table(session, dialogue, chosen, table, asked["by"])
    name = f"{key}-{table}" + (f"-{asked['by']}" if table == "breakdown" else "")
    return tables.csv_response(found, f"{name}-{days.first}-{days.last}")
