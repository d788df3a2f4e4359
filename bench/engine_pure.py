"""Steps per second of the pure dialogue engine on a generated 50-card flow.

A step is one call of `start` or `answer`. The flow mixes every kind of card that does not need a called flow:
say + goto, branch, buttons and typed questions, so a conversation from start to end takes 17 steps and enters 50
cards. Run: .venv-dev/bin/python bench/engine_pure.py
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from overture.conversations import engine
from overture.conversations.engine import Context, Program, Reply
from overture.dialogues.document import DialogueDocument

CARDS = 50
SECONDS = 2.0
ANSWERS = {"person.email": "ann@example.com", "company.employees": "1,200", "person.first_name": "Ann"}


def build() -> Program:
    """Cards c0..c49: every third card asks or shows buttons, the others say, set, branch or jump."""
    cards: dict[str, Any] = {}
    fields = list(ANSWERS)
    for index in range(CARDS - 1):
        following = f"c{index + 1}"
        match index % 6:
            case 0:
                cards[f"c{index}"] = {
                    "say": "Hi {{ person.first_name or 'there' }}, step " + str(index),
                    "buttons": [{"label": "Yes", "goto": following}, {"label": "No", "goto": following}],
                }
            case 1:
                cards[f"c{index}"] = {"say": {"en": "Tell us more", "fr": "Dites-nous"}, "goto": following}
            case 2:
                field = fields[(index // 6) % len(fields)]
                cards[f"c{index}"] = {"ask": f"Your {field}?", "capture": field, "goto": following}
            case 3:
                rule = {"if": {"field": "company.employees", "op": "gte", "value": 200}, "goto": following}
                cards[f"c{index}"] = {"branch": [rule, {"else": following}]}
            case 4:
                cards[f"c{index}"] = {"set": {"person.title": f"step {index}"}, "goal": "engaged", "goto": following}
            case _:
                cards[f"c{index}"] = {"say": "Noted, {{ person.title }}.", "goto": following}
    cards[f"c{CARDS - 1}"] = {"say": "Done.", "end": True}
    document = DialogueDocument.model_validate(
        {"key": "bench", "name": "Bench", "flow": {"start": "c0", "cards": cards}}
    )
    return Program(document=document)


def converse(program: Program, context: Context) -> int:
    """One conversation from start to end; returns the number of steps."""
    turn = engine.start(program, context)
    steps = 1
    while not turn.state.ended:
        if turn.expected.kind == "buttons":
            reply = Reply(choice="0")
        else:
            reply = Reply(text=ANSWERS[turn.expected.field or ""])
        turn = engine.answer(program, turn.state, reply, context)
        steps += 1
    return steps


def main() -> None:
    program = build()
    context = Context(now=datetime(2026, 3, 15, tzinfo=UTC), language="fr")
    converse(program, context)  # warm the template cache
    steps, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SECONDS:
        steps += converse(program, context)
    print(f"engine steps/s: {steps / elapsed:.0f}")  # noqa: T201


if __name__ == "__main__":
    main()
