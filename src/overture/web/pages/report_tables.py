"""The tables and charts of the Reports pages, built once from a report and shown three ways: as an HTML table (what
a screen reader and a browser without JavaScript read), as the chart static/reports.js draws from the same numbers,
and as the table's CSV. A table's CSV is the table: the same rows and columns, with dates and rates as the API
writes them (2026-03-16, 0.25)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from fastapi.responses import Response

from overture.analytics.schemas import Breakdown, Dashboard, DialogueReport, Figures, MeetingCount

Kind = Literal["text", "int", "rate", "share", "date", "link"]

FIGURE_LABELS = {
    "conversations": "Conversations",
    "triggered": "Triggered",
    "engaged": "Engaged",
    "completed": "Completed",
    "dismissed": "Dismissed",
    "people_acquired": "People acquired",
    "meetings_booked": "Meetings booked",
    "engagement_rate": "Engagement rate",
    "conversion_rate": "Conversion rate",
}
COUNTS = ("triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked")
RATES = ("engagement_rate", "conversion_rate")
# The counts the daily chart draws (dismissed stays in the table: it is not a step towards a result).
CHARTED = ("triggered", "engaged", "completed", "people_acquired", "meetings_booked")


@dataclass(frozen=True)
class Column:
    key: str  # the CSV's header
    heading: str  # the table's
    kind: Kind = "int"


@dataclass
class Table:
    """One table of a page. A row holds a value per column: a `link` cell is (label, url), a `share` cell a
    fraction shown as a bar and a percentage."""

    name: str  # its id on the page and its CSV's name
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    csv_url: str = ""
    empty: str = "Nothing in this period."
    note: str = ""
    chart: dict[str, Any] | None = field(default=None)


def percent(rate: float | None) -> str:
    """0.25 as "25 %", 1/3 as "33.3 %"; a rate without denominator as a dash."""
    if rate is None:
        return "—"
    shown = f"{rate * 100:.1f}".removesuffix(".0")
    return f"{shown}\u00a0%"


def day_label(day: date) -> str:
    """Mon 2 Mar 2026."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def cell_text(value: Any, kind: Kind) -> str:
    """A cell as the HTML table shows it."""
    if kind in ("rate", "share"):
        return percent(value)
    if kind == "date":
        return day_label(value)
    if kind == "link":
        return str(value[0])
    return "" if value is None else str(value)


def _csv_value(value: Any, kind: Kind) -> str:
    if kind in ("rate", "share"):
        return "" if value is None else f"{value:.4f}".rstrip("0").rstrip(".")
    if kind == "date":
        return str(value.isoformat())
    if kind == "link":
        return str(value[0])
    return "" if value is None else str(value)


def _cell(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ would make it a formula (CSV injection), as the
    meetings CSV does."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(table: Table, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow(_cell(_csv_value(value, column.kind)) for value, column in zip(row, table.columns, strict=True))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def chart(
    series: Sequence[tuple[str, Sequence[float | int | None]]], days: Sequence[date], *, rates: bool
) -> dict[str, Any]:
    """What reports.js draws: each day as the instant of its midnight in UTC (the chart shows it as that date,
    whatever the browser's zone), and each series' values."""
    return {
        "x": [int(datetime.combine(day, time(), UTC).timestamp()) for day in days],
        "series": [{"label": label, "values": list(values)} for label, values in series],
        "rates": rates,
    }


# --- a dialogue's report ---------------------------------------------------------------------------------------


def figures_table(report: DialogueReport) -> Table:
    rows: list[list[Any]] = [[FIGURE_LABELS[name], getattr(report, name)] for name in COUNTS]
    rows += [[f"Goal: {name}", count] for name, count in report.goals.items()]
    return Table(
        "figures",
        "Figures",
        [Column("figure", "Figure", "text"), Column("value", "Value")],
        rows + [[FIGURE_LABELS[name], getattr(report, name)] for name in RATES],
    )


def goals_table(report: DialogueReport) -> Table:
    return Table(
        "goals",
        "Goals reached",
        [Column("goal", "Goal", "text"), Column("conversations", "Conversations")],
        [[name, count] for name, count in report.goals.items()],
        empty="No goal reached in this period.",
    )


def _daily_rows(daily: Mapping[date, Figures], names: Sequence[str]) -> list[list[Any]]:
    return [[day, *(getattr(figures, name) for name in names)] for day, figures in daily.items()]


def daily_table(report: DialogueReport) -> Table:
    days = list(report.daily)
    return Table(
        "daily",
        "Day by day",
        [Column("day", "Day", "date")]
        + [Column(name, FIGURE_LABELS[name]) for name in COUNTS]
        + [Column(name, FIGURE_LABELS[name], "rate") for name in RATES],
        _daily_rows(report.daily, (*COUNTS, *RATES)),
        chart=chart(
            [(FIGURE_LABELS[name], [getattr(report.daily[day], name) for day in days]) for name in CHARTED],
            days,
            rates=False,
        ),
    )


MEETING_BOOKED, MEETING_HELD = "Meeting booked", "Meeting held"


def funnel_table(report: DialogueReport, books_meetings: bool) -> Table:
    """The cards, then the meeting booked and held. The share is of the conversations that entered the start card;
    a meeting step's "stopped here" is the meetings booked and not held (no-show, cancelled, or not marked yet)."""
    start = report.funnel[0].reached if report.funnel else 0
    rows: list[list[Any]] = [
        [step.card, step.reached, step.reached / start if start else None, step.dropped] for step in report.funnel
    ]
    meetings = report.funnel_meetings
    if meetings.booked or books_meetings:
        rows.append([MEETING_BOOKED, meetings.booked, meetings.booked / start if start else None,
                     meetings.booked - meetings.held])  # fmt: skip
        rows.append([MEETING_HELD, meetings.held, meetings.held / start if start else None, 0])
    return Table(
        "funnel",
        "Funnel",
        [
            Column("step", "Step", "text"),
            Column("reached", "Reached"),
            Column("share_of_start", "Share of start", "share"),
            Column("stopped_here", "Stopped here"),
        ],  # fmt: skip
        rows,
        empty="No card to show: the dialogue was never published.",
        note="Counted over the conversations started in the period. Stopped here: closed, left, or still waiting at "
        "that card; after a meeting booked, the meetings not held (no-show, cancelled, or not marked yet).",
    )


