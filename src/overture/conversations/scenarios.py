"""Dialogue tests: the scenarios written in a document's `tests:` section, run on the pure engine.

A scenario gives a visitor (known field values), the answers in order, and what must happen: the cards visited (in
this order, others may come between), the fields captured, the goals reached, how it ends. An answer is a button or
option label (or its id), typed text, or one of `<back>` and `<restart>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from overture.conversations import engine
from overture.db import utcnow
from overture.dialogues.document import Document, FlowDocument, Scenario
from overture.dialogues.experiments import with_variant
from overture.errors import Problem

BACK = "<back>"
RESTART = "<restart>"


@dataclass
class ScenarioResult:
    name: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    captured: dict[str, Any] = field(default_factory=dict)
    goals: list[str] = field(default_factory=list)


def _reply_for(expected: engine.Expected, answer: str) -> engine.Reply:
    if expected.kind in ("buttons", "choice"):
        wanted = answer.strip().casefold()
        for choice in expected.choices:
            if wanted in (choice.id, choice.label.strip().casefold()):
                return engine.Reply(choice=choice.id)
        if expected.kind == "buttons":
            labels = ", ".join(f"'{c.label}'" for c in expected.choices)
            raise engine.AnswerRefused(f"'{answer}' is not one of the buttons ({labels}).")
    return engine.Reply(text=answer)


def _is_subsequence(wanted: list[str], visited: list[str]) -> bool:
    remaining = iter(visited)
    return all(any(card == step for step in remaining) for card in wanted)


def run_scenario(program: engine.Program, scenario: Scenario, now: datetime) -> ScenarioResult:
    """Plays the scenario; never raises: every problem is a failure in the result."""
    result = ScenarioResult(name=scenario.name, passed=False)
    # A booking card waits for a time, as it does for a visitor (`ends: booking`); nothing is booked.
    context = engine.Context(
        fields=dict(scenario.visitor), language=scenario.language, now=now, meetings_available=True
    )
    captured: dict[str, Any] = {}
    goals: list[str] = []

    def absorb(turn: engine.Turn) -> engine.Turn:
        for effect in turn.effects:
            if isinstance(effect, engine.SetField) and effect.source in ("capture", "button"):
                captured[effect.field] = effect.value
            if isinstance(effect, engine.SetField) and effect.source == "back":
                captured.pop(effect.field, None)
            if isinstance(effect, engine.GoalReached) and effect.name not in goals:
                goals.append(effect.name)
        context.fields = dict(turn.state.values)
        return turn

    try:
        turn = absorb(engine.start(program, context))
        for number, answer in enumerate(scenario.answers, start=1):
            if turn.state.ended:
                result.failures.append(f"answer {number} ('{answer}'): the conversation had already ended")
                break
            if answer == BACK:
                turn = absorb(engine.go_back(program, turn.state, context))
            elif answer == RESTART:
                turn = absorb(engine.restart(program, turn.state, context))
            else:
                turn = absorb(engine.answer(program, turn.state, _reply_for(turn.expected, answer), context))
    except engine.AnswerRefused as exc:
        result.failures.append(f"answer refused: {exc.message}")
        return result

    state = turn.state
    result.path, result.captured, result.goals = list(state.path), captured, goals
    expect = scenario.expect
    if expect.path is not None and not _is_subsequence(expect.path, state.path):
        result.failures.append(f"expected the path {' → '.join(expect.path)}; it went {' → '.join(state.path)}")
    for name, value in (expect.fields or {}).items():
        if state.values.get(name) != value:
            result.failures.append(f"expected {name} = {value!r}; it is {state.values.get(name)!r}")
    if expect.goals is not None and sorted(expect.goals) != sorted(goals):
        result.failures.append(f"expected the goals {sorted(expect.goals)}; reached {sorted(goals)}")
    if expect.ends == "completed" and not state.completed:
        result.failures.append(f"expected the conversation to complete; it waits at {state.path[-1:]}")
    if expect.ends == "waiting" and state.ended:
        result.failures.append("expected the conversation to wait for an answer; it ended")
    if expect.ends == "booking" and turn.expected.kind not in ("meeting", "email"):
        result.failures.append(f"expected the conversation to offer a meeting; it stops at {state.path[-1:]}")
    result.passed = not result.failures
    return result


def run_scenarios(document: Document, flows: dict[str, FlowDocument], now: datetime) -> list[ScenarioResult]:
    """Plays every scenario of the document, each on the variant it names (default: the flow as written)."""
    results = []
    for scenario in document.tests:
        played = document
        if scenario.variant is not None:
            try:
                played = with_variant(document, scenario.variant)
            except KeyError:
                failure = f"the dialogue has no variant '{scenario.variant}'"
                results.append(ScenarioResult(name=scenario.name, passed=False, failures=[failure]))
                continue
        results.append(run_scenario(engine.Program(document=played, flows=flows), scenario, now))
    return results


def scenario_check(document: Document, flows: dict[str, FlowDocument]) -> list[Problem]:
    """For publishing: a problem per failing scenario (the publish is refused)."""
    problems = []
    for index, result in enumerate(run_scenarios(document, flows, utcnow())):
        if not result.passed:
            problems.append(Problem(f"tests.{index}", f"The test '{result.name}' fails: {'; '.join(result.failures)}"))
    return problems
