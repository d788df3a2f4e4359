"""Helpers of the report tests: a small dialogue, a scripted widget that runs it over HTTP on a page, and the
report read through the admin API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from overture.db import Database
from scheduling.bookings import Visitor

from support import Personas, token_for

REPORTS = "/api/v1/admin/reports/dialogues"


def offer(key: str = "offer", thanks: str = "Thanks!") -> dict[str, Any]:
    """hello (buttons) -> ask_email -> thanks (goal signed_up, end) | bye (end)."""
    return {
        "key": key,
        "name": "Offer",
        "site": "default",
        "flow": {
            "start": "hello",
            "cards": {
                "hello": {
                    "say": "Hi!",
                    "buttons": [{"label": "Tell me more", "goto": "ask_email"}, {"label": "No thanks", "goto": "bye"}],
                },
                "ask_email": {"ask": "Your email?", "capture": "person.email", "goto": "thanks"},
                "thanks": {"say": thanks, "goal": "signed_up", "end": True},
                "bye": {"say": "Bye.", "end": True},
            },
        },
    }


class Chat(Visitor):
    """The scripted widget of the booking tests, on a page, able to close the chat and to come back as the same
    browser."""

    def __init__(self, client: TestClient, visitor_id: str | None = None) -> None:
        super().__init__(client, zone="UTC")
        self.visitor_id = visitor_id or ""

    def open(self, dialogue: str = "offer", page: str = "https://example.com/pricing") -> dict[str, Any]:
        body = {"dialogue": dialogue, "page_url": page, "visitor_id": self.visitor_id or None}
        response = self.client.post(
            "/api/v1/widget/conversations", json={k: v for k, v in body.items() if v is not None}
        )
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        self.conversation_id, self.token, self.step = answer["conversation_id"], answer["token"], answer["step"]
        self.visitor_id = answer["visitor_id"]
        return answer

    def close(self) -> None:
        response = self.client.post(
            f"/api/v1/widget/conversations/{self.conversation_id}/dismiss",
            headers={"X-Conversation-Token": self.token},
        )
        assert response.status_code == 200, response.text

    def back(self) -> dict[str, Any]:
        return self.send("back", {"step": self.step})


def headers(db: Database, personas: Personas) -> dict[str, str]:
    """Mark's (a marketer's) API headers."""
    return {"Authorization": f"Bearer {token_for(db, personas.mark)}"}


def report(client: TestClient, auth: dict[str, str], key: str = "offer", **params: Any) -> dict[str, Any]:
    response = client.get(f"{REPORTS}/{key}", params=params, headers=auth)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def figures(answer: dict[str, Any]) -> dict[str, Any]:
    """The counts of a report or of one of its days, without the rates."""
    names = ("triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked", "goals")
    return {name: answer[name] for name in names}


def steps(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The funnel's cards with what reached and dropped at each (without the answers chosen)."""
    return [{name: step[name] for name in ("card", "reached", "dropped")} for step in answer["funnel"]]
