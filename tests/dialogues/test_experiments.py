"""A dialogue's experiment section (docs/experiments.md): what validation says, and where, about each mistake; the
YAML round trip; the document each variant's visitors see; and the next version when a variant wins."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from overture.conversations.scenarios import run_scenarios
from overture.dialogues.document import DialogueDocument, document_to_data
from overture.dialogues.experiments import promoted, with_variant
from overture.dialogues.validation import validate
from overture.dialogues.yaml_io import dump_yaml, load_yaml
from overture.errors import Problem
from overture.people.fields import FieldSchema

FIELDS = FieldSchema.builtin()

GREETINGS = """
key: greetings
name: Two greetings
flow:
  start: greet
  cards:
    greet:
      say: Hi! Want to see Overture live?
      buttons:
        - {label: Book a demo, goto: ask_email}
        - {label: Just browsing, goto: bye}
    greet_short:
      say: "Demo in 2 minutes?"
      buttons:
        - {label: Yes, goto: ask_email}
        - {label: No, goto: bye}
    ask_email: {ask: "Your work email?", capture: person.email, goto: thanks}
    thanks: {say: Thanks!, goal: signed_up, end: true}
    bye: {say: Bye., end: true}
experiment:
  key: greeting-test
  goal: signed_up
  minimum_sample: 200
  variants:
    - {key: a, weight: 50}
    - {key: b, weight: 30, say: ["Hello!", "Shall we book you a demo?"]}
    - {key: c, weight: 20, start: greet_short}
tests:
  - name: b says hello
    variant: b
    answers: [Book a demo, ana@example.com]
    expect: {path: [greet, ask_email, thanks], goals: [signed_up]}
  - name: c starts short
    variant: c
    answers: [Yes, ana@example.com]
    expect: {path: [greet_short, ask_email, thanks]}
  - name: as written
    answers: [Just browsing]
    expect: {path: [greet, bye]}
