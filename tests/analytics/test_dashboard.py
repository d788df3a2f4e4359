"""The dashboard against a hand-counted fixture: visitors run two dialogues on two pages and book meetings with two
agents, who mark them held and no-show; the figures are read through the admin API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.db import Database
from overture.scheduling import meetings
from overture.scheduling.models import Meeting
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking

from .reports import Chat, figures, headers, offer
from support import Personas, publish, token_for

DASHBOARD = "/api/v1/admin/reports/dashboard"
T0 = datetime(2027, 1, 12, 14, 0, tzinfo=UTC)
DAY = "2027-01-12"


def dashboard(client: TestClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(DASHBOARD, params=params, headers=auth)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return headers(db, personas)


@time_machine.travel(T0, tick=False)
def test_the_dashboard_sums_every_dialogue_and_ranks_dialogues_pages_and_meetings(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    publish(db, offer())
    publish(db, offer("other"))
    make_agents(db, 2)
    publish_booking(db)
    ada = Chat(client)
    ada.open(page="https://example.com/pricing?utm_source=ads")
    ada.choose("0")
    ada.type("ada@example.com")  # engaged, acquired, goal, completed
    closer = Chat(client)
    closer.open(page="https://example.com/features")
    closer.close()
    no_thanks = Chat(client)
    no_thanks.open(page="https://example.com/pricing")
    no_thanks.choose("1")  # engaged, completed
    Chat(client).open("other", page="https://example.com/features")
    for email in ("chloe@acme.example", "dan@acme.example"):  # one meeting with each agent (round robin)
        visitor = Visitor(client)
        assert visitor.pick(first_time(visitor.to_the_slots(email)))["status"] == "completed"
    with db.write() as session:
        booked = list(session.scalars(select(Meeting).order_by(Meeting.id)))
        after = max(meeting.ends_at for meeting in booked) + timedelta(minutes=1)
        meetings.mark_outcome(session, booked[0], "held", None, after)
        meetings.mark_outcome(session, booked[1], "no_show", None, after)

    answer = dashboard(client, auth, **{"from": DAY, "to": DAY})
    totals = answer["totals"]
    assert (answer["from"], answer["to"], answer["zone"]) == (DAY, DAY, "UTC")
    assert {**figures(totals), "conversations": totals["conversations"]} == {
        "conversations": 6, "triggered": 6, "engaged": 4, "completed": 4, "dismissed": 1, "people_acquired": 3,
        "meetings_booked": 2, "goals": {"signed_up": 1},
    }  # fmt: skip
    assert (totals["engagement_rate"], totals["conversion_rate"]) == (4 / 6, 3 / 4)
    assert answer["daily"] == {DAY: totals}
    assert [(d["dialogue"], d["name"], d["triggered"], d["engaged"], d["completed"], d["people_acquired"],
             d["meetings_booked"]) for d in answer["top_dialogues"]] == [
        ("offer", "Offer", 3, 2, 2, 1, 0), ("demo", "Book a demo", 2, 2, 2, 2, 2), ("other", "Offer", 1, 0, 0, 0, 0),
    ]  # fmt: skip
    assert answer["top_dialogues"][0]["engagement_rate"] == 2 / 3
    assert answer["top_dialogues"][2]["conversion_rate"] is None
    assert answer["top_pages"] == [
        {"page": "https://example.com/pricing", "triggered": 2, "engaged": 2, "people_acquired": 1},
        {"page": "https://example.com/features", "triggered": 2, "engaged": 0, "people_acquired": 0},
    ]
    assert answer["meetings_by_agent"] == [
        {"key": "agent1@example.com", "label": "Agent 1", "booked": 1, "held": 1, "no_show": 0},
        {"key": "agent2@example.com", "label": "Agent 2", "booked": 1, "held": 0, "no_show": 1},
    ]
    assert answer["meetings_by_dialogue"] == [
        {"key": "demo", "label": "Book a demo", "booked": 2, "held": 1, "no_show": 1}
    ]


def test_the_dashboards_days_are_the_viewers(client: TestClient, db: Database, auth: dict[str, str]) -> None:
    publish(db, offer())
    with time_machine.travel(datetime(2027, 1, 12, 23, 30, tzinfo=UTC), tick=False):  # 08:30 on the 13th in Tokyo
        Chat(client).open(page="https://example.com/late")
    with time_machine.travel(datetime(2027, 1, 14, 12, 0, tzinfo=UTC), tick=False):
        tokyo = dashboard(client, auth, zone="Asia/Tokyo", **{"from": "2027-01-13", "to": "2027-01-13"})
        utc = dashboard(client, auth, **{"from": "2027-01-13", "to": "2027-01-13"})
        default = dashboard(client, auth)
    assert tokyo["totals"]["triggered"] == 1 and tokyo["top_pages"][0]["page"] == "https://example.com/late"
    assert tokyo["top_dialogues"][0]["triggered"] == 1
    assert utc["totals"]["triggered"] == 0 and utc["top_pages"] == [] and utc["top_dialogues"] == []
    assert (default["from"], default["to"], len(default["daily"])) == ("2026-12-16", "2027-01-14", 30)
    assert default["daily"]["2027-01-12"]["triggered"] == 1


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"from": "2026-03-10", "to": "2026-03-09"}, "from", "2026-03-10 is after to (2026-03-09)"),
        ({"from": "2025-03-09", "to": "2026-03-10"}, "to", "367 days from 2025-03-09: at most 366"),
        ({"zone": "Mars/Olympus_Mons"}, "zone", "'Mars/Olympus_Mons' is not an IANA time zone"),
        ({"to": "2026-13-01"}, "to", ""),
    ],
)
def test_a_wrong_period_or_zone_is_named(
    client: TestClient, auth: dict[str, str], params: dict[str, str], field: str, says: str
) -> None:
    response = client.get(DASHBOARD, params=params, headers=auth)
    assert response.status_code == 422, response.text
    [problem] = [p for p in response.json()["errors"] if p["path"].endswith(field)]
    assert says in problem["message"]


def test_only_admins_and_marketers_read_the_dashboard(client: TestClient, db: Database, personas: Personas) -> None:
    assert client.get(DASHBOARD).status_code == 401
    for persona, status in ((personas.bob, 403), (personas.sam, 403), (personas.alice, 200), (personas.mark, 200)):
        response = client.get(DASHBOARD, headers={"Authorization": f"Bearer {token_for(db, persona)}"})
        assert response.status_code == status, persona
