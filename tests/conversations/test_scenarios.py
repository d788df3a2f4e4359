"""Dialogue tests (scenarios): `ends: booking` holds only when the conversation stops at a booking card, offering
times (or asking the email the invitation needs first)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from overture.conversations.scenarios import run_scenarios
from overture.dialogues.document import DialogueDocument

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def document(*tests: dict[str, Any]) -> DialogueDocument:
    return DialogueDocument.model_validate(
        {
            "key": "demo",
            "name": "Demo",
            "flow": {
                "start": "greet",
                "cards": {
                    "greet": {
                        "say": "Hi!",
                        "buttons": [{"label": "Book", "goto": "book"}, {"label": "No", "goto": "bye"}],
                    },
                    "book": {"book_meeting": {}, "on_booked": "bye", "on_unavailable": "sorry"},
                    "sorry": {"say": "We will write to you.", "end": True},
                    "bye": {"say": "Thanks!", "end": True},
                },
            },
            "tests": list(tests),
        }
    )


def outcomes(*tests: dict[str, Any]) -> list[tuple[bool, list[str]]]:
    return [(result.passed, result.failures) for result in run_scenarios(document(*tests), {}, NOW)]


def test_a_scenario_that_reaches_the_booking_card_ends_in_booking() -> None:
    known = {"name": "known", "visitor": {"person.email": "ana@example.com"}, "answers": ["Book"],
             "expect": {"path": ["greet", "book"], "ends": "booking"}}  # fmt: skip
    anonymous = {"name": "anonymous", "answers": ["Book"], "expect": {"ends": "booking"}}
    assert outcomes(known, anonymous) == [(True, []), (True, [])]


def test_ends_booking_fails_when_the_conversation_ends_elsewhere() -> None:
    declined = {"name": "declined", "answers": ["No"], "expect": {"ends": "booking"}}
    assert outcomes(declined) == [(False, ["expected the conversation to offer a meeting; it stops at ['bye']"])]
