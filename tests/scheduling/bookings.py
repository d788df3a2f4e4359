"""What the booking tests book with: bookable agents (the built-in calendar, hours, notice) in a team's rotation, a
live dialogue that books a meeting, and a scripted widget `Visitor` that runs it over HTTP as the real widget does."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.calendars.models import CalendarConnection
from overture.db import Database
from overture.scheduling import rotation
from overture.scheduling.models import Agent, Team
from overture.users import service as users
from overture.users.models import User

from support import PASSWORD, publish

URL = "/api/v1/widget/conversations"
ALL_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def make_agents(
    db: Database,
    count: int,
    *,
    team: str = "sales",
    mode: str = "strict",
    hours: dict[str, list[str]] | None = None,
    zone: str = "Europe/Paris",
    notice_minutes: int = 60,
    first: int = 1,
) -> list[int]:
    """`count` agents (agent1@example.com, ...) with the built-in calendar, in `team`'s rotation in that order."""
    ids = []
    with db.write() as session:
        found = session.scalar(select(Team).where(Team.key == team))
        if found is None:
            found = rotation.create_team(session, team, team.title(), mode)
        for number in range(first, first + count):
            user = users.create_user(session, f"agent{number}@example.com", "agent", f"Agent {number}", PASSWORD)
            ids.append(_bookable(session, user, found, zone, ALL_DAY if hours is None else hours, notice_minutes))
    return ids


def make_agent_of(db: Database, user_id: int, team: str = "sales") -> int:
    """Makes an existing user with the agent role (e.g. the persona Bob, who can sign in) a bookable agent."""
    with db.write() as session:
        found = session.scalar(select(Team).where(Team.key == team)) or rotation.create_team(session, team, "Sales")
        return _bookable(session, session.get_one(User, user_id), found, "Europe/Paris", ALL_DAY, 60)


def _bookable(
    session: Session, user: User, team: Team, zone: str, hours: dict[str, list[str]], notice_minutes: int
) -> int:
    agent = rotation.create_agent(session, user)
    connect_builtin(session, agent, zone, hours, notice_minutes)
    rotation.add_member(session, team, agent)
    return agent.id


def connect_builtin(
    session: Session,
    agent: Agent,
    zone: str = "Europe/Paris",
    hours: dict[str, list[str]] | None = None,
    notice_minutes: int = 60,
) -> None:
    """Gives `agent` the built-in calendar and hours (every hour of every day by default): booking can use them."""
    agent.time_zone, agent.weekly_hours, agent.notice_minutes = (
        zone,
        ALL_DAY if hours is None else hours,
        notice_minutes,
    )
    session.add(CalendarConnection(agent_id=agent.id, provider="builtin", settings={}))
    session.flush()


def agent_email(db: Database, agent_id: int) -> str:
    with db.read() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        return agent.email


def booking_dialogue(key: str = "demo", **book: Any) -> dict[str, Any]:
    """A live dialogue that offers a demo and books it with `book` as the card's book_meeting."""
    return {
        "key": key,
        "name": "Book a demo",
        "site": "default",
        "flow": {
            "start": "hello",
            "cards": {
                "hello": {"say": "Hi!", "buttons": [{"label": "Book a demo", "goto": "book"}]},
                "book": {
                    "say": "Pick a time that suits you.",
                    "book_meeting": {"routing": "round_robin", "team": "sales", **book},
                    "on_booked": "booked",
                    "on_unavailable": "sorry",
                },
                "booked": {"say": "Booked! The invitation is in your inbox.", "end": True},
                "sorry": {"say": "Nobody can meet right now; we will email you.", "end": True},
            },
        },
    }


def publish_booking(db: Database, key: str = "demo", **book: Any) -> None:
    publish(db, booking_dialogue(key, **book))


class Visitor:
    """A scripted widget: keeps the conversation id, token and step, as the real one does."""

    def __init__(self, client: TestClient, zone: str = "Europe/Paris") -> None:
        self.client, self.zone = client, zone
        self.conversation_id = self.token = ""
        self.step = 0

    def start(self, dialogue: str = "demo", visitor_id: str | None = None) -> dict[str, Any]:
        body = {"dialogue": dialogue, "time_zone": self.zone, "visitor_id": visitor_id}
        response = self.client.post(URL, json={k: v for k, v in body.items() if v is not None})
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        self.conversation_id, self.token, self.step = answer["conversation_id"], answer["token"], answer["step"]
        self.visitor_id: str = answer["visitor_id"]
        return answer

    def send(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.call(action, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.step = answer["step"]
        return answer

    def call(self, action: str, body: dict[str, Any]) -> Any:
        headers = {"X-Conversation-Token": self.token}
        return self.client.post(f"{URL}/{self.conversation_id}/{action}", json=body, headers=headers)

    def choose(self, choice: str) -> dict[str, Any]:
        return self.send("replies", {"step": self.step, "choice": choice})

    def type(self, text: str) -> dict[str, Any]:
        return self.send("replies", {"step": self.step, "text": text})

    def pick(self, start: str) -> dict[str, Any]:
        return self.send("meeting", {"step": self.step, "start": start})

    def to_the_slots(self, email: str, expected: str = "meeting") -> dict[str, Any]:
        """Starts the dialogue, asks for a demo and gives the email: the answer offers the times (`expected` is
        "none" when nobody can meet)."""
        self.start()
        asked = self.choose("0")
        assert asked["expected"]["kind"] == "email", asked
        offered = self.type(email)
        assert offered["expected"]["kind"] == expected, offered
        return offered


def first_time(answer: dict[str, Any]) -> str:
    times: str = answer["meeting"]["days"][0]["times"][0]
    return times


def texts(answer: dict[str, Any]) -> list[str]:
    return [message["text"] for message in answer["messages"]]
