"""A dialogue's Reports page: the figures it shows are the API's, its funnel shows the answers chosen and the
meetings held, its breakdowns and CSV files hold the tables' numbers, a wrong period is said beside its field, and
only admins and marketers open it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from analytics.reports import Chat, headers, offer, report
from overture.db import Database
from overture.scheduling.models import Meeting
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking

from support import Personas, publish, sign_in

T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
DAY = {"from": "2026-03-16", "to": "2026-03-16"}
PAGE = "/admin/reports/dialogues/offer"


class _Tables(HTMLParser):
    """The rows of each report table on a page, by the id of the block that holds it, as the cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.block: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "div" and "report-table" in (found.get("class") or "").split():
            self.block = found.get("id") or ""
            self.tables[self.block] = []
        elif tag == "tr" and self.block is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.block is not None:
            self.tables[self.block].append(self.row)
            self.row = None
        elif tag == "table":
            self.block = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def shown_figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'<dd data-figure="([a-z_]+)">([^<]*)</dd>', html))


def csv_rows(client: TestClient, path: str, **params: str) -> list[list[str]]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def day(client: TestClient, db: Database, clock: time_machine.Traveller) -> None:
    """Ada signs up, Bea says no thanks, Cy closes the chat at hello, Dee changes her mind (back) and says no."""
    publish(db, offer())
    ada = Chat(client)
    ada.open()
    ada.choose("0")
    ada.type("ada@example.com")
    bea = Chat(client)
    bea.open()
    bea.choose("1")
    cy = Chat(client)
    cy.open()
    cy.close()
    dee = Chat(client)
    dee.open()
    dee.choose("0")
    dee.back()
    dee.choose("1")


def test_the_figures_shown_are_the_apis(client: TestClient, db: Database, personas: Personas, day: None) -> None:
    api = report(client, headers(db, personas), **DAY)
    sign_in(client, personas.mark)
    page = client.get(PAGE, params=DAY)
    assert page.status_code == 200, page.text
    shown = shown_figures(page.text)
    counts = ("triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked")
    assert {name: int(shown[name]) for name in counts} == {name: api[name] for name in counts}
    assert (api["triggered"], api["engaged"], api["people_acquired"]) == (4, 3, 1)
    assert shown["engagement_rate"] == "75\u00a0%" and shown["conversion_rate"] == "33.3\u00a0%"
    assert tables(page.text)["goals"] == [["Goal", "Conversations"], ["signed_up", "1"]]
    assert "Mon 16 Mar 2026 to Mon 16 Mar 2026, days in UTC" in page.text


def test_the_funnel_shows_each_card_and_the_answers_chosen(client: TestClient, personas: Personas, day: None) -> None:
    sign_in(client, personas.mark)
    found = tables(client.get(PAGE, params=DAY).text)
    assert found["funnel"] == [
        ["Step", "Reached", "Share of start", "Stopped here"],
        ["hello", "4", "100 %", "1"],
        ["ask_email", "2", "50 %", "0"],
        ["thanks", "1", "25 %", "0"],
        ["bye", "2", "50 %", "0"],
    ]
    assert found["answers"][1:] == [["hello", "Tell me more", "1", "25 %"], ["hello", "No thanks", "2", "50 %"]]


@time_machine.travel(datetime(2027, 1, 12, 14, 0, tzinfo=UTC), tick=False)
def test_the_funnel_follows_through_to_the_meeting_held(client: TestClient, db: Database, personas: Personas) -> None:
    make_agents(db, 2)
    publish_booking(db)
    for email in ("ann@acme.example", "bea@acme.example"):
        visitor = Visitor(client)
        visitor.pick(first_time(visitor.to_the_slots(email)))
    with db.write() as session:
        first = session.scalars(select(Meeting.id).order_by(Meeting.id)).first()
        session.execute(update(Meeting).where(Meeting.id == first).values(status="held"))

    sign_in(client, personas.alice)
    found = tables(client.get("/admin/reports/dialogues/demo", params={"from": "2027-01-12", "to": "2027-01-12"}).text)
    assert found["funnel"][-2:] == [["Meeting booked", "2", "100 %", "1"], ["Meeting held", "1", "50 %", "0"]]


