"""The pure dialogue engine: one test per card kind and behaviour of DESIGN.md section 4, on small documents."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from overture.conversations import engine
from overture.conversations.engine import (
    AnswerRefused,
    BookMeeting,
    Context,
    Ended,
    EngineError,
    GoalReached,
    LinkShown,
    MeetingOutcome,
    Program,
    Reply,
    SetField,
    State,
    Turn,
)
from overture.dialogues.document import DialogueDocument, FlowDocument
from overture.dialogues.yaml_io import load_yaml

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dialogues"


def dialogue(cards: dict[str, Any], start: str | None = None, language: str = "en") -> DialogueDocument:
    return DialogueDocument.model_validate(
        {
            "key": "test",
            "name": "Test",
            "language": language,
            "flow": {"start": start or next(iter(cards)), "cards": cards},
        }
    )


def program(cards: dict[str, Any], flows: dict[str, dict[str, Any]] | None = None, **kwargs: Any) -> Program:
    called = {
        key: FlowDocument.model_validate({"key": key, "name": key, **data}) for key, data in (flows or {}).items()
    }
    return Program(document=dialogue(cards, **kwargs), flows=called)


def context(**kwargs: Any) -> Context:
    return Context(now=NOW, **kwargs)


def texts(turn: Turn) -> list[str]:
    return [message.text for message in turn.messages]


def effects_of(turn: Turn, kind: type) -> list[Any]:
    return [effect for effect in turn.effects if isinstance(effect, kind)]


def click(prog: Program, turn: Turn, choice: str, ctx: Context | None = None) -> Turn:
    return engine.answer(prog, turn.state, Reply(choice=choice), ctx or context())


def type_in(prog: Program, turn: Turn, text: str, ctx: Context | None = None) -> Turn:
    return engine.answer(prog, turn.state, Reply(text=text), ctx or context())


END = {"end": True}
ASK_EMAIL = {"ask": "Your email?", "capture": "person.email", "goto": "done"}


# --- say, set, link, goal, goto, end ---------------------------------------------------------------------------


def test_say_messages_are_shown_in_order_before_the_way_on() -> None:
    prog = program({"hello": {"say": ["One", "Two"], "goto": "done"}, "done": {"say": "Three", "end": True}})
    turn = engine.start(prog, context())
    assert texts(turn) == ["One", "Two", "Three"]
    assert [message.kind for message in turn.messages] == ["say", "say", "say"]
    assert [message.card for message in turn.messages] == ["hello", "hello", "done"]


def test_an_end_card_ends_the_conversation_completed() -> None:
    turn = engine.start(program({"done": {"say": "Bye", "end": True}}), context())
    assert turn.state.ended and turn.state.completed
    assert turn.expected.kind == "none"
    assert turn.state.awaiting is None
    assert effects_of(turn, Ended) == [Ended(completed=True)]


def test_a_goto_card_jumps() -> None:
    prog = program({"a": {"goto": "c"}, "b": {"say": "skipped", "end": True}, "c": {"say": "here", "end": True}})
    turn = engine.start(prog, context())
    assert texts(turn) == ["here"]
    assert turn.state.path == ["a", "c"]


def test_set_writes_fields_before_the_messages_are_personalised() -> None:
    prog = program({"a": {"set": {"person.title": "CTO"}, "say": "Hello {{ person.title }}", "end": True}})
    turn = engine.start(prog, context())
    assert texts(turn) == ["Hello CTO"]
    assert effects_of(turn, SetField) == [SetField(field="person.title", value="CTO", source="set")]
    assert turn.state.values["person.title"] == "CTO"


def test_a_link_is_shown_as_a_message_and_an_effect() -> None:
    prog = program({"a": {"link": {"label": {"en": "Pricing", "fr": "Tarifs"}, "url": "/pricing.pdf"}, "end": True}})
    turn = engine.start(prog, context(language="fr"))
    assert turn.messages[0].kind == "link"
    assert turn.messages[0].text == "Tarifs"
    assert turn.messages[0].url == "/pricing.pdf"
    assert effects_of(turn, LinkShown) == [LinkShown(label="Tarifs", url="/pricing.pdf", card="a")]


def test_a_goal_is_reached_once_per_conversation() -> None:
    prog = program(
        {
            "a": {"goal": {"name": "engaged", "score": 2}, "buttons": [{"label": "Again", "goto": "b"}]},
            "b": {"goal": "engaged", "buttons": [{"label": "Stop", "goto": "done"}]},
            "done": END,
        }
    )
    turn = engine.start(prog, context())
    assert effects_of(turn, GoalReached) == [GoalReached(name="engaged", score=2)]
    turn = click(prog, turn, "0")
    assert effects_of(turn, GoalReached) == []
    turn = engine.restart(prog, turn.state, context())
    assert effects_of(turn, GoalReached) == []
    assert turn.state.goals == ["engaged"]


def test_a_loop_of_cards_that_never_waits_raises_a_clear_engine_error() -> None:
    prog = program({"a": {"goto": "b"}, "b": {"goto": "a"}})
    with pytest.raises(EngineError, match="1000 cards without a question"):
        engine.start(prog, context())


# --- buttons ---------------------------------------------------------------------------------------------------


BUTTONS: dict[str, Any] = {
    "pick": {
        "say": "What brings you here?",
        "buttons": [
            {"label": "Search Engine Optimization", "value": "SEO", "store": "person.title", "goto": "seo"},
            {"label": {"en": "Ads", "fr": "Publicité"}, "store": "person.title", "goto": "done"},
            {"label": "Nothing", "goto": "done"},
        ],
    },
    "seo": {"say": "SEO it is.", "end": True},
    "done": END,
}


def test_buttons_wait_with_choices_numbered_in_card_order() -> None:
    turn = engine.start(program(BUTTONS), context())
    assert turn.expected.kind == "buttons"
    assert turn.expected.card == "pick"
    assert turn.expected.flow is None
    assert [(choice.id, choice.label) for choice in turn.expected.choices] == [
        ("0", "Search Engine Optimization"),
        ("1", "Ads"),
        ("2", "Nothing"),
    ]
    assert not turn.state.ended


def test_a_button_with_store_and_value_stores_its_value_and_goes_to_its_goto() -> None:
    prog = program(BUTTONS)
    turn = click(prog, engine.start(prog, context()), "0")
    assert effects_of(turn, SetField) == [SetField(field="person.title", value="SEO", source="button")]
    assert texts(turn) == ["SEO it is."]
    assert turn.state.transcript[-2].role == "visitor"
    assert turn.state.transcript[-2].text == "Search Engine Optimization"


def test_a_button_without_value_stores_its_label_in_the_default_language() -> None:
    prog = program(BUTTONS)
    french = context(language="fr")
    turn = engine.start(prog, french)
    assert turn.expected.choices[1].label == "Publicité"
    turn = click(prog, turn, "1", french)
    assert effects_of(turn, SetField) == [SetField(field="person.title", value="Ads", source="button")]
    assert turn.state.transcript[-1].text == "Publicité"


def test_a_button_without_store_writes_nothing() -> None:
    prog = program(BUTTONS)
    turn = click(prog, engine.start(prog, context()), "2")
    assert effects_of(turn, SetField) == []
    assert turn.state.ended


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(choice="3"), "no choice '3'"),
        (Reply(choice="-1"), "no choice"),
        (Reply(choice="x"), "no choice"),
        (Reply(text="Ads"), "buttons, not text"),
        (Reply(choice="0", text="Ads"), "not both"),
        (Reply(), "a choice or a text"),
    ],
)
def test_a_reply_that_does_not_fit_the_buttons_is_refused(reply: Reply, message: str) -> None:
    prog = program(BUTTONS)
    turn = engine.start(prog, context())
    with pytest.raises(AnswerRefused, match=message) as refused:
        engine.answer(prog, turn.state, reply, context())
    assert refused.value.message


# --- ask and capture -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("person.email", "email"),
        ("company.owner", "email"),
        ("person.phone", "phone"),
        ("company.employees", "number"),
        ("person.first_name", "name"),
        ("person.last_name", "name"),
        ("person.title", "text"),
        ("custom.favourite_tool", "text"),
    ],
)
def test_an_ask_expects_the_input_kind_of_its_field(field: str, kind: str) -> None:
    prog = program({"q": {"ask": "Tell me", "capture": field, "goto": "done"}, "done": END})
    turn = engine.start(prog, context())
    assert turn.expected.kind == kind
    assert turn.expected.field == field
    assert turn.messages[-1].kind == "question"
    assert turn.messages[-1].text == "Tell me"


def test_an_email_question_offers_a_placeholder() -> None:
    turn = engine.start(program({"q": ASK_EMAIL, "done": END}), context())
    assert turn.expected.placeholder == "name@company.com"


def test_a_valid_answer_is_captured_normalised_and_the_flow_goes_on() -> None:
    prog = program({"q": ASK_EMAIL, "done": {"say": "Thanks {{ person.email }}", "end": True}})
    turn = type_in(prog, engine.start(prog, context()), "  Bob@Example.COM ")
    assert effects_of(turn, SetField) == [SetField(field="person.email", value="bob@example.com", source="capture")]
    assert texts(turn) == ["Thanks bob@example.com"]
    assert turn.state.values["person.email"] == "bob@example.com"
    assert turn.state.ended


def test_a_phone_answer_uses_the_visitors_region() -> None:
    prog = program({"q": {"ask": "Phone?", "capture": "person.phone", "goto": "done"}, "done": END})
    ctx = context(region="FR")
    turn = type_in(prog, engine.start(prog, ctx), "06 12 34 56 78", ctx)
    assert turn.state.values["person.phone"] == "+33612345678"


def test_a_wrong_answer_repeats_the_question_with_the_cards_error_and_writes_nothing() -> None:
    card = {**ASK_EMAIL, "error": {"en": "That is not an email.", "fr": "Ce n'est pas un email."}}
    prog = program({"q": card, "done": END})
    first = engine.start(prog, context(language="fr"))
    turn = type_in(prog, first, "nope", context(language="fr"))
    assert [(message.kind, message.text) for message in turn.messages] == [
        ("error", "Ce n'est pas un email."),
        ("question", "Your email?"),
    ]
    assert turn.effects == []
    assert "person.email" not in turn.state.values
    assert turn.expected == first.expected
    assert turn.state.history == []
    assert [entry.text for entry in turn.state.transcript[-3:]] == ["nope", "Ce n'est pas un email.", "Your email?"]


def test_a_wrong_answer_without_a_card_error_gets_the_checkers_message() -> None:
    prog = program({"q": {"ask": "How many people?", "capture": "company.employees", "goto": "done"}, "done": END})
    turn = type_in(prog, engine.start(prog, context()), "lots")
    assert turn.messages[0] == engine.BotMessage(text="Please enter a number, like 250.", card="q", kind="error")


def test_a_choice_to_a_free_text_question_is_refused() -> None:
    prog = program({"q": ASK_EMAIL, "done": END})
    with pytest.raises(AnswerRefused, match="typed text"):
        click(prog, engine.start(prog, context()), "0")


PICKLIST = {
    "q": {
        "ask": "Which industry?",
        "capture": "company.industry",
        "options": [{"label": {"en": "Software", "fr": "Logiciel"}, "value": "software"}, "Retail"],
        "goto": "done",
    },
    "done": END,
}


def test_a_picklist_offers_its_options_as_choices() -> None:
    turn = engine.start(program(PICKLIST), context(language="fr"))
    assert turn.expected.kind == "choice"
    assert [(choice.id, choice.label) for choice in turn.expected.choices] == [("0", "Logiciel"), ("1", "Retail")]


def test_a_picklist_choice_stores_the_options_value_or_its_label() -> None:
    prog = program(PICKLIST)
    assert click(prog, engine.start(prog, context()), "0").state.values["company.industry"] == "software"
    assert click(prog, engine.start(prog, context()), "1").state.values["company.industry"] == "Retail"


@pytest.mark.parametrize("typed", ["software", " SOFTWARE ", "logiciel"])
def test_a_picklist_accepts_an_options_label_typed_in_any_case_or_language(typed: str) -> None:
    prog = program(PICKLIST)
    turn = type_in(prog, engine.start(prog, context()), typed)
    assert effects_of(turn, SetField) == [SetField(field="company.industry", value="software", source="capture")]


def test_a_picklist_answer_that_matches_no_option_repeats_the_question() -> None:
    prog = program(PICKLIST)
    turn = type_in(prog, engine.start(prog, context()), "Mining")
    assert [message.kind for message in turn.messages] == ["error", "question"]
    assert turn.messages[0].text == "Please pick one of the choices."
    assert turn.effects == []


def test_a_picklist_choice_that_does_not_exist_is_refused() -> None:
    prog = program(PICKLIST)
    with pytest.raises(AnswerRefused):
        click(prog, engine.start(prog, context()), "2")


def test_skip_if_known_goes_straight_on_when_the_field_has_a_value() -> None:
    prog = program({"q": {**ASK_EMAIL, "skip_if_known": True}, "done": {"say": "Done", "end": True}})
    turn = engine.start(prog, context(fields={"person.email": "ann@example.com"}))
    assert texts(turn) == ["Done"]
    assert turn.state.path == ["q", "done"]
    assert turn.state.ended


def test_skip_if_known_asks_when_the_field_is_empty() -> None:
    prog = program({"q": {**ASK_EMAIL, "skip_if_known": True}, "done": END})
    turn = engine.start(prog, context(fields={"person.email": ""}))
    assert turn.expected.kind == "email"


def test_without_skip_if_known_a_known_field_is_asked_again() -> None:
    prog = program({"q": ASK_EMAIL, "done": END})
    turn = engine.start(prog, context(fields={"person.email": "ann@example.com"}))
    assert turn.expected.kind == "email"


def test_overwrite_false_keeps_an_existing_value_and_emits_no_effect() -> None:
    prog = program({"q": {**ASK_EMAIL, "overwrite": False}, "done": END})
    ctx = context(fields={"person.email": "ann@example.com"})
    turn = type_in(prog, engine.start(prog, ctx), "bob@example.com", ctx)
    assert effects_of(turn, SetField) == []
    assert turn.state.values["person.email"] == "ann@example.com"
    assert turn.state.ended


def test_overwrite_false_still_writes_an_empty_field() -> None:
    prog = program({"q": {**ASK_EMAIL, "overwrite": False}, "done": END})
    turn = type_in(prog, engine.start(prog, context()), "bob@example.com")
    assert effects_of(turn, SetField) == [SetField(field="person.email", value="bob@example.com", source="capture")]


# --- branch ----------------------------------------------------------------------------------------------------


BRANCH = {
    "q": {"ask": "How many people?", "capture": "company.employees", "goto": "route"},
    "route": {
        "branch": [
            {"if": {"field": "company.employees", "op": "gte", "value": 1000}, "goto": "big"},
            {"if": {"field": "company.employees", "op": "gte", "value": 200}, "goto": "mid"},
            {"else": "small"},
        ]
    },
    "big": {"say": "big", "end": True},
    "mid": {"say": "mid", "end": True},
    "small": {"say": "small", "end": True},
}


@pytest.mark.parametrize(("typed", "said"), [("5,000", "big"), ("1000", "big"), ("250", "mid"), ("12", "small")])
def test_a_branch_goes_to_the_first_rule_that_matches_or_else(typed: str, said: str) -> None:
    prog = program(BRANCH)
    turn = type_in(prog, engine.start(prog, context()), typed)
    assert texts(turn) == [said]
    assert turn.state.path == ["q", "route", said]


def test_a_branch_reads_fields_the_context_knows() -> None:
    prog = program({"route": BRANCH["route"], "big": BRANCH["big"], "mid": BRANCH["mid"], "small": BRANCH["small"]})
    assert texts(engine.start(prog, context(fields={"company.employees": 300}))) == ["mid"]


def test_a_branch_with_in_last_days_uses_the_contexts_now() -> None:
    rule = {"if": {"field": "person.signed_up_at", "op": "in_last_days", "value": 7}, "goto": "recent"}
    prog = program({"route": {"branch": [rule, {"else": "old"}]}, "recent": {"say": "recent", "end": True}, "old": END})
    assert texts(engine.start(prog, context(fields={"person.signed_up_at": "2026-03-10"}))) == ["recent"]


# --- book_meeting ----------------------------------------------------------------------------------------------


BOOK = {
    "book": {
        "book_meeting": {"routing": "team", "team": "sales", "minutes": 30},
        "on_booked": "booked",
        "on_unavailable": "later",
    },
    "booked": {"say": "Booked!", "end": True},
    "later": {"say": "We will call you.", "end": True},
}


def test_book_meeting_follows_on_unavailable_with_a_notice_when_meetings_are_not_available() -> None:
    turn = engine.start(program(BOOK), context())
    assert [(message.kind, message.text) for message in turn.messages] == [
        ("notice", "Booking a meeting is not available here."),
        ("say", "We will call you."),
    ]
    assert effects_of(turn, BookMeeting) == []


KNOWN = {"person.email": "ann@example.com"}
BOOKED = MeetingOutcome(booked=True, label="Tuesday 01 December 2026, 10:00 (Europe/Paris)", agent_name="Rita Rep",
                        agent_email="rita@example.com")  # fmt: skip


def meeting(prog: Program, turn: Turn, outcome: MeetingOutcome, ctx: Context | None = None) -> Turn:
    return engine.answer(prog, turn.state, Reply(meeting=outcome), ctx or context(meetings_available=True))


def test_book_meeting_waits_for_a_time_and_follows_on_booked_once_the_service_booked_it() -> None:
    ctx = context(meetings_available=True, fields=KNOWN)
    prog = program(BOOK)
    waiting = engine.start(prog, ctx)
    assert waiting.expected.kind == "meeting" and waiting.expected.card == "book"
    assert effects_of(waiting, BookMeeting) == []

    turn = meeting(prog, waiting, BOOKED, ctx)

    [booked] = effects_of(turn, BookMeeting)
    assert booked.card == "book" and booked.spec.team == "sales"
    assert texts(turn) == ["Booked!"]
    assert turn.state.transcript[-2].role == "visitor" and "10:00" in turn.state.transcript[-2].text


def test_book_meeting_asks_an_unknown_visitor_for_the_invitations_email_first() -> None:
    ctx = context(meetings_available=True)
    prog = program(BOOK)
    asked = engine.start(prog, ctx)
    assert asked.expected.kind == "email" and texts(asked) == [engine.MEETING_EMAIL_QUESTION]
    wrong = type_in(prog, asked, "not an email", ctx)
    assert [m.kind for m in wrong.messages] == ["error", "question"] and wrong.expected.kind == "email"
    turn = type_in(prog, wrong, "Ann@Example.com", ctx)
    assert turn.expected.kind == "meeting"
    assert [(e.field, e.value) for e in effects_of(turn, SetField)] == [("person.email", "ann@example.com")]


def test_a_time_cannot_be_typed_and_a_booking_cannot_answer_a_question() -> None:
    ctx = context(meetings_available=True, fields=KNOWN)
    prog = program(BOOK)
    waiting = engine.start(prog, ctx)
    with pytest.raises(AnswerRefused):
        type_in(prog, waiting, "tomorrow at ten", ctx)
    asking = engine.start(program({"q": ASK_EMAIL, "done": END}), ctx)
    with pytest.raises(AnswerRefused):
        meeting(prog, asking, BOOKED, ctx)


def test_with_no_meeting_possible_the_card_goes_on_at_on_unavailable_without_a_visitor_answer() -> None:
    ctx = context(meetings_available=True, fields=KNOWN)
    prog = program(BOOK)
    turn = meeting(prog, engine.start(prog, ctx), MeetingOutcome(booked=False), ctx)
    assert texts(turn) == ["We will call you."]
    assert [entry.role for entry in turn.state.transcript] == ["bot"]
    assert effects_of(turn, BookMeeting) == []


def test_the_booked_agent_is_stored_in_the_cards_field_and_a_booking_cannot_be_undone_by_going_back() -> None:
    cards = copy.deepcopy(BOOK)
    cards["book"]["book_meeting"]["store_agent"] = "person.owner_email"
    ctx = context(meetings_available=True, fields=KNOWN)
    prog = program({"q": {"ask": "Your role?", "capture": "person.title", "goto": "book"}, **cards}, start="q")
    turn = meeting(prog, type_in(prog, engine.start(prog, ctx), "CEO", ctx), BOOKED, ctx)
    assert ("person.owner_email", "rita@example.com") in [(e.field, e.value) for e in effects_of(turn, SetField)]
    with pytest.raises(AnswerRefused):
        engine.go_back(prog, turn.state, ctx)


# --- flow ------------------------------------------------------------------------------------------------------


QUALIFY = {
    "language": "en",
    "flow": {
        "start": "intro",
        "cards": {
            "intro": {"say": {"en": "A few questions.", "fr": "Quelques questions."}, "goto": "role"},
            "role": {"ask": "Your role?", "capture": "person.title", "goto": "out"},
            "out": {"say": "Thanks for that.", "end": True},
        },
    },
}
CALLER = {
    "hello": {"say": "Hi", "flow": "qualify", "goto": "after"},
    "after": {"say": "Back in the dialogue.", "buttons": [{"label": "Finish", "goto": "done"}]},
    "done": END,
}


def test_a_flow_card_runs_the_called_flow_from_its_start() -> None:
    prog = program(CALLER, flows={"qualify": QUALIFY})
    turn = engine.start(prog, context())
    assert texts(turn) == ["Hi", "A few questions.", "Your role?"]
    assert turn.expected.card == "role"
    assert turn.expected.flow == "qualify"
    assert [message.card for message in turn.messages] == ["hello", "qualify:intro", "qualify:role"]
    assert turn.state.path == ["hello", "qualify:intro", "qualify:role"]


def test_the_end_of_a_called_flow_returns_to_the_callers_goto() -> None:
    prog = program(CALLER, flows={"qualify": QUALIFY})
    turn = type_in(prog, engine.start(prog, context()), "CTO")
    assert texts(turn) == ["Thanks for that.", "Back in the dialogue."]
    assert not turn.state.ended
    assert effects_of(turn, Ended) == []
    assert turn.expected.card == "after"
    assert turn.expected.flow is None
    assert turn.state.values["person.title"] == "CTO"
    assert turn.state.path[-2:] == ["qualify:out", "after"]
    assert len(turn.state.stack) == 1
    assert click(prog, turn, "0").state.completed


def test_a_called_flow_falls_back_to_its_own_default_language() -> None:
    prog = program(CALLER, flows={"qualify": QUALIFY}, language="fr")
    assert texts(engine.start(prog, context(language="fr")))[1] == "Quelques questions."
    assert texts(engine.start(prog, context(language="de")))[1] == "A few questions."


def test_a_flow_missing_from_the_program_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="flow 'qualify'"):
        engine.start(program(CALLER), context())


# --- languages -------------------------------------------------------------------------------------------------


LOCALISED = {
    "hello": {
        "say": {"en": "Hello {{ person.first_name or 'there' }}", "fr": "Bonjour {{ person.first_name or 'toi' }}"},
        "end": True,
    }
}


def test_the_visitors_language_is_chosen() -> None:
    assert texts(engine.start(program(LOCALISED), context(language="fr-CA"))) == ["Bonjour toi"]


def test_an_unknown_language_falls_back_to_the_documents_default() -> None:
    assert texts(engine.start(program(LOCALISED), context(language="de"))) == ["Hello there"]
    assert texts(engine.start(program(LOCALISED, language="fr"), context())) == ["Bonjour toi"]


def test_personalisation_uses_the_context_fields_literally() -> None:
    turn = engine.start(program(LOCALISED), context(fields={"person.first_name": "{{ 7*7 }}"}))
    assert texts(turn) == ["Hello {{ 7*7 }}"]


# --- go back and restart ---------------------------------------------------------------------------------------


THREE_QUESTIONS = {
    "name": {"ask": "Name?", "capture": "person.first_name", "goto": "mail"},
    "mail": {"ask": "Hi {{ person.first_name }}, email?", "capture": "person.email", "goto": "size"},
    "size": {"ask": "Size?", "capture": "company.employees", "goto": "done"},
    "done": {"say": "Done.", "end": True},
}


def three_answers() -> tuple[Program, list[Turn]]:
    prog = program(THREE_QUESTIONS)
    turns = [engine.start(prog, context())]
    for typed in ("ann", "ann@example.com", "40"):
        turns.append(type_in(prog, turns[-1], typed))
    return prog, turns


def test_go_back_returns_to_the_last_question_and_undoes_its_value() -> None:
    prog, turns = three_answers()
    back = engine.go_back(prog, turns[2].state, context())
    assert back.expected == turns[1].expected
    assert back.state.values == {"person.first_name": "ann"}
    assert back.state.written == ["person.first_name"]
    assert back.messages == []
    # The person gets the field back as it was before the undone answer (it was empty).
    assert back.effects == [engine.SetField(field="person.email", value=None, source="back")]
    assert back.state.path == ["name", "mail"]


def test_go_back_marks_the_undone_transcript_entries_retracted() -> None:
    prog, turns = three_answers()
    back = engine.go_back(prog, turns[2].state, context())
    kept = [(entry.role, entry.text) for entry in back.state.transcript if not entry.retracted]
    undone = [(entry.role, entry.text) for entry in back.state.transcript if entry.retracted]
    assert kept == [("bot", "Name?"), ("visitor", "ann"), ("bot", "Hi ann, email?")]
    assert undone == [("visitor", "ann@example.com"), ("bot", "Size?")]


def test_go_back_twice_then_a_new_answer_goes_on_from_there() -> None:
    prog, turns = three_answers()
    back = engine.go_back(prog, engine.go_back(prog, turns[2].state, context()).state, context())
    assert back.expected.card == "name"
    assert back.state.values == {}
    turn = type_in(prog, back, "Bob")
    assert texts(turn) == ["Hi Bob, email?"]


def test_go_back_after_the_end_reopens_the_conversation() -> None:
    prog, turns = three_answers()
    assert turns[3].state.ended
    back = engine.go_back(prog, turns[3].state, context())
    assert not back.state.ended and not back.state.completed
    assert back.expected.card == "size"
    assert "company.employees" not in back.state.values


def test_go_back_with_nothing_to_undo_is_refused() -> None:
    prog = program(THREE_QUESTIONS)
    with pytest.raises(AnswerRefused, match="no answer to undo"):
        engine.go_back(prog, engine.start(prog, context()).state, context())


def test_a_wrong_answer_is_not_an_answer_to_undo() -> None:
    prog = program(THREE_QUESTIONS)
    turn = type_in(prog, engine.start(prog, context()), "1234")
    with pytest.raises(AnswerRefused):
        engine.go_back(prog, turn.state, context())


def test_restart_runs_from_the_start_keeping_values_and_retracting_the_transcript() -> None:
    prog, turns = three_answers()
    again = engine.restart(prog, turns[2].state, context())
    assert texts(again) == ["Name?"]
    assert again.expected.card == "name"
    assert again.state.values == {"person.first_name": "ann", "person.email": "ann@example.com"}
    assert all(entry.retracted for entry in again.state.transcript[:-1])
    assert again.state.transcript[-1] == engine.TranscriptEntry(role="bot", text="Name?", card="name")
    assert again.state.path == ["name"]
    assert again.state.history == []


def test_restart_after_the_end_starts_again() -> None:
    prog, turns = three_answers()
    again = engine.restart(prog, turns[3].state, context())
    assert not again.state.ended
    assert again.expected.kind == "name"


def test_restart_skips_questions_whose_fields_were_captured() -> None:
    again = {"say": "Done", "buttons": [{"label": "Again", "goto": "q"}]}
    prog = program({"q": {**ASK_EMAIL, "skip_if_known": True}, "done": again})
    turn = type_in(prog, engine.start(prog, context()), "ann@example.com")
    assert texts(engine.restart(prog, turn.state, context())) == ["Done"]


# --- answering after the end, the state, the context -----------------------------------------------------------


def test_answering_an_ended_conversation_is_refused() -> None:
    prog = program({"done": END})
    with pytest.raises(AnswerRefused, match="ended"):
        engine.answer(prog, engine.start(prog, context()).state, Reply(text="hello"), context())


def test_the_state_survives_a_json_round_trip_and_continues_identically() -> None:
    prog, turns = three_answers()
    stored = State.model_validate_json(turns[1].state.model_dump_json())
    assert stored == turns[1].state
    direct = type_in(prog, turns[1], "ann@example.com")
    reloaded = engine.answer(prog, stored, Reply(text="ann@example.com"), context())
    assert reloaded.model_dump_json() == direct.model_dump_json()


def test_values_in_the_state_are_plain_json() -> None:
    prog = program({"a": {"set": {"company.name": "Acme"}, "end": True}})
    turn = engine.start(prog, context(fields={"person.signed_up_at": datetime(2026, 3, 1, tzinfo=UTC)}))
    assert turn.state.values["person.signed_up_at"] == "2026-03-01T00:00:00Z"


def test_an_answer_does_not_change_the_state_it_was_given() -> None:
    prog, turns = three_answers()
    before = turns[1].state.model_dump_json()
    type_in(prog, turns[1], "ann@example.com")
    engine.go_back(prog, turns[1].state, context())
    engine.restart(prog, turns[1].state, context())
    assert turns[1].state.model_dump_json() == before


def test_later_context_fields_do_not_override_what_the_conversation_captured() -> None:
    prog, turns = three_answers()
    ctx = context(fields={"person.first_name": "Someone else", "company.name": "Acme"})
    back = engine.go_back(prog, turns[3].state, ctx)
    assert back.state.values["person.first_name"] == "ann"
    assert back.state.values["company.name"] == "Acme"


def test_a_state_without_a_version_is_read_as_version_one() -> None:
    prog, turns = three_answers()
    data = turns[1].state.model_dump(mode="json")
    del data["version"]
    assert State.model_validate(data) == turns[1].state


def test_a_state_from_a_newer_engine_is_rejected() -> None:
    with pytest.raises(ValidationError, match="state version 99"):
        State.model_validate({"version": 99})


def test_the_upgrade_of_the_current_version_changes_nothing() -> None:
    data = State().model_dump(mode="json")
    assert engine.upgrade(dict(data)) == data


def test_the_context_needs_an_aware_time() -> None:
    with pytest.raises(ValidationError, match="aware"):
        Context(now=datetime(2026, 1, 1))


def test_effects_serialise_with_their_type() -> None:
    prog, ctx = program(BOOK), context(meetings_available=True, fields=KNOWN)
    turn = meeting(prog, engine.start(prog, ctx), BOOKED, ctx)
    dumped = turn.model_dump(mode="json")
    assert [effect["type"] for effect in dumped["effects"]] == ["book_meeting", "ended"]
    assert Turn.model_validate(dumped) == turn


# --- the example ---------------------------------------------------------------------------------------------------


def pricing_demo() -> Program:
    data, problems = load_yaml((EXAMPLES / "pricing-demo.yaml").read_text())
    assert problems == []
    return Program(document=DialogueDocument.model_validate(data))


GREETING = "Want to see Acme live? Three quick questions and we find a time."


def qualified(prog: Program, ctx: Context, size: str, *, industry_known: bool = False) -> Turn:
    """Answers the example's questions up to its email question: a demo, a company size, Software, Sales."""
    turn = click(prog, engine.start(prog, ctx), "0", ctx)
    assert texts(turn) == ["How many people work at your company?"]
    turn = click(prog, turn, size, ctx)
    if not industry_known:
        assert texts(turn) == ["What does your company do?"]
        turn = click(prog, turn, "0", ctx)
    assert texts(turn) == ["And what is your role?"]
    turn = click(prog, turn, "0", ctx)
    assert texts(turn) == ["Great! What is your work email?"]
    return turn