def answers_table(report: DialogueReport) -> Table:
    rows = [
        [step.card, answer.answer, answer.chosen, answer.chosen / step.reached if step.reached else None]
        for step in report.funnel
        for answer in step.answers
    ]
    return Table(
        "answers",
        "Answers chosen",
        [
            Column("card", "Card", "text"),
            Column("answer", "Answer", "text"),
            Column("chosen", "Chosen"),
            Column("share_of_card", "Share of the card's conversations", "share"),
        ],  # fmt: skip
        rows,
        empty="No card of buttons or options in this dialogue.",
        note="At each card of buttons or options, how many conversations chose each answer (an answer undone by "
        "going back does not count).",
    )


def breakdown_table(split: Breakdown, title: str, heading: str) -> Table:
    return Table(
        "breakdown",
        title,
        [
            Column(split.by, heading, "text"),
            Column("conversations", "Conversations"),
            Column("engaged", "Engaged"),
            Column("completed", "Completed"),
            Column("people_acquired", "People acquired"),
            Column("meetings_booked", "Meetings booked"),
            Column("engagement_rate", "Engagement rate", "rate"),
            Column("conversion_rate", "Conversion rate", "rate"),
        ],  # fmt: skip
        [
            [
                row.label,
                row.conversations,
                row.engaged,
                row.completed,
                row.people_acquired,
                row.meetings_booked,
                row.engagement_rate,
                row.conversion_rate,
            ]  # fmt: skip
            for row in split.rows
        ],
        empty="No conversation started in this period.",
    )


# --- the dashboard ---------------------------------------------------------------------------------------------

DASHBOARD_COUNTS = ("conversations", "triggered", "engaged", "completed", "dismissed", "people_acquired",
                    "meetings_booked")  # fmt: skip


def dashboard_figures_table(board: Dashboard) -> Table:
    rows: list[list[Any]] = [[FIGURE_LABELS[name], getattr(board.totals, name)] for name in DASHBOARD_COUNTS]
    rows += [[f"Goal: {name}", count] for name, count in board.totals.goals.items()]
    rows += [[FIGURE_LABELS[name], getattr(board.totals, name)] for name in RATES]
    return Table("figures", "Figures", [Column("figure", "Figure", "text"), Column("value", "Value")], rows)


def dashboard_daily_table(board: Dashboard) -> Table:
    return Table(
        "daily",
        "Day by day",
        [Column("day", "Day", "date")]
        + [Column(name, FIGURE_LABELS[name]) for name in DASHBOARD_COUNTS]
        + [Column(name, FIGURE_LABELS[name], "rate") for name in RATES],
        [
            [day, *(getattr(figures, name) for name in (*DASHBOARD_COUNTS, *RATES))]
            for day, figures in board.daily.items()
        ],
    )


def dashboard_charts(board: Dashboard) -> tuple[dict[str, Any], dict[str, Any]]:
    """The conversations and what they yielded each day, and the two rates each day."""
    days = list(board.daily)
    counts = [(FIGURE_LABELS[name], [getattr(board.daily[day], name) for day in days])
              for name in ("conversations", "engaged", "people_acquired", "meetings_booked")]  # fmt: skip
    rates = [(FIGURE_LABELS[name], [getattr(board.daily[day], name) for day in days]) for name in RATES]
    return chart(counts, days, rates=False), chart(rates, days, rates=True)


def top_dialogues_table(board: Dashboard, link: Callable[[str], str]) -> Table:
    names = ("triggered", "engaged", "completed", "people_acquired", "meetings_booked")
    return Table(
        "dialogues",
        "Top dialogues",
        [
            Column("dialogue", "Dialogue", "link"),
            *(Column(name, FIGURE_LABELS[name]) for name in names),
            *(Column(name, FIGURE_LABELS[name], "rate") for name in RATES),
        ],  # fmt: skip
        [
            [
                (top.name, link(top.dialogue)),
                *(getattr(top, name) for name in names),
                top.engagement_rate,
                top.conversion_rate,
            ]  # fmt: skip
            for top in board.top_dialogues
        ],
        empty="No dialogue was shown in this period.",
        note="The most triggered first. Open one for its funnel and breakdowns.",
    )


def top_pages_table(board: Dashboard) -> Table:
    names = ("triggered", "engaged", "people_acquired")
    return Table(
        "pages",
        "Top pages",
        [Column("page", "Page", "text"), *(Column(name, FIGURE_LABELS[name]) for name in names)],
        [[top.page, *(getattr(top, name) for name in names)] for top in board.top_pages],
        empty="No dialogue was shown in this period.",
        note="The pages where dialogues were most triggered, without their query string.",
    )


def meetings_table(name: str, title: str, heading: str, counts: Sequence[MeetingCount]) -> Table:
    return Table(
        name,
        title,
        [
            Column(heading.lower(), heading, "text"),
            Column("booked", "Booked"),
            Column("held", "Held"),
            Column("no_show", "No-show"),
        ],  # fmt: skip
        [[count.label, count.booked, count.held, count.no_show] for count in counts],
        empty="No meeting booked in this period.",
    )