def test_a_breakdown_shows_its_groups_and_its_csv_holds_them(
    client: TestClient, personas: Personas, day: None, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=5))
    reader = Chat(client)
    reader.open(page="https://example.com/blog?utm_source=news")
    sign_in(client, personas.mark)

    page = client.get(PAGE, params={**DAY, "by": "page"})
    assert tables(page.text)["breakdown"][1:] == [
        ["https://example.com/pricing", "4", "3", "3", "1", "0", "75 %", "33.3 %"],
        ["https://example.com/blog", "1", "0", "0", "0", "0", "0 %", "—"],
    ]
    assert 'aria-current="page">Page<' in page.text
    assert csv_rows(client, f"{PAGE}/breakdown.csv", **DAY, by="utm_source") == [
        [
            "utm_source",
            "conversations",
            "engaged",
            "completed",
            "people_acquired",
            "meetings_booked",
            "engagement_rate",
            "conversion_rate",
        ],  # fmt: skip
        ["(none)", "4", "3", "3", "1", "0", "0.75", "0.3333"],
        ["news", "1", "0", "0", "0", "0", "0", ""],
    ]


def test_each_table_has_its_csv_with_the_same_numbers(client: TestClient, personas: Personas, day: None) -> None:
    sign_in(client, personas.mark)
    page = client.get(PAGE, params=DAY).text
    for name in ("goals", "daily", "funnel", "answers", "breakdown"):
        assert f'href="{PAGE}/{name}.csv?from=2026-03-16&amp;to=2026-03-16"' in page, name
    assert csv_rows(client, f"{PAGE}/funnel.csv", **DAY)[1:3] == [
        ["hello", "4", "1", "1"],
        ["ask_email", "2", "0.5", "0"],
    ]
    daily = csv_rows(client, f"{PAGE}/daily.csv", **DAY)
    assert daily == [
        [
            "day",
            "triggered",
            "engaged",
            "completed",
            "dismissed",
            "people_acquired",
            "meetings_booked",
            "engagement_rate",
            "conversion_rate",
        ],  # fmt: skip
        ["2026-03-16", "4", "3", "3", "1", "1", "0", "0.75", "0.3333"],
    ]
    figures = dict(csv_rows(client, f"{PAGE}/figures.csv", **DAY)[1:])
    assert (figures["Triggered"], figures["Goal: signed_up"], figures["Engagement rate"]) == ("4", "1", "0.75")


def test_the_default_period_is_the_last_30_days_in_the_viewers_zone(
    client: TestClient, personas: Personas, day: None
) -> None:
    sign_in(client, personas.mark)
    page = client.get(PAGE).text
    assert "Sun 15 Feb 2026 to Mon 16 Mar 2026, days in UTC" in page
    assert 'name="from" value="2026-02-15"' in page and 'name="to" value="2026-03-16"' in page
    assert len(tables(page)["daily"]) == 1 + 30


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"from": "2026-03-10", "to": "2026-03-09"}, "from", "2026-03-10 is after to (2026-03-09)"),
        ({"from": "2026-02-30"}, "from", "use a date such as 2026-03-16."),
        ({"zone": "Mars/Olympus_Mons"}, "zone", "is not an IANA time zone"),
        ({"from": "2025-01-01", "to": "2026-03-10"}, "to", "at most 366"),
    ],
)
def test_a_wrong_period_is_said_beside_its_field(
    client: TestClient, personas: Personas, day: None, params: dict[str, str], field: str, says: str
) -> None:
    sign_in(client, personas.mark)
    page = client.get(PAGE, params=params)
    assert page.status_code == 422
    problem = re.search(rf'<span id="{field}-problem" class="problem">([^<]*)</span>', page.text)
    assert problem is not None and says in problem.group(1)
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', page.text)
    assert 'data-figure="triggered"' not in page.text  # no figures of a period that is not one


