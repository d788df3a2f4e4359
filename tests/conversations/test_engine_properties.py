"""Properties of the engine over random valid flows and random visitors.

Flows are valid by construction: cards c0..cN where every card's targets are later cards, card c(i+1) is always one
of them (so every card is reachable) and the last card is the only `end` (so an end is reachable from every card).
A dialogue may call one reusable flow built the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from overture.conversations import engine
from overture.conversations.engine import AnswerRefused, Context, MeetingOutcome, Program, Reply, State, Turn
from overture.dialogues.document import DialogueDocument, FlowDocument

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
SUB = "sub"

# A field to capture, with answers that fit it.
CAPTURES: dict[str, list[str]] = {
    "person.email": ["ann@example.com", "Bob@Example.org"],
    "person.phone": ["+1 415 555 0100", "06 12 34 56 78"],
    "company.employees": ["250", "1,200", "12"],
    "person.first_name": ["Ann", "{{ 7*7 }}"],
    "person.title": ["CTO", "Head of Sales"],
    "company.industry": ["Software", "Retail"],
}
JUNK = ["", "   ", "nope", "1.5k", "x" * 1001, "{% for %}", "0", "Software"]
TEXTS: st.SearchStrategy[Any] = st.sampled_from(
    [
        "Hello",
        "Hi {{ person.first_name or 'there' }}",
        {"en": "You have {{ company.employees }} people", "fr": "Vous êtes {{ company.employees }}"},
        "Broken {{ person.first_name ",
        {"fr": "Seulement en français"},
    ]
)
CONDITIONS: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        {"field": "company.employees", "op": "gte", "value": 200},
        {"field": "company.employees", "op": "between", "value": [10, 500]},
        {"field": "person.email", "op": "is_empty"},
        {"field": "person.email", "op": "ends_with", "value": "@example.com"},
        {"field": "person.title", "op": "in", "value": ["CTO", "CEO"]},
        {"field": "company.industry", "op": "not_equals", "value": "retail"},
        {"field": "person.signed_up_at", "op": "in_last_days", "value": 30},
    ]
)


def _combined(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    parts = st.lists(inner, min_size=1, max_size=3)
    return st.one_of(
        st.fixed_dictionaries({"all": parts}),
        st.fixed_dictionaries({"any": parts}),
        st.fixed_dictionaries({"not": inner}),
    )


CONDITION = st.recursive(CONDITIONS, _combined, max_leaves=4)


@st.composite
def flow(draw: st.DrawFn, *, can_call: bool) -> dict[str, Any]:
    size = draw(st.integers(min_value=1, max_value=9))
    keys = [f"c{index}" for index in range(size)]
    kinds = ["buttons", "ask", "branch", "book_meeting", "goto", "say"] + (["flow"] if can_call else [])
    cards: dict[str, Any] = {}
    for index, key in enumerate(keys):
        card: dict[str, Any] = {}
        if draw(st.booleans()):
            card["say"] = draw(st.one_of(TEXTS, st.lists(TEXTS, min_size=1, max_size=2)))
        if draw(st.integers(0, 5)) == 0:
            card["set"] = {"person.title": draw(st.sampled_from(["CTO", "Intern"]))}
        if draw(st.integers(0, 5)) == 0:
            card["link"] = {"label": draw(TEXTS), "url": "https://example.com/doc.pdf"}
        if draw(st.integers(0, 4)) == 0:
            card["goal"] = draw(st.sampled_from(["engaged", {"name": "qualified", "score": 2}]))
        if index == size - 1:
            cards[key] = {**card, "end": True}
            continue
        following = keys[index + 1]
        later = st.sampled_from(keys[index + 1 :])
        match draw(st.sampled_from(kinds)):
            case "buttons":
                others = draw(st.lists(later, max_size=3))
                card["buttons"] = [
                    {
                        "label": draw(TEXTS),
                        "goto": target,
                        **draw(st.sampled_from([{}, {"store": "person.title"}, {"store": "person.title", "value": 7}])),
                    }
                    for target in [following, *others]
                ]
            case "ask":
                field = draw(st.sampled_from(sorted(CAPTURES)))
                card.update(ask=draw(TEXTS), capture=field, goto=following)
                card["skip_if_known"] = draw(st.booleans())
                card["overwrite"] = draw(st.booleans())
                if draw(st.booleans()):
                    card["error"] = draw(TEXTS)
                if field == "company.industry" and draw(st.booleans()):
                    card["options"] = [{"label": {"en": "Software", "fr": "Logiciel"}, "value": "sw"}, "Retail"]
            case "branch":
                rules = [{"if": draw(CONDITION), "goto": draw(later)} for _ in range(draw(st.integers(0, 3)))]
                card["branch"] = [*rules, {"else": following}]
            case "book_meeting":
                card.update(book_meeting={"routing": "round_robin"}, on_booked=following, on_unavailable=draw(later))
            case "goto":
                card["goto"] = following
            case "say":
                card.setdefault("say", "Just saying.")
                card["goto"] = following
            case "flow":
                card.update(flow=SUB, goto=following)
        cards[key] = card
    return {"start": "c0", "cards": cards}


@st.composite
def programs(draw: st.DrawFn) -> Program:
    document = DialogueDocument.model_validate(
        {
            "key": "prop",
            "name": "Prop",
            "language": draw(st.sampled_from(["en", "fr"])),
            "flow": draw(flow(can_call=True)),
        }
    )
    called = FlowDocument.model_validate({"key": SUB, "name": "Sub", "flow": draw(flow(can_call=False))})
    return Program(document=document, flows={SUB: called})


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("choice"), st.integers(min_value=0, max_value=4)),
        st.tuples(
            st.just("text"), st.one_of(st.sampled_from([*JUNK, *sum(CAPTURES.values(), [])]), st.text(max_size=30))
        ),
        st.tuples(st.just("back"), st.none()),
        st.tuples(st.just("restart"), st.none()),
        st.tuples(st.just("meeting"), st.booleans()),  # the service's outcome of a booking: booked or not
    ),
    max_size=25,
)
CONTEXTS = st.builds(
    Context,
    fields=st.sampled_from(
        [
            {},
            {"person.email": "known@example.com", "company.employees": 300},
            {"person.signed_up_at": "2026-03-10", "person.first_name": "{{ 7*7 }}"},
        ]
    ),
    language=st.sampled_from([None, "en", "fr", "fr-CA", "de"]),
    region=st.sampled_from([None, "FR", "US"]),
    now=st.just(NOW),
    meetings_available=st.booleans(),
)


def allowed_cards(program: Program) -> set[str]:
    own = set(program.document.flow.cards)
    called = {f"{key}:{card}" for key, document in program.flows.items() for card in document.flow.cards}
    return own | called


def check(program: Program, turn: Turn) -> None:
    """The invariants every turn keeps."""
    state = turn.state
    if state.ended:
        assert turn.expected.kind == "none"
        assert state.awaiting is None
    else:
        assert turn.expected.kind != "none"
        assert state.awaiting == turn.expected
        if turn.expected.kind in ("buttons", "choice"):
            assert turn.expected.choices
    assert set(state.path) <= allowed_cards(program)
    assert State.model_validate_json(state.model_dump_json()) == state


def refusal_is_legitimate(turn: Turn, action: str, argument: Any) -> bool:
    expected = turn.expected
    match action:
        case "back":
            return not turn.state.history
        case "restart":
            return False
        case "choice":
            fits = expected.kind in ("buttons", "choice") and argument < len(expected.choices)
            return turn.state.ended or not fits
        case "meeting":
            return turn.state.ended or expected.kind != "meeting"
        case _:
            return turn.state.ended or expected.kind in ("buttons", "meeting")


def play(program: Program, context: Context, actions: list[tuple[str, Any]]) -> list[str]:
    """Runs the visitor's actions; returns every turn (or refusal) as JSON."""
    turn = engine.start(program, context)
    check(program, turn)
    record = [turn.model_dump_json()]
    for action, argument in actions:
        try:
            match action:
                case "choice":
                    after = engine.answer(program, turn.state, Reply(choice=str(argument)), context)
                case "text":
                    after = engine.answer(program, turn.state, Reply(text=argument), context)
                case "meeting":
                    outcome = MeetingOutcome(booked=argument, label="Tuesday 10:00", agent_email="rita@example.com")
                    after = engine.answer(program, turn.state, Reply(meeting=outcome), context)
                case "back":
                    after = engine.go_back(program, turn.state, context)
                case _:
                    after = engine.restart(program, turn.state, context)
        except AnswerRefused as refused:
            assert refusal_is_legitimate(turn, action, argument), refused.message
            record.append(f"refused: {refused.message}")
            continue
        check(program, after)
        turn = after
        record.append(turn.model_dump_json())
    return record


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), context=CONTEXTS, actions=ACTIONS)
def test_every_step_waits_or_ends_stays_in_the_flow_and_is_deterministic(
    program: Program, context: Context, actions: list[tuple[str, Any]]
) -> None:
    first = play(program, context, actions)
    assert play(program, context, actions) == first


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), context=CONTEXTS, actions=ACTIONS)
def test_a_reloaded_state_continues_exactly_like_the_live_one(
    program: Program, context: Context, actions: list[tuple[str, Any]]
) -> None:
    live = engine.start(program, context)
    for action, argument in actions:
        reloaded = State.model_validate_json(live.state.model_dump_json())
        if action == "choice":
            reply = Reply(choice=str(argument))
        elif action == "text":
            reply = Reply(text=argument)
        else:
            continue
        try:
            after = engine.answer(program, live.state, reply, context)
        except AnswerRefused:
            continue
        assert engine.answer(program, reloaded, reply, context).model_dump_json() == after.model_dump_json()
        live = after
