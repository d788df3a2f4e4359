"""A dialogue's A/B test (docs/experiments.md): the rules an `experiment:` section must follow, the document each
variant's visitors see, and the document that makes a winning variant the flow.

Pure: documents in, documents or problems out. Which visitor gets which variant is decided in
`conversations/assignment.py`; the figures and the verdict are in `analytics/experiments.py`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import TypeVar

from overture.dialogues.document import DialogueDocument, Document, Experiment, FlowDocument, Text, Variant
from overture.errors import Problem

# The goals an experiment may be decided by besides a goal name its cards reach (the reports' figures).
PEOPLE_ACQUIRED = "people_acquired"
MEETING_BOOKED = "meeting_booked"
BUILT_IN_GOALS = (PEOPLE_ACQUIRED, MEETING_BOOKED)
AnyDocument = TypeVar("AnyDocument", DialogueDocument, FlowDocument)


def experiment_of(document: Document) -> Experiment | None:
    return document.experiment if isinstance(document, DialogueDocument) else None


def find_variant(experiment: Experiment, key: str) -> Variant | None:
    return next((variant for variant in experiment.variants if variant.key == key), None)


def entry_cards(document: Document) -> list[str]:
    """The cards a conversation may start at: the flow's start, and each variant's own start."""
    experiment = experiment_of(document)
    starts = [variant.start for variant in experiment.variants if variant.start] if experiment else []
    return list(dict.fromkeys([document.flow.start, *starts]))


def with_variant(document: AnyDocument, key: str) -> AnyDocument:
    """The document as the visitors of variant `key` see it: the flow starts at the variant's start card, whose
    messages are the variant's `say` when it has one. Raises KeyError for a key the document has no variant of."""
    experiment = experiment_of(document)
    variant = find_variant(experiment, key) if experiment else None
    if variant is None:
        raise KeyError(key)
    start = variant.start or document.flow.start
    cards = dict(document.flow.cards)
    if variant.say is not None:
        cards[start] = cards[start].model_copy(update={"say": variant.say})
    return document.model_copy(update={"flow": document.flow.model_copy(update={"start": start, "cards": cards})})


def promoted(document: DialogueDocument, key: str) -> DialogueDocument:
    """The next version when variant `key` wins: its flow is the flow, with no experiment and without the cards
    only other variants reached; the tests of other variants go, the winner's test the flow as it now is."""
    played = with_variant(document, key)
    cards = played.flow.cards
    reached, todo = {played.flow.start}, [played.flow.start]
    while todo:
        for _, target in cards[todo.pop()].targets():
            if target in cards and target not in reached:
                reached.add(target)
                todo.append(target)
    flow = played.flow.model_copy(update={"cards": {name: card for name, card in cards.items() if name in reached}})
    tests = [
        scenario.model_copy(update={"variant": None}) for scenario in played.tests if scenario.variant in (None, key)
    ]
    return played.model_copy(update={"flow": flow, "experiment": None, "tests": tests})


def variant_texts(document: Document) -> Iterator[tuple[str, Text]]:
    """Every text a variant shows, with its path, for the checks every visible text gets."""
    experiment = experiment_of(document)
    for i, variant in enumerate(experiment.variants if experiment else []):
        if isinstance(variant.say, list):
            yield from ((f"experiment.variants.{i}.say.{j}", text) for j, text in enumerate(variant.say))
        elif variant.say is not None:
            yield f"experiment.variants.{i}.say", variant.say


def _goals_reached(document: Document, flows: Mapping[str, FlowDocument] | None) -> tuple[set[str], bool, bool]:
    """The goal names the dialogue's cards (and the flows it calls) reach, whether one of them books a meeting,
    and whether every called flow is known (when one is not, a goal may be reached there)."""
    goals: set[str] = set()
    books, complete = False, True
    seen: set[str] = set()
    pending: list[Document] = [document]
    while pending:
        for card in pending.pop().flow.cards.values():
            spec = card.goal_spec
            if spec is not None:
                goals.add(spec.name)
            books = books or card.book_meeting is not None
            if card.flow is not None and card.flow not in seen:
                seen.add(card.flow)
                if flows is not None and card.flow in flows:
                    pending.append(flows[card.flow])
                else:
                    complete = False
    return goals, books, complete


def _similar(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def experiment_problems(document: Document, flows: Mapping[str, FlowDocument] | None = None) -> list[Problem]:
    """Every problem of the document's experiment and of the tests that name a variant; empty when there is none.
    `flows`: the reusable flows its cards may call (their goals count); None when unknown."""
    experiment = experiment_of(document)
    if experiment is None:
        return list(_scenario_problems(document, experiment))
    problems = []
    here = "experiment"
    if len(experiment.variants) < 2:
        count = len(experiment.variants)
        message = f"An experiment compares at least two variants; this one has {count}: add another."
        problems.append(Problem(f"{here}.variants", message))
    first_use: dict[str, int] = {}
    cards = list(document.flow.cards)
    for i, variant in enumerate(experiment.variants):
        path = f"{here}.variants.{i}"
        if variant.key in first_use:
            message = f"The variant key '{variant.key}' is used twice (first by variant {first_use[variant.key] + 1})"
            problems.append(Problem(f"{path}.key", f"{message}: give each variant its own key."))
        first_use.setdefault(variant.key, i)
        if variant.weight <= 0:
            problems.append(
                Problem(
                    f"{path}.weight",
                    f"The weight of variant '{variant.key}' is {variant.weight}: a weight must be a positive whole "
                    "number (traffic is split in proportion to the weights, e.g. 50 and 50).",
                )
            )
        if variant.start is not None and variant.start not in document.flow.cards:
            problems.append(
                Problem(
                    f"{path}.start",
                    f"Variant '{variant.key}' starts at '{variant.start}', which is not a card of this flow"
                    f"{_similar(variant.start, cards)}. Cards: {', '.join(cards)}.",
                )
            )
    goals, books, complete = _goals_reached(document, flows)
    if experiment.goal == MEETING_BOOKED and not books and complete:
        message = "The goal is meeting_booked, but no card of this dialogue books a meeting (book_meeting)."
        problems.append(Problem(f"{here}.goal", message))
    elif experiment.goal not in BUILT_IN_GOALS and experiment.goal not in goals and complete:
        named = f" or a goal its cards reach: {', '.join(sorted(goals))}" if goals else " (its cards reach no goal)"
        problems.append(
            Problem(
                f"{here}.goal",
                f"'{experiment.goal}' is not a goal of this dialogue{_similar(experiment.goal, sorted(goals))}. "
                f"Use people_acquired, meeting_booked{named}.",
            )
        )
    return [*problems, *_scenario_problems(document, experiment)]


def _scenario_problems(document: Document, experiment: Experiment | None) -> Iterator[Problem]:
    keys = list(dict.fromkeys(variant.key for variant in experiment.variants)) if experiment else []
    for i, scenario in enumerate(document.tests):
        if scenario.variant is None:
            continue
        path = f"tests.{i}.variant"
        if experiment is None:
            yield Problem(path, f"The test runs variant '{scenario.variant}', but the dialogue has no experiment.")
        elif scenario.variant not in keys:
            yield Problem(
                path,
                f"The test runs variant '{scenario.variant}', which is not a variant of the experiment"
                f"{_similar(scenario.variant, keys)}. Variants: {', '.join(keys)}.",
            )