def test_pricing_demo_books_a_demo_for_a_large_company() -> None:
    prog = pricing_demo()
    ctx = context(meetings_available=True)
    assert texts(engine.start(prog, ctx)) == ["Hi there!", GREETING]
    turn = qualified(prog, ctx, "2")
    turn = type_in(prog, turn, "not an email", ctx)
    assert [message.kind for message in turn.messages] == ["error", "question"]
    turn = type_in(prog, turn, "Ann@Example.com", ctx)
    assert texts(turn) == ["Let's find 30 minutes for your demo."] and turn.expected.kind == "meeting"
    ctx = context(meetings_available=True, fields={"person.email": "ann@example.com"})
    turn = meeting(prog, turn, BOOKED, ctx)
    assert texts(turn) == ["Booked! The invitation is in your inbox, see you soon."]
    assert turn.state.path[-3:] == ["qualify", "book", "thanks"]
    assert [type(effect) for effect in turn.effects] == [BookMeeting, GoalReached, Ended]
    assert turn.state.values["company.employees"] == 500 and turn.state.values["person.title"] == "Head of Sales"
    assert turn.state.goals == ["demo_booked"]
    assert turn.state.completed


def test_pricing_demo_promises_an_email_when_meetings_are_unavailable() -> None:
    prog = pricing_demo()
    ctx = context(language="en")
    turn = type_in(prog, qualified(prog, ctx, "1"), "ann@example.com", ctx)
    assert texts(turn) == [
        "Let's find 30 minutes for your demo.",
        "Booking a meeting is not available here.",
        "Thanks! We will email you at ann@example.com to find a time that suits you.",
    ]
    assert turn.state.path[-2:] == ["book", "email_later"]
    assert turn.state.goals == ["demo_requested"]


def test_pricing_demo_offers_a_small_company_the_trial_and_greets_a_known_person() -> None:
    prog = pricing_demo()
    ctx = context(fields={"company.industry": "Fintech", "person.first_name": "Ann"})
    assert texts(engine.start(prog, ctx))[0] == "Hi Ann!"
    turn = type_in(prog, qualified(prog, ctx, "0", industry_known=True), "ann@example.com", ctx)
    assert turn.state.path[-2:] == ["qualify", "self_serve"]
    assert turn.state.goals == ["trial_offered"]


def test_pricing_demo_says_goodbye_to_a_browser() -> None:
    prog = pricing_demo()
    turn = click(prog, engine.start(prog, context()), "1")
    assert texts(turn) == ["No problem, enjoy the tour!"]
    assert turn.state.completed
