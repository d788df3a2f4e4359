"""The Routing page is always right: visitors book through the chat (the widget API, as the real widget does) and
after each booking the page marks, as next, the agent the following booking then goes to. Dynamic Chat removed its
queue page because it was wrong; this is the test that ours is not."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.db import Database
from overture.scheduling.models import Agent, Meeting

from .bookings import Visitor, first_time, make_agents, publish_booking
from support import Personas, post_form, sign_in

PAGE = "/admin/routing"


# An offer and the pick of its first time must see one instant (see `stopped_clock`).
pytestmark = pytest.mark.usefixtures("stopped_clock")


def _next_on_page(client: TestClient) -> str:
    """The name the page marks as next in the sales team (both in the "Next in line" line and in its row)."""
    page = client.get(PAGE).text
    section = page.split('id="team-sales"', 1)[1].split("</section>", 1)[0]
    line = re.search(r"Next in line: <strong>([^<]+)</strong>", section)
    rows = re.findall(r'<tr[^>]*aria-current="true"[^>]*>\s*<td>\d+</td>\s*<td>([^<]+)<br>', section)
    assert line is not None and rows == [line.group(1)], section
    return line.group(1)


def _book(client: TestClient, email: str) -> str:
    """A visitor books the first time offered; returns the name of the agent who got the meeting."""
    visitor = Visitor(client)
    answer = visitor.pick(first_time(visitor.to_the_slots(email)))
    assert answer["expected"]["kind"] == "none", answer
    return _last_agent(client)


def _last_agent(client: TestClient) -> str:
    db: Database = client.app.state.context.db  # type: ignore[attr-defined]
    with db.read() as session:
        meeting = session.scalars(select(Meeting).order_by(Meeting.id.desc())).first()
        assert meeting is not None
        return session.get_one(Agent, meeting.agent_id).name


def test_after_each_booking_through_the_chat_the_page_marks_who_gets_the_next_one(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ids = make_agents(db, 5)
    publish_booking(db)
    sign_in(client, personas.sam)
    assert _next_on_page(client) == "Agent 1"
    for visitor in range(1, 8):
        expected = _next_on_page(client)
        assert _book(client, f"visitor{visitor}@acme.example") == expected, f"booking {visitor}"
    assert _next_on_page(client) == "Agent 3", "7 bookings over 5 agents: agent 2 took the last one"

    # Agent 3 is paused from the page: the page and the next booking both pass over them.
    post_form(client, f"{PAGE}/teams/sales/members/{ids[2]}/pause", {"paused": "true"}, PAGE)
    assert _next_on_page(client) == "Agent 4"
    assert _book(client, "visitor8@acme.example") == "Agent 4"

    # Agent 1 is moved to the end: the pointer stays on agent 4, after whom agent 5 and then agent 1 come.
    for _ in range(4):
        post_form(client, f"{PAGE}/teams/sales/members/{ids[0]}/move", {"direction": "down"}, PAGE)
    assert _next_on_page(client) == "Agent 5"
    assert _book(client, "visitor9@acme.example") == "Agent 5"
    assert _next_on_page(client) == "Agent 1"
    assert _book(client, "visitor10@acme.example") == "Agent 1"
    assert _next_on_page(client) == "Agent 2", "after the last in order, the first again"
