"""The experiment report against hand-counted fixtures: visitors run an A/B test of the offer dialogue's greeting
through the widget API on a pinned clock, and the report is read through the admin API (docs/experiments.md).

Each new visitor's variant is what they see (a: "Hi!", b: "Hello!"); the script gives each the next part planned
for their variant, and a visitor beyond the plan only closes the chat (shown: one visitor, one trigger)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from conversations.test_assignment import experiment_offer
from overture.db import Database

from .reports import Chat, headers
from support import Personas, publish

T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
EXPERIMENT = "/api/v1/admin/reports/dialogues/offer/experiment"
PROMOTE = "/api/v1/admin/dialogues/offer/experiment/promote"
Part = Callable[[Chat], None]


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return headers(db, personas)


def converts(chat: Chat) -> None:
    chat.choose("0")  # Tell me more
    chat.type(f"{chat.visitor_id[-8:].lower()}@example.com")  # thanks: goal signed_up


def declines(chat: Chat) -> None:
    chat.choose("1")  # No thanks


def closes(chat: Chat) -> None:
    chat.close()


def run(
    client: TestClient, plan: dict[str, list[Part]], beyond: dict[str, Part] | None = None
) -> tuple[dict[str, list[Chat]], dict[str, int]]:
    """New visitors until each variant's planned parts are played; returns the visitors by variant and how many
    came beyond the plan (who play their variant's part of `beyond`, or only close the chat)."""
    greeting = {"Hi!": "a", "Hello!": "b"}
    todo = {variant: list(parts) for variant, parts in plan.items()}
    seen: dict[str, list[Chat]] = {"a": [], "b": []}
    extra = {"a": 0, "b": 0}
    while any(todo.values()):
        assert sum(map(len, seen.values())) < 60
        chat = Chat(client)
        variant = greeting[chat.open()["messages"][0]["text"]]
        seen[variant].append(chat)
        if todo[variant]:
            todo[variant].pop(0)(chat)
        else:
            (beyond or {}).get(variant, closes)(chat)
            extra[variant] += 1
    return seen, extra


def read(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    response = client.get(EXPERIMENT, headers=auth)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def counts(answer: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {v["key"]: (v["visitors"], v["triggered"], v["engaged"], v["conversions"]) for v in answer["variants"]}


def test_each_variant_counts_its_visitors_once_its_sessions_and_the_visitors_who_reached_the_goal(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, experiment_offer(minimum_sample=4))
    seen, extra = run(client, {"a": [converts, declines, closes], "b": [converts, converts, declines]})
    clock.shift(timedelta(minutes=31))
    first_of_a = seen["a"][0]
    first_of_a.open()  # the converted visitor of a comes back in a new session and converts again
    converts(first_of_a)

    answer = read(client, auth)
    # a: 3 visitors (+ extras), 4 sessions shown (the first twice), 3 engaged (the first twice, the second), 1
    # converted (once, however many times); b: 3 visitors, 3 shown, 3 engaged, 2 converted.
    assert counts(answer) == {
        "a": (3 + extra["a"], 4 + extra["a"], 3, 1),
        "b": (3 + extra["b"], 3 + extra["b"], 3, 2),
    }
    a, b = answer["variants"]
    assert a["rate"] == pytest.approx(1 / (3 + extra["a"])) and b["rate"] == pytest.approx(2 / (3 + extra["b"]))
    assert 0 < a["low"] < a["rate"] < a["high"] < 1
    assert (a["change"], b["change"]) == ("the flow as written", 'says "Hello!"')
    assert answer["running"] is True and answer["versions"] == [1]
    if min(extra.values()) == 0:  # one variant has 3 visitors: under the minimum sample of 4
        smallest = "a" if extra["a"] == 0 else "b"
        assert answer["verdict"]["text"] == f"Not enough data yet (3 of 4 visitors in variant {smallest})."
        assert answer["verdict"]["winner"] is None


def test_a_clear_winner_is_named_once_both_variants_have_their_sample_and_promoting_it_makes_it_the_flow(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, experiment_offer(minimum_sample=5))
    everyone = {"a": declines, "b": converts}
    run(client, {"a": [declines] * 4, "b": [converts] * 4}, beyond=everyone)
    early = read(client, auth)["verdict"]  # b converts every visitor, but the variant planned last has 4 of 5
    assert early["kind"] == "not_enough_data" and early["winner"] is None
    run(client, {"a": [declines], "b": [converts]}, beyond=everyone)

    verdict = read(client, auth)["verdict"]  # 0 % against 100 %, both samples complete: z >= 3.16, p <= 0.002
    assert verdict["kind"] == "winner" and verdict["winner"] == "b"
    assert verdict["text"].startswith("Variant b wins (+100.0 points over a, p ")
    assert verdict["p_value"] <= 0.002

    promoted = client.post(PROMOTE, json={"variant": "b"}, headers=auth)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["version"] == 2
    assert Chat(client).open()["messages"][0]["text"] == "Hello!"  # every new visitor gets b's greeting now
    after = read(client, auth)
    assert after["running"] is False and after["versions"] == [1] and after["verdict"]["winner"] == "b"
