"""Validation of dialogue and flow documents: the shape (pydantic, in a marketer's words) and every rule across parts,
each problem with the path of its culprit; and the examples, which must validate and survive a YAML round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overture.dialogues.document import Document, FlowDocument, document_to_data
from overture.dialogues.validation import check_document, parse_document, raise_for_problems, validate
from overture.dialogues.yaml_io import dump_yaml, line_of, load_yaml
from overture.errors import InvalidInput, Problem
from overture.people.fields import FieldSchema, FieldSpec, FieldType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dialogues"
FIELDS = FieldSchema.builtin([FieldSpec("person.birthday", FieldType.date, "Birthday")])


def dialogue(cards: dict[str, Any] | None = None, start: str = "greet", **parts: Any) -> dict[str, Any]:
    """A small valid dialogue; `cards` are added to (or replace) its cards, `parts` its top-level keys."""
    base: dict[str, Any] = {
        "greet": {
            "say": ["Hi {{ person.first_name or 'there' }}!", "Want to see Overture live?"],
            "buttons": [{"label": "Book a demo", "goto": "ask_email"}, {"label": "Just browsing", "goto": "bye"}],
        },
        "ask_email": {"ask": "What is your work email?", "capture": "person.email", "goto": "bye"},
        "bye": {"say": "Thanks!", "end": True},
    }
    return {"key": "demo", "name": "Demo", "flow": {"start": start, "cards": {**base, **(cards or {})}}, **parts}


def problems(data: Any, *, flows: dict[str, FlowDocument] | None = None, kind: str = "dialogue") -> list[Problem]:
    _, found = validate(data, fields=FIELDS, flows=flows, kind=kind)  # type: ignore[arg-type]
    return found


def only(data: Any, **options: Any) -> Problem:
    found = problems(data, **options)
    assert len(found) == 1, found
    return found[0]


def condition_problem(condition: dict[str, Any]) -> Problem:
    return only(dialogue(audience=condition))


# --- the shape -----------------------------------------------------------------------------------------------------


def test_a_valid_dialogue_has_no_problems() -> None:
    document, found = validate(dialogue(), fields=FIELDS)
    assert found == []
    assert document is not None and document.flow.start == "greet"


def test_a_shape_problem_gives_no_document() -> None:
    data = dialogue()
    del data["name"]
    document, found = validate(data, fields=FIELDS)
    assert document is None
    assert found == [Problem("name", "This is required.")]


def test_an_unknown_key_lists_the_keys_allowed_there() -> None:
    data = dialogue(audience={"all": [{"field": "company.employees", "op": "gte", "vlaue": 5}]})
    message = "Unknown key 'vlaue'. Allowed here: field, op, value, within_days."
    assert only(data) == Problem("audience.all.0.vlaue", message)


def test_an_unknown_card_part_lists_the_card_keys_with_their_yaml_names() -> None:
    found = only(dialogue({"bye": {"say": "Thanks!", "end": True, "sets": {}}}))
    assert found.path == "flow.cards.bye.sets"
    assert found.message.startswith("Unknown key 'sets'. Allowed here: say, buttons, ask, capture,")
    assert "set, link, goal" in found.message and "set_" not in found.message


def test_a_field_name_of_the_wrong_form_says_how_to_write_one() -> None:
    data = dialogue({"ask_email": {"ask": "Email?", "capture": "Person Email", "goto": "bye"}})
    assert only(data) == Problem(
        "flow.cards.ask_email.capture", "'Person Email' is not a valid field name: write it like person.email."
    )


def test_a_bad_card_key_says_what_a_card_key_may_contain() -> None:
    data = dialogue({"see you": {"say": "Bye", "end": True}})
    assert only(data) == Problem(
        "flow.cards.see you",
        "'see you' is not a valid card key: "
        "use letters, digits, - and _, starting with a letter or digit (at most 80).",
    )


def test_a_missing_button_goto_has_the_path_of_the_button() -> None:
    data = dialogue({"greet": {"buttons": [{"label": "Yes", "goto": "bye"}, {"label": "No"}]}})
    assert only(data) == Problem("flow.cards.greet.buttons.1.goto", "This is required.")


def test_condition_tags_are_removed_from_paths() -> None:
    data = dialogue(
        {"route": {"branch": [{"if": {"not": {"field": "person.email"}}, "goto": "bye"}, {"else": "bye"}]}},
        audience={"all": [{"field": "person.email", "op": "is_empty"}, {"not": {"any": [{"bogus": 1}]}}]},
    )
    assert [p.path for p in problems(data)] == ["flow.cards.route.branch.0.if.not.op", "audience.all.1.not.any.0"]
    assert problems(data)[1].message.startswith("A condition is {field, op, value}")


def test_real_keys_named_like_tags_stay_in_paths() -> None:
    cards = {name: {"say": 3, "end": True} for name in ("field", "all", "not", "if", "else", "option", "text")}
    assert [p.path for p in problems(dialogue(cards))] == [f"flow.cards.{name}.say" for name in cards]


def test_option_and_branch_tags_are_removed_from_paths() -> None:
    data = dialogue(
        {
            "ask_email": {
                "ask": "Size?",
                "capture": "company.employees",
                "options": [{"label": "Small", "value": 5, "extra": 1}, 7],
                "goto": "bye",
            },
            "route": {"branch": [{"if": {"field": "person.email", "op": "is_empty"}, "goto": "bye"}, {"else": 3}]},
        }
    )
    assert problems(data) == [
        Problem("flow.cards.ask_email.options.0.extra", "Unknown key 'extra'. Allowed here: label, value."),
        Problem(
            "flow.cards.ask_email.options.1", "This should be a text or one text per language ({en: ..., fr: ...})."
        ),
        Problem("flow.cards.route.branch.1.else", "This should be a text."),
    ]


def test_a_text_of_the_wrong_type_gets_one_message() -> None:
    assert only(dialogue({"bye": {"say": 3, "end": True}})) == Problem(
        "flow.cards.bye.say", "This should be a text, one text per language ({en: ..., fr: ...}) or a list."
    )


def test_a_text_too_long_says_only_that() -> None:
    data = dialogue({"bye": {"say": ["Bye", "x" * 2001], "end": True}})
    assert only(data) == Problem("flow.cards.bye.say.1", "This is too long: at most 2000 characters.")


def test_a_bad_language_code_names_it() -> None:
    data = dialogue({"bye": {"say": {"en": "Bye", "French": "Au revoir"}, "end": True}})
    assert only(data) == Problem(
        "flow.cards.bye.say.French", "'French' is not a valid language code: write it like en, fr or pt-BR."
    )


def test_value_errors_lose_their_prefix() -> None:
    assert only(dialogue(trigger={"on": "time_on_page"})) == Problem(
        "trigger", "time_on_page needs seconds, e.g. {on: time_on_page, seconds: 20}."
    )


def test_a_choice_outside_the_allowed_ones_lists_them() -> None:
    data = dialogue({"bye": {"book_meeting": {"routing": "random"}, "on_booked": "greet", "on_unavailable": "greet"}})
    assert only(data) == Problem(
        "flow.cards.bye.book_meeting.routing",
        "'random' is not allowed here: use 'round_robin', 'agent', 'rules' or 'team'.",
    )


def test_a_document_that_is_not_a_mapping_is_one_problem() -> None:
    found = only(["greet"])
    assert found.path == "document" and found.message.startswith("This should be a mapping with keys such as key,")


def test_a_reusable_flow_has_no_targeting() -> None:
    found = only(dialogue(audience={"field": "person.email", "op": "is_empty"}), kind="flow")
    assert found == Problem(
        "audience", "Unknown key 'audience'. Allowed here: key, name, description, language, flow, tests."
    )


def test_parse_document_alone_checks_only_the_shape() -> None:
    document, found = parse_document(dialogue({"greet": {"goto": "nowhere"}}))
    assert found == [] and document is not None
    assert check_document(document, fields=FIELDS)[0].path == "flow.cards.greet.goto"


# --- ways on -------------------------------------------------------------------------------------------------------


def test_a_card_without_a_way_on_is_a_dead_end() -> None:
    assert only(dialogue({"bye": {"say": "Thanks!"}})) == Problem(
        "flow.cards.bye",
        "The card 'bye' has no way on: "
        "give buttons, ask+capture+goto, branch, book_meeting, flow+goto, goto or end: true.",
    )


def test_a_card_with_two_ways_on_names_them() -> None:
    data = dialogue({"greet": {"buttons": [{"label": "Go", "goto": "bye"}], "goto": "ask_email"}})
    assert only(data) == Problem(
        "flow.cards.greet", "The card 'greet' has more than one way on (buttons and goto): keep exactly one."
    )


def test_an_end_card_cannot_have_goto() -> None:
    assert only(dialogue({"bye": {"say": "Thanks!", "end": True, "goto": "greet"}})) == Problem(
        "flow.cards.bye.goto", "The card 'bye' ends the conversation (end: true), so it cannot have goto."
    )


@pytest.mark.parametrize(
    ("card", "path", "message"),
    [
        ({"ask": "Email?", "goto": "bye"}, "capture", "asks a question but has no capture to keep the answer."),
        ({"capture": "person.email", "goto": "bye"}, "ask", "captures person.email but asks nothing: add ask."),
        ({"ask": "Email?", "capture": "person.email"}, "goto", "needs goto: the card that comes after the answer."),
        ({"flow": "qualify"}, "goto", "needs goto: the card that comes after the flow."),
        ({"options": ["A"], "goto": "bye"}, "options", "has options but asks no question."),
        ({"skip_if_known": True, "goto": "bye"}, "skip_if_known", "has skip_if_known but asks no question."),
        ({"overwrite": False, "goto": "bye"}, "overwrite", "has overwrite but asks no question."),
        ({"error": "Oops", "goto": "bye"}, "error", "has error but asks no question."),
        ({"on_booked": "bye", "goto": "bye"}, "on_booked", "has on_booked but books no meeting."),
    ],
)
def test_a_card_missing_a_part_of_its_way_on_names_the_part(card: dict[str, Any], path: str, message: str) -> None:
    assert only(dialogue({"ask_email": card})) == Problem(
        f"flow.cards.ask_email.{path}", f"The card 'ask_email' {message}"
    )


def test_a_booking_card_needs_both_outcomes() -> None:
    found = problems(dialogue({"ask_email": {"book_meeting": {"team": "sales"}}}))
    assert [p.path for p in found] == ["flow.cards.ask_email.on_booked", "flow.cards.ask_email.on_unavailable"]
    assert found[1].message == (
        "The card 'ask_email' books a meeting but has no on_unavailable: the card shown when no meeting can be booked."
    )


# --- cards that exist, are reached, and lead to an end ---------------------------------------------------------------


def test_a_start_that_is_not_a_card_names_the_cards() -> None:
    assert only(dialogue(start="gret")) == Problem(
        "flow.start",
        "The flow starts at 'gret', which is not a card of this flow (did you mean 'greet'?). "
        "Cards: greet, ask_email, bye.",
    )


def test_a_goto_to_nowhere_names_the_missing_card() -> None:
    data = dialogue({"ask_email": {"ask": "Email?", "capture": "person.email", "goto": "by"}})
    assert only(data) == Problem(
        "flow.cards.ask_email.goto",
        "The card 'ask_email' goes to 'by', which is not a card of this flow (did you mean 'bye'?). "
        "Cards: greet, ask_email, bye.",
    )


@pytest.mark.parametrize(
    ("card", "path"),
    [
        ({"buttons": [{"label": "A", "goto": "bye"}, {"label": "B", "goto": "ask_emial"}]}, "buttons.1.goto"),
        (
            {"branch": [{"if": {"field": "person.email", "op": "is_empty"}, "goto": "nope"}, {"else": "bye"}]},
            "branch.0.goto",
        ),
        ({"branch": [{"else": "nope"}]}, "branch.0.else"),
        ({"book_meeting": {}, "on_booked": "nope", "on_unavailable": "bye"}, "on_booked"),
        ({"book_meeting": {}, "on_booked": "bye", "on_unavailable": "nope"}, "on_unavailable"),
        ({"flow": "qualify", "goto": "nope"}, "goto"),
    ],
)
def test_every_kind_of_card_reference_must_name_a_card(card: dict[str, Any], path: str) -> None:
    found = problems(dialogue({"ask_email": card}))
    assert [p.path for p in found] == [f"flow.cards.ask_email.{path}"]
    assert "which is not a card of this flow" in found[0].message


def test_an_unreachable_card_is_reported() -> None:
    assert only(dialogue({"orphan": {"say": "Hello?", "goto": "bye"}})) == Problem(
        "flow.cards.orphan", "The card 'orphan' is never reached from the start card 'greet'."
    )


def test_a_loop_without_exit_is_reported_once_naming_its_cards() -> None:
    data = dialogue(
        {
            "ask_email": {"ask": "Email?", "capture": "person.email", "goto": "check"},
            "check": {
                "branch": [{"if": {"field": "person.email", "op": "is_empty"}, "goto": "again"}, {"else": "again"}]
            },
            "again": {"say": "Once more.", "goto": "ask_email"},
        }
    )
    assert only(data) == Problem(
        "flow.cards.ask_email",
        "The cards 'ask_email', 'check' and 'again' only lead to each other and never reach an end: "
        "give one a way out.",
    )


def test_a_card_that_only_leads_to_itself_is_a_loop() -> None:
    assert only(dialogue({"bye": {"say": "Again", "goto": "bye"}})) == Problem(
        "flow.cards.bye", "The card 'bye' only leads back to itself and never reaches an end: give it a way out."
    )


def test_a_question_with_one_button_to_an_end_is_an_exit_from_its_loop() -> None:
    data = dialogue(
        {
            "greet": {
                "say": "Shall I repeat?",
                "buttons": [{"label": "Again", "goto": "greet"}, {"label": "Email me", "goto": "ask_email"}],
            },
            "ask_email": {"ask": "Email?", "capture": "person.email", "goto": "greet"},
            "bye": {"say": "Thanks!", "end": True},
        }
    )
    assert [p.path for p in problems(data)] == ["flow.cards.bye", "flow.cards.greet"]  # unreached; a loop
    data["flow"]["cards"]["greet"]["buttons"].append({"label": "Stop", "goto": "bye"})
    assert problems(data) == []


def test_a_loop_through_a_flow_and_a_booking_exits_through_their_outcomes() -> None:
    data = dialogue(
        {
            "greet": {"flow": "qualify", "goto": "book"},
            "book": {"book_meeting": {}, "on_booked": "bye", "on_unavailable": "greet"},
            "ask_email": {"ask": "Email?", "capture": "person.email", "goto": "greet"},
        },
        start="ask_email",
    )
    assert problems(data) == []


# --- branch --------------------------------------------------------------------------------------------------------


def rules(*rules: dict[str, Any]) -> dict[str, Any]:
    return dialogue({"greet": {"branch": list(rules)}})


IS_EMPTY = {"if": {"field": "person.email", "op": "is_empty"}, "goto": "ask_email"}


def test_a_branch_needs_an_else_rule() -> None:
    assert only(rules(IS_EMPTY, IS_EMPTY | {"goto": "bye"})) == Problem(
        "flow.cards.greet.branch", "The branch of card 'greet' has no else rule: end it with {else: CARD}."
    )


def test_a_rule_after_else_would_never_be_used() -> None:
    assert only(rules({"else": "bye"}, IS_EMPTY)) == Problem(
        "flow.cards.greet.branch.1",
        "This rule of card 'greet' comes after else and would never be used: else must be the last rule.",
    )


def test_a_branch_has_one_else_rule_only() -> None:
    assert only(rules(IS_EMPTY, {"else": "bye"}, {"else": "bye"})) == Problem(
        "flow.cards.greet.branch.2", "The branch of card 'greet' has a second else rule: keep only one."
    )


# --- fields --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cards", "parts", "path"),
    [
        (
            {"ask_email": {"ask": "Email?", "capture": "person.emial", "goto": "bye"}},
            {},
            "flow.cards.ask_email.capture",
        ),
        (
            {"greet": {"buttons": [{"label": "Go", "goto": "ask_email", "store": "person.emial", "value": "a@b.co"}]}},
            {},
            "flow.cards.greet.buttons.0.store",
        ),
        ({"bye": {"set": {"person.emial": "a@b.co"}, "end": True}}, {}, "flow.cards.bye.set.person.emial"),
        (
            {
                "greet": {
                    "book_meeting": {"store_agent": "person.emial"},
                    "on_booked": "ask_email",
                    "on_unavailable": "bye",
                }
            },
            {},
            "flow.cards.greet.book_meeting.store_agent",
        ),
        ({}, {"audience": {"field": "person.emial", "op": "is_empty"}}, "audience.field"),
        ({"bye": {"say": "Bye {{ person.emial or 'you' }}", "end": True}}, {}, "flow.cards.bye.say"),
        (
            {},
            {"tests": [{"name": "t", "expect": {"fields": {"person.emial": "a@b.co"}}}]},
            "tests.0.expect.fields.person.emial",
        ),
        ({}, {"tests": [{"name": "t", "visitor": {"person.emial": "a@b.co"}}]}, "tests.0.visitor.person.emial"),
    ],
)
def test_an_unknown_field_suggests_the_closest_one(cards: dict[str, Any], parts: dict[str, Any], path: str) -> None:
    assert only(dialogue(cards, **parts)) == Problem(path, "person.emial is not a field. Did you mean person.email?")


def test_an_unknown_field_without_a_close_one_says_only_that() -> None:
    data = dialogue({"bye": {"set": {"person.zodiac": "leo"}, "end": True}})
    assert only(data) == Problem("flow.cards.bye.set.person.zodiac", "person.zodiac is not a field.")


@pytest.mark.parametrize(
    ("card", "path"),
    [
        ({"ask": "Where?", "capture": "visit.country", "goto": "bye"}, "capture"),
        ({"set": {"visit.count": 3}, "goto": "bye"}, "set.visit.count"),
    ],
)
def test_a_dialogue_cannot_write_a_read_only_field(card: dict[str, Any], path: str) -> None:
    field = path.removeprefix("set.") if path.startswith("set.") else "visit.country"
    assert only(dialogue({"ask_email": card})) == Problem(
        f"flow.cards.ask_email.{path}", f"{field} is read-only: a dialogue cannot change it."
    )


def test_activity_fields_are_for_the_audience_only() -> None:
    activity = {"field": "activity.goal_reached", "op": "contains", "value": "demo_booked"}
    assert problems(dialogue(audience=activity)) == []
    data = dialogue({"greet": {"branch": [{"if": activity, "goto": "bye"}, {"else": "ask_email"}]}})
    assert only(data) == Problem(
        "flow.cards.greet.branch.0.if.field",
        "activity.goal_reached is an activity: activity fields can be used in the audience only.",
    )


# --- conditions ----------------------------------------------------------------------------------------------------


def test_an_unknown_operator_lists_the_operators_of_the_field() -> None:
    found = condition_problem({"all": [{"field": "person.consent", "op": "is", "value": True}]})
    assert found == Problem(
        "audience.all.0.op", "'is' is not an operator: use one of equals, is_empty, is_not_empty, not_equals."
    )


def test_an_operator_that_does_not_fit_the_field_type_is_refused() -> None:
    found = condition_problem(
        {
            "any": [
                {"field": "person.email", "op": "is_empty"},
                {"field": "company.employees", "op": "contains", "value": 5},
            ]
        }
    )
    assert found.path == "audience.any.1.op"
    assert found.message.startswith(
        "The operator 'contains' does not work on company.employees (number field): use one of"
    )


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            {"field": "person.email", "op": "is_empty", "value": "x"},
            "The operator 'is_empty' takes no value: remove value.",
        ),
        ({"field": "person.email", "op": "equals"}, "The operator 'equals' needs a value."),
        (
            {"field": "company.industry", "op": "in", "value": "Software"},
            "The operator 'in' needs a list of values, like [Software, Fintech].",
        ),
        (
            {"field": "company.employees", "op": "between", "value": [10]},
            "The operator 'between' needs two values, like [10, 50].",
        ),
        (
            {"field": "company.industry", "op": "equals", "value": ["A", "B"]},
            "The operator 'equals' needs one value, not a list.",
        ),
        (
            {"field": "company.employees", "op": "gte", "value": "many"},
            "company.employees is a number, so 'gte' needs a number, not 'many'.",
        ),
        (
            {"field": "company.employees", "op": "between", "value": [1, "x"]},
            "company.employees is a number, so 'between' needs a number, not 'x'.",
        ),
        ({"field": "person.consent", "op": "equals", "value": "yes"}, "person.consent is true or false, not 'yes'."),
        (
            {"field": "visit.device", "op": "in", "value": ["phone"]},
            "visit.device is one of desktop, mobile, tablet, not 'phone'.",
        ),
        (
            {"field": "person.birthday", "op": "in_last_days", "value": "week"},
            "'in_last_days' needs a whole number of days, not 'week'.",
        ),
    ],
)
def test_a_condition_value_must_fit_its_operator_and_field(condition: dict[str, Any], message: str) -> None:
    assert condition_problem({"not": condition}) == Problem("audience.not.value", message)


def test_branch_conditions_follow_the_audience_rules() -> None:
    data = rules(
        {"if": {"all": [{"field": "company.employees", "op": "gte", "value": "x"}]}, "goto": "bye"},
        {"else": "ask_email"},
    )
    assert only(data).path == "flow.cards.greet.branch.0.if.all.0.value"


# --- stored values -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("company.employees", "many", "company.employees takes a number, not 'many'."),
        ("person.consent", "yes", "person.consent takes true or false, not 'yes'."),
        ("person.email", "ada@", "person.email takes an email address, not 'ada@'."),
        ("person.phone", "call me", "person.phone takes a phone number, not 'call me'."),
        ("person.birthday", "soon", "person.birthday takes a date like 2026-01-31, not 'soon'."),
    ],
)
def test_a_set_value_must_fit_the_field_type(field: str, value: Any, message: str) -> None:
    data = dialogue({"bye": {"set": {field: value}, "end": True}})
    assert only(data) == Problem(f"flow.cards.bye.set.{field}", message)


def test_fitting_set_values_are_accepted() -> None:
    values = {
        "company.employees": 12,
        "person.consent": False,
        "person.email": "ada@example.com",
        "person.title": "CTO",
    }
    assert problems(dialogue({"bye": {"set": values | {"person.phone": "+33 1 23 45 67 89"}, "end": True}})) == []


def test_a_button_stores_its_value_or_else_its_label_which_must_fit_the_field() -> None:
    buttons = [
        {"label": "Fifty", "value": "fifty", "store": "company.employees", "goto": "bye"},
        {"label": "Lots", "store": "company.employees", "goto": "bye"},
        {"label": "Ten", "value": 10, "store": "company.employees", "goto": "ask_email"},
        {
            "label": {"en": "Search Engine Optimization", "fr": "Référencement"},
            "value": "SEO",
            "store": "company.industry",
            "goto": "bye",
        },
    ]
    assert problems(dialogue({"greet": {"buttons": buttons}})) == [
        Problem("flow.cards.greet.buttons.0.value", "company.employees takes a number, not 'fifty'."),
        Problem("flow.cards.greet.buttons.1.label", "company.employees takes a number, not 'Lots'."),
    ]


def test_picklist_options_must_fit_the_captured_field() -> None:
    card = {
        "ask": "Size?",
        "capture": "company.employees",
        "options": [{"label": "Ten", "value": 10}, "Many"],
        "goto": "bye",
    }
    assert only(dialogue({"ask_email": card})) == Problem(
        "flow.cards.ask_email.options.1", "company.employees takes a number, not 'Many'."
    )


# --- personalization tokens ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Hi {{ person.first_name or 'there' }}!",
        "Hi {{ person.first_name | default('there') }}!",
        "Hi {{ person.first_name | d('there') | title }}!",
        "Hi {{ (person.first_name or 'there') | title }}!",
        "Hi {{ person.first_name if person.first_name else 'there' }} from {{ visit.country or 'afar' }}!",
        "Plain text with a { brace }",
    ],
)
def test_tokens_with_defaults_are_accepted(text: str) -> None:
    assert problems(dialogue({"bye": {"say": text, "end": True}})) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hi {{ person.first_name or 'there' }", "The personalization in this text cannot be read: unexpected '}'."),
        (
            "Hi {{ person.first_name }}!",
            "The token {{ person.first_name }} has no default: write {{ person.first_name or '...' }}.",
        ),
        (
            "Hi {{ first_name or 'there' }}!",
            "'first_name' in {{ }} is not a field: write person.X, company.X or visit.X "
            "(did you mean person.first_name?).",
        ),
        (
            "Hi {{ user.name or 'there' }}!",
            "'user.name' in {{ }} is not a field: write person.X, company.X or visit.X.",
        ),
        ("Hi {{ person.first_name | titel or 'x' }}!", "'titel' is not a filter that personalization knows."),
    ],
)
def test_a_bad_token_is_a_problem_with_the_path_of_its_text(text: str, message: str) -> None:
    data = dialogue({"bye": {"say": ["Thanks!", text], "end": True}})
    assert only(data) == Problem("flow.cards.bye.say.1", message)


ALLOWED = "A token may use fields, texts, numbers, the filters default, d, upper, lower, title, capitalize, trim, \
truncate, string, length and operators over them."


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("Hi {{ ''.__class__ or 'there' }}!", "reads .__class__ of a value: only fields (person.X, company.X, "
         "visit.X) can be read"),
        ("Hi {{ 'there'.upper or 'x' }}!", "reads .upper of a value: only fields (person.X, company.X, visit.X) "
         "can be read"),
        ("Hi {{ person.first_name.upper() or 'there' }}!", "calls a function or method"),
        ("Hi {{ (person.first_name or 'there')[0] }}!", "takes an item or a slice with [ ]"),
        ("Hi {{ '%s' % (person.first_name or 'there') }}!", "uses % (text formatting)"),
        ("Hi {{ {'a': 1} or 'there' }}!", "uses a dict expression, which a text cannot"),
        ("Hi{% if person.first_name %} there{% endif %}!", "uses a {% %} statement, which a text cannot"),
    ],
)  # fmt: skip
def test_a_token_that_is_not_fields_literals_filters_and_operators_is_refused_with_its_path(
    text: str, refusal: str
) -> None:
    data = dialogue({"bye": {"say": ["Thanks!", text], "end": True}})
    assert Problem("flow.cards.bye.say.1", f"A {{{{ }}}} token here {refusal}. {ALLOWED}") in problems(data)


def test_a_refused_token_in_a_text_of_several_lines_names_the_line_of_the_text() -> None:
    text = "Hello!\nWelcome back, {{ person.first_name.__class__ or 'friend' }}."
    found = only(dialogue({"bye": {"say": text, "end": True}}))
    assert found.path == "flow.cards.bye.say"
    assert found.message.startswith("A {{ }} token here reads .__class__ of a value: only fields (person.X, "
                                    "company.X, visit.X) can be read (line 2 of the text).")  # fmt: skip


def test_a_filter_the_renderer_does_not_have_is_refused_though_jinja_has_it() -> None:
    data = dialogue({"bye": {"say": "Hi {{ person.first_name | center(99999) or 'there' }}!", "end": True}})
    assert only(data) == Problem("flow.cards.bye.say", "'center' is not a filter that personalization knows.")


def test_the_editor_shows_a_refused_token_on_the_line_of_its_text() -> None:
    text = dump_yaml(dialogue({"bye": {"say": "Hi {{ ''.__class__ or 'there' }}!", "end": True}}))
    data, _ = load_yaml(text)
    found = only(data)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "__class__" in row)
    assert (found.path, line_of(text, found.path)) == ("flow.cards.bye.say", line)


def test_tokens_are_checked_in_every_visible_text_and_language() -> None:
    bad = "{{ company.name }}"
    card = {
        "say": bad,
        "buttons": [{"label": {"en": "OK", "fr": bad}, "goto": "ask_email"}],
    }
    question = {"ask": bad, "capture": "person.title", "options": [{"label": bad}, bad], "error": bad, "goto": "bye"}
    end = {"link": {"label": bad, "url": "/guide.pdf"}, "end": True}
    found = problems(dialogue({"greet": card, "ask_email": question, "bye": end}))
    assert [p.path for p in found] == [
        "flow.cards.greet.say",
        "flow.cards.greet.buttons.0.label.fr",
        "flow.cards.ask_email.ask",
        "flow.cards.ask_email.options.0.label",
        "flow.cards.ask_email.options.1",
        "flow.cards.ask_email.error",
        "flow.cards.bye.link.label",
    ]


# --- languages -----------------------------------------------------------------------------------------------------


def test_every_text_given_per_language_needs_the_default_language() -> None:
    fr = {"fr": "Bonjour"}
    card = {"say": ["Plain text is the default language", fr], "buttons": [{"label": fr, "goto": "ask_email"}]}
    question = {"ask": fr, "capture": "person.title", "options": [{"label": fr}, fr], "error": fr, "goto": "bye"}
    end = {"link": {"label": fr, "url": "https://example.com"}, "end": True}
    found = problems(dialogue({"greet": card, "ask_email": question, "bye": end}))
    assert {p.message for p in found} == {"The text has no 'en' version (the default language)."}
    assert [p.path for p in found] == [
        "flow.cards.greet.say.1",
        "flow.cards.greet.buttons.0.label",
        "flow.cards.ask_email.ask",
        "flow.cards.ask_email.options.0.label",
        "flow.cards.ask_email.options.1",
        "flow.cards.ask_email.error",
        "flow.cards.bye.link.label",
    ]


def test_the_default_language_is_the_documents_language() -> None:
    data = dialogue({"bye": {"say": {"en": "Bye"}, "end": True}}, language="de")
    assert only(data) == Problem("flow.cards.bye.say", "The text has no 'de' version (the default language).")


# --- flows ---------------------------------------------------------------------------------------------------------


def qualify_flow(key: str = "qualify") -> dict[str, Any]:
    return {
        "key": key,
        "name": "Qualify",
        "flow": {"start": "size", "cards": {"size": {"flow": key, "goto": "done"}, "done": {"end": True}}},
    }


def test_a_flow_card_must_name_a_published_flow() -> None:
    data = dialogue({"ask_email": {"flow": "qualfy", "goto": "bye"}})
    other = FlowDocument.model_validate(qualify_flow("other"))
    assert problems(data) == []  # without flows, not checked
    assert only(data, flows={"qualify": other, "other": other}) == Problem(
        "flow.cards.ask_email.flow",
        "There is no reusable flow 'qualfy' (did you mean 'qualify'?). Flows: other, qualify.",
    )
    assert only(data, flows={}).message == "There is no reusable flow 'qualfy'. There is no reusable flow yet."


def test_a_flow_cannot_run_itself() -> None:
    assert only(qualify_flow(), kind="flow") == Problem("flow.cards.size.flow", "The flow 'qualify' cannot run itself.")


# --- booking -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "path", "message"),
    [
        ({"routing": "agent"}, "agent", "Routing 'agent' needs agent: the email of the agent who takes the meetings."),
        ({"routing": "agent", "agent": "bob"}, "agent", "'bob' is not an email address."),
        ({"routing": "team"}, "team", "Routing 'team' needs team: the key of the team that takes the meetings."),
        ({"store_agent": "visit.referrer"}, "store_agent", "visit.referrer is read-only: a dialogue cannot change it."),
    ],
)
def test_booking_routing_needs_its_agent_or_team(meeting: dict[str, Any], path: str, message: str) -> None:
    card = {"book_meeting": meeting, "on_booked": "bye", "on_unavailable": "bye"}
    assert only(dialogue({"ask_email": card})) == Problem(f"flow.cards.ask_email.book_meeting.{path}", message)


# --- pages and schedule --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("^https://example.com/(pricing", "This is not a valid pattern: missing ), unterminated subpattern."),
        (
            "^https://example.com/(a+)+$",
            "This pattern repeats a group that itself repeats, like (a+)+, so it may take too long to match.",
        ),
        ("(.*)*", "This pattern repeats a group that itself repeats, like (a+)+, so it may take too long to match."),
        (
            "((ab)+c)*",
            "This pattern repeats a group that itself repeats, like (a+)+, so it may take too long to match.",
        ),
        ("/" + "a" * 499, "This pattern is too long: keep it under 500 characters."),
    ],
)
def test_a_bad_page_pattern_is_refused(pattern: str, message: str) -> None:
    data = dialogue(pages={"include": [{"url": "*"}], "exclude": [{"url_regex": pattern}]})
    assert only(data) == Problem("pages.exclude.0.url_regex", message)


@pytest.mark.parametrize(
    "pattern", [r"^https://example\.com/(fr|de)/blog/[a-z-]+$", r"\(a+\)+", "[(a+)]+", "(ab)+(c+)"]
)
def test_a_safe_page_pattern_is_accepted(pattern: str) -> None:
    assert problems(dialogue(pages={"include": [{"url_regex": pattern}]})) == []


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        (
            {"from": "2026-02-01", "until": "2026-01-01"},
            Problem("schedule.until", "The schedule ends on 2026-01-01, before it starts on 2026-02-01."),
        ),
        (
            {"timezone": "Europe/Pariss"},
            Problem("schedule.timezone", "'Europe/Pariss' is not a time zone: use one like Europe/Paris."),
        ),
        ({"hours": "business"}, Problem("schedule.timezone", "Business hours need a timezone, like Europe/Paris.")),
    ],
)
def test_a_bad_schedule_is_refused(schedule: dict[str, Any], problem: Problem) -> None:
    assert only(dialogue(schedule=schedule)) == problem


def test_a_good_schedule_is_accepted() -> None:
    schedule = {"from": "2026-01-01", "until": "2026-01-01", "hours": "business", "timezone": "America/New_York"}
    assert problems(dialogue(schedule=schedule)) == []


# --- test scenarios ------------------------------------------------------------------------------------------------


def test_a_scenario_expects_cards_that_exist() -> None:
    data = dialogue(tests=[{"name": "t", "answers": ["Just browsing"], "expect": {"path": ["greet", "by"]}}])
    assert only(data) == Problem(
        "tests.0.expect.path.1", "The test expects the card 'by', which is not a card of this flow."
    )


# --- all at once ---------------------------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once() -> None:
    data = dialogue(
        {
            "greet": {
                "say": "Hi {{ person.first_name }}",
                "buttons": [{"label": "Go", "goto": "ask_emial"}, {"label": "OK", "goto": "ask_email"}],
            },
            "ask_email": {"ask": {"fr": "E-mail ?"}, "capture": "person.email", "goto": "bye"},
            "bye": {"set": {"visit.count": 2}, "end": True},
        },
        audience={"field": "company.employees", "op": "gte"},
    )
    assert [p.path for p in problems(data)] == [
        "audience.value",
        "flow.cards.greet.buttons.0.goto",
        "flow.cards.greet.say",
        "flow.cards.ask_email.ask",
        "flow.cards.bye.set.visit.count",
    ]


def test_raise_for_problems_raises_only_when_there_are_problems() -> None:
    raise_for_problems([], "The dialogue")
    found = [Problem("flow.start", "One."), Problem("key", "Two.")]
    with pytest.raises(InvalidInput) as raised:
        raise_for_problems(found, "The dialogue")
    assert raised.value.message == "The dialogue has 2 problems."
    assert raised.value.problems == found and raised.value.status == 422
    with pytest.raises(InvalidInput, match=r"^'pricing-demo' has 1 problem\.$"):
        raise_for_problems(found[:1], "'pricing-demo'")


# --- the examples --------------------------------------------------------------------------------------------------


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("flows/*.yaml")) + sorted(EXAMPLES.glob("*.yaml"))


def kind_of(path: Path) -> str:
    return "flow" if path.parent.name == "flows" else "dialogue"


def example_flows() -> dict[str, FlowDocument]:
    flows = {}
    for path in sorted(EXAMPLES.glob("flows/*.yaml")):
        data, _ = load_yaml(path.read_text())
        flows[data["key"]] = FlowDocument.model_validate(data)
    return flows


def load_example(path: Path) -> tuple[Document | None, list[Problem]]:
    data, problems = load_yaml(path.read_text())
    assert problems == []
    return validate(data, fields=FieldSchema.builtin(), flows=example_flows(), kind=kind_of(path))  # type: ignore[arg-type]


@pytest.mark.parametrize("path", example_paths(), ids=lambda path: path.name)
def test_every_example_is_valid(path: Path) -> None:
    assert load_example(path)[1] == []


@pytest.mark.parametrize("path", example_paths(), ids=lambda path: path.name)
def test_every_example_survives_a_yaml_round_trip(path: Path) -> None:
    document, _ = load_example(path)
    assert document is not None
    data, problems = load_yaml(dump_yaml(document_to_data(document)))
    assert problems == []
    again, _ = validate(data, fields=FieldSchema.builtin(), flows=example_flows(), kind=kind_of(path))  # type: ignore[arg-type]
    assert again == document


def test_the_examples_show_every_card_kind_and_feature() -> None:
    text = "\n".join(path.read_text() for path in example_paths())
    for feature in [
        "buttons:",
        "value:",
        "store:",
        "ask:",
        "capture: person.email",
        "capture: person.phone",
        "capture: company.employees",
        "capture: person.first_name",
        "capture: person.title",
        "options:",
        "skip_if_known: true",
        "overwrite: false",
        "branch:",
        "all:",
        "any:",
        "not:",
        "else:",
        "set:",
        "link:",
        "score:",
        "flow: qualify",
        "goto:",
        "end: true",
        "book_meeting:",
        "on_unavailable:",
        "fr:",
        "de:",
        "tests:",
        "expect:",
        "goals:",
        "ends:",
        "url_regex:",
        "query:",
    ]:
        assert feature in text, feature