def test_an_unknown_dialogue_is_not_found(client: TestClient, personas: Personas, day: None) -> None:
    sign_in(client, personas.mark)
    assert client.get("/admin/reports/dialogues/nope").status_code == 404


def test_agents_and_sales_admins_may_not_open_reports(client: TestClient, personas: Personas, day: None) -> None:
    for persona in (personas.bob, personas.sam):
        client.cookies.clear()
        sign_in(client, persona)
        for path in (PAGE, f"{PAGE}/daily.csv", "/admin/reports"):
            assert client.get(path).status_code == 403, (persona.email, path)


def test_the_dashboard_shows_the_apis_figures_and_links_each_dialogue_to_its_report(
    client: TestClient, db: Database, personas: Personas, day: None
) -> None:
    api = client.get("/api/v1/admin/reports/dashboard", params=DAY, headers=headers(db, personas)).json()
    sign_in(client, personas.mark)
    page = client.get("/admin/reports", params=DAY)
    assert page.status_code == 200, page.text
    shown = shown_figures(page.text)
    counts = ("conversations", "triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked")
    assert {name: int(shown[name]) for name in counts} == {name: api["totals"][name] for name in counts}
    assert (api["totals"]["conversations"], api["totals"]["triggered"]) == (4, 4)
    found = tables(page.text)
    assert found["dialogues"][1:] == [["Offer", "4", "3", "3", "1", "0", "75 %", "33.3 %"]]
    assert f'<a href="{PAGE}?from=2026-03-16&amp;to=2026-03-16">Offer</a>' in page.text
    assert found["pages"][1:] == [["https://example.com/pricing", "4", "3", "1"]]
    assert "Nothing here yet" not in page.text


def test_each_dashboard_table_has_its_csv(client: TestClient, personas: Personas, day: None) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/reports", params=DAY).text
    for name in ("figures", "daily", "dialogues", "pages", "meetings-by-agent", "meetings-by-dialogue"):
        assert f'href="/admin/reports/{name}.csv?from=2026-03-16&amp;to=2026-03-16"' in page, name
    assert csv_rows(client, "/admin/reports/dialogues.csv", **DAY) == [
        [
            "dialogue",
            "triggered",
            "engaged",
            "completed",
            "people_acquired",
            "meetings_booked",
            "engagement_rate",
            "conversion_rate",
        ],  # fmt: skip
        ["Offer", "4", "3", "3", "1", "0", "0.75", "0.3333"],
    ]
    assert csv_rows(client, "/admin/reports/meetings-by-agent.csv", **DAY) == [["agent", "booked", "held", "no_show"]]


@time_machine.travel(datetime(2027, 1, 12, 14, 0, tzinfo=UTC), tick=False)
def test_the_dashboard_counts_meetings_booked_held_and_missed_by_agent_and_dialogue(
    client: TestClient, db: Database, personas: Personas
) -> None:
    make_agents(db, 2)
    publish_booking(db)
    for email in ("ann@acme.example", "bea@acme.example", "cy@acme.example"):
        visitor = Visitor(client)
        visitor.pick(first_time(visitor.to_the_slots(email)))
    with db.write() as session:
        ann, bea, _ = session.scalars(select(Meeting.id).order_by(Meeting.id)).all()
        session.execute(update(Meeting).where(Meeting.id == ann).values(status="held"))
        session.execute(update(Meeting).where(Meeting.id == bea).values(status="no_show"))

    sign_in(client, personas.alice)
    found = tables(client.get("/admin/reports", params={"from": "2027-01-12", "to": "2027-01-12"}).text)
    assert found["meetings-by-agent"][1:] == [["Agent 1", "2", "1", "0"], ["Agent 2", "1", "0", "1"]]
    assert found["meetings-by-dialogue"][1:] == [["Book a demo", "3", "1", "1"]]


def test_a_wrong_dashboard_period_is_said_beside_its_field(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/reports", params={"from": "2026-03-10", "to": "2026-03-09"})
    assert page.status_code == 422
    assert '<span id="from-problem" class="problem">2026-03-10 is after to (2026-03-09)' in page.text