"""


def data() -> dict[str, Any]:
    loaded, problems = load_yaml(GREETINGS)
    assert problems == [] and isinstance(loaded, dict)
    return loaded


def with_experiment(**changes: Any) -> dict[str, Any]:
    """The document with its experiment changed, and without its tests (which name its variants)."""
    document = data()
    document["experiment"] = {**document["experiment"], **changes}
    del document["tests"]
    return document


def problems_of(document: dict[str, Any]) -> list[Problem]:
    _, found = validate(document, fields=FIELDS, flows={})
    return found


def parsed() -> DialogueDocument:
    document, found = validate(data(), fields=FIELDS, flows={})
    assert found == [] and isinstance(document, DialogueDocument)
    return document


def test_an_experiment_with_a_start_card_per_variant_reaches_every_card_and_is_valid() -> None:
    assert problems_of(data()) == []  # greet_short is reached from variant c's start only


def test_an_experiment_survives_a_yaml_round_trip() -> None:
    written = document_to_data(parsed())
    read, problems = load_yaml(dump_yaml(written))
    assert problems == [] and read == written
    assert read["experiment"]["variants"][2] == {"key": "c", "weight": 20, "start": "greet_short"}


def test_fewer_than_two_variants_are_refused() -> None:
    document = with_experiment(variants=[{"key": "c", "start": "greet_short"}])
    assert problems_of(document) == [
        Problem("experiment.variants", "An experiment compares at least two variants; this one has 1: add another.")
    ]


def test_a_weight_that_is_not_positive_is_refused_with_its_variant() -> None:
    document = with_experiment(variants=[{"key": "a", "weight": 0}, {"key": "c", "weight": -5, "start": "greet_short"}])
    assert [(p.path, p.message) for p in problems_of(document)] == [
        (
            "experiment.variants.0.weight",
            "The weight of variant 'a' is 0: a weight must be a positive whole number (traffic is split in proportion "
            "to the weights, e.g. 50 and 50).",
        ),
        (
            "experiment.variants.1.weight",
            "The weight of variant 'c' is -5: a weight must be a positive whole number (traffic is split in "
            "proportion to the weights, e.g. 50 and 50).",
        ),
    ]


def test_a_duplicate_variant_key_is_refused_where_it_is_used_again() -> None:
    document = with_experiment(variants=[{"key": "a"}, {"key": "b"}, {"key": "a", "start": "greet_short"}])
    assert problems_of(document) == [
        Problem(
            "experiment.variants.2.key",
            "The variant key 'a' is used twice (first by variant 1): give each variant its own key.",
        )
    ]


def test_an_unknown_start_card_is_refused_with_a_suggestion() -> None:
    document = data()
    document["experiment"]["variants"][2]["start"] = "greet_shrt"
    found = problems_of(document)
    assert found[0] == Problem(
        "experiment.variants.2.start",
        "Variant 'c' starts at 'greet_shrt', which is not a card of this flow (did you mean 'greet_short'?). "
        "Cards: greet, greet_short, ask_email, thanks, bye.",
    )
    # greet_short is no longer anyone's start: the graph says so too
    unreached = "The card 'greet_short' is never reached from the start card 'greet'."
    assert Problem("flow.cards.greet_short", unreached) in found


def test_an_unknown_goal_name_is_refused_with_the_goals_the_dialogue_has() -> None:
    assert problems_of(with_experiment(goal="signup")) == [
        Problem(
            "experiment.goal",
            "'signup' is not a goal of this dialogue (did you mean 'signed_up'?). Use people_acquired, meeting_booked "
            "or a goal its cards reach: signed_up.",
        )
    ]


def test_people_acquired_is_a_goal_of_any_dialogue_and_meeting_booked_needs_a_booking_card() -> None:
    assert problems_of(with_experiment(goal="people_acquired")) == []
    assert problems_of(with_experiment(goal="meeting_booked")) == [
        Problem(
            "experiment.goal",
            "The goal is meeting_booked, but no card of this dialogue books a meeting (book_meeting).",
        )
    ]


def test_a_missing_minimum_sample_and_a_shape_mistake_are_said_in_words() -> None:
    document = data()
    del document["experiment"]["minimum_sample"]
    document["experiment"]["variants"][0]["wieght"] = 5
    assert problems_of(document) == [
        Problem("experiment.minimum_sample", "This is required."),
        Problem("experiment.variants.0.wieght", "Unknown key 'wieght'. Allowed here: key, weight, start, say."),
    ]


def test_a_variant_text_gets_the_checks_of_every_text() -> None:
    document = data()
    document["experiment"]["variants"][1]["say"] = "Hi {{ person.first_name }}!"
    assert problems_of(document) == [
        Problem(
            "experiment.variants.1.say",
            "The token {{ person.first_name }} has no default: write {{ person.first_name or '...' }}.",
        )
    ]


def test_a_test_of_an_unknown_variant_is_refused() -> None:
    document = data()
    document["tests"][0]["variant"] = "d"
    assert problems_of(document) == [
        Problem("tests.0.variant", "The test runs variant 'd', which is not a variant of the experiment. Variants: a, "
                "b, c.")
    ]  # fmt: skip


def test_a_variant_shows_its_own_first_messages_or_starts_at_its_own_card() -> None:
    document = parsed()
    b, c = with_variant(document, "b"), with_variant(document, "c")
    assert b.flow.start == "greet" and b.flow.cards["greet"].messages == ["Hello!", "Shall we book you a demo?"]
    assert c.flow.start == "greet_short" and c.flow.cards["greet"].messages == ["Hi! Want to see Overture live?"]
    assert with_variant(document, "a").flow == document.flow


def test_promoting_a_variant_makes_its_flow_the_flow_without_the_experiment_or_other_variants_cards() -> None:
    winner = promoted(parsed(), "c")
    assert winner.experiment is None
    assert winner.flow.start == "greet_short"
    assert list(winner.flow.cards) == ["greet_short", "ask_email", "thanks", "bye"]  # greet only led from a and b
    assert [(test.name, test.variant) for test in winner.tests] == [("c starts short", None), ("as written", None)]


def test_a_promoted_first_message_keeps_every_card_and_is_a_valid_document() -> None:
    winner = promoted(parsed(), "b")
    assert winner.flow.cards["greet"].messages == ["Hello!", "Shall we book you a demo?"]
    assert list(winner.flow.cards) == ["greet", "ask_email", "thanks", "bye"]
    assert [test.name for test in winner.tests] == ["b says hello", "as written"]
    assert problems_of(document_to_data(winner)) == []


def test_the_example_of_docs_experiments_is_valid_and_its_test_passes() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "experiments.md").read_text()
    example, problems = load_yaml(text.split("```yaml\n", 1)[1].split("```", 1)[0])
    assert problems == []
    document, found = validate(example, fields=FIELDS, flows={})
    assert found == [] and document is not None
    assert [result.passed for result in run_scenarios(document, {}, datetime(2026, 4, 1, tzinfo=UTC))] == [True]
