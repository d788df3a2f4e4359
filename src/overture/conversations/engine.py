"""The dialogue interpreter (DESIGN.md section 4): pure functions from (program, state, reply, context) to the next
turn. No I/O, no clock, no database, no randomness; everything in and out is JSON-serialisable, so a conversation can
be stored, reloaded on another page and replayed exactly.

A step enters cards one after the other until one waits for the visitor (buttons, ask) or the conversation ends.
Entering a card applies `set`, shows `say`, shows `link`, records `goal`, then follows the card's one way on; one
handler per way on, dispatched by one `match` in `_enter`.

Card references in messages, transcript entries, effects and `State.path` are "card" for a card of the program's own
document and "flowkey:card" for a card of a called flow; `Expected` names the card and the flow separately.
The shapes it takes and gives (program, context, reply, turn, state) are defined in `turns.py` and exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic_core import to_jsonable_python

from overture.conversations import answers
from overture.conversations.personalize import pick, render
from overture.conversations.turns import (
    MAX_BACK_STEPS,
    STATE_VERSION,
    AnswerRefused,
    BookMeeting,
    BotMessage,
    Choice,
    Context,
    Effect,
    EmailPolicy,
    Ended,
    EngineError,
    Expected,
    ExpectedKind,
    Frame,
    GoalReached,
    LinkShown,
    MeetingOutcome,
    Program,
    Reply,
    SetField,
    Snapshot,
    State,
    TranscriptEntry,
    Turn,
    upgrade,
)
from overture.dialogues import document as doc
from overture.dialogues.document import Card, CardKind, FlowDocument, Text
from overture.people.email_domains import domain_of, within
from overture.people.fields import FieldSchema, FieldType
from overture.targeting import conditions

# The interpreter's API: its functions and the shapes they take and give (defined in turns.py).
__all__ = [
    "MAX_BACK_STEPS",
    "STATE_VERSION",
    "AnswerRefused",
    "BookMeeting",
    "BotMessage",
    "Choice",
    "Context",
    "Effect",
    "EmailPolicy",
    "Ended",
    "EngineError",
    "Expected",
    "ExpectedKind",
    "Frame",
    "GoalReached",
    "LinkShown",
    "MeetingOutcome",
    "Program",
    "Reply",
    "SetField",
    "Snapshot",
    "State",
    "TranscriptEntry",
    "Turn",
    "upgrade",
    "start",
    "answer",
    "go_back",
    "restart",
]

# Cards entered in one step without waiting for the visitor; validation rejects loops, this keeps a bad document
# from hanging a worker.
MAX_CARDS_PER_STEP = 1000
# Flows calling flows; validation rejects recursion, this keeps a bad document from growing the state forever.
MAX_FLOW_DEPTH = 20
MEETINGS_UNAVAILABLE = "Booking a meeting is not available here."
MEETING_EMAIL_QUESTION = "What email address should the invitation go to?"
PLACEHOLDERS = {"email": "name@company.com", "phone": "+1 415 555 0100"}
_ANSWER_KINDS: dict[str, answers.AnswerKind] = {"email": "email", "phone": "phone", "number": "number", "name": "name"}


# --- the public functions --------------------------------------------------------------------------------------


def start(program: Program, context: Context) -> Turn:
    """The first turn: a new state, run from the document's start card."""
    state = State(stack=[Frame(flow=None, card=program.document.flow.start)])
    step = _Step(program, state, context)
    step.refresh_values()
    step.run(program.document.flow.start)
    return step.turn()


def answer(program: Program, state: State, reply: Reply, context: Context) -> Turn:
    """The turn after the visitor's reply. Raises AnswerRefused when the conversation has ended or the reply does
    not fit what is expected; a typed answer that fails its check repeats the question with an error instead."""
    expected = state.awaiting
    if state.ended or expected is None:
        raise AnswerRefused("The conversation has ended.")
    given = [part for part in (reply.choice, reply.text, reply.meeting) if part is not None]
    if len(given) > 1:
        raise AnswerRefused("Send a choice or a text, not both.")
    if not given:
        raise AnswerRefused("Send a choice or a text.")
    if (expected.kind == "meeting") != (reply.meeting is not None):
        raise AnswerRefused(
            "Pick one of the times offered." if expected.kind == "meeting" else "Send a choice or a text."
        )
    step = _Step(program, _fork(state), context)
    step.refresh_values()
    card = step.card(expected.flow, _require(expected.card))
    match card.kind:
        case CardKind.buttons:
            step.answer_buttons(card, expected, reply)
        case CardKind.ask:
            step.answer_ask(card, expected, reply)
        case CardKind.book_meeting if expected.kind == "email":
            step.answer_meeting_email(card, reply)
        case CardKind.book_meeting:
            step.answer_meeting(card, _require_outcome(reply.meeting))
        case _:
            raise EngineError(f"The card '{expected.card}' does not wait for an answer.")
    return step.turn()


def go_back(program: Program, state: State, context: Context) -> Turn:
    """Undoes the last answer: back to the question it answered, with the values as they were then (fields the
    world knows through the context stay known). The transcript keeps what was undone, marked retracted. Raises
    AnswerRefused when there is nothing to undo."""
    if not state.history:
        raise AnswerRefused("There is no answer to undo.")
    new = _fork(state)
    snapshot = new.history.pop()
    undone = [name for name in state.written if name not in snapshot.written]
    new.transcript[snapshot.transcript_length :] = _retracted(new.transcript[snapshot.transcript_length :])
    new.stack, new.awaiting = [frame.model_copy() for frame in snapshot.stack], snapshot.awaiting
    new.values, new.written, new.path = dict(snapshot.values), list(snapshot.written), new.path[: snapshot.path_length]
    new.ended = new.completed = False
    step = _Step(program, new, context)
    step.refresh_values()
    # The world (the person) still holds what the undone answers wrote: put those fields back as they were, here
    # and, through the effects, on the person, so a corrected answer is taken even by an `overwrite: false` card.
    for name in undone:
        before = snapshot.values.get(name)
        if before is None:
            new.values.pop(name, None)
        else:
            new.values[name] = before
        step.effects.append(SetField(field=name, value=before, source="back"))
    # The question is already in the transcript (not retracted): no message, the widget redraws from there.
    return step.turn()


def restart(program: Program, state: State, context: Context) -> Turn:
    """From the start card again. The transcript is kept with every earlier entry retracted; captured values stay
    known (so `skip_if_known` questions are skipped); goals already reached are not reached twice."""
    new = _fork(state)
    new.transcript = _retracted(new.transcript)
    new.stack = [Frame(flow=None, card=program.document.flow.start)]
    new.awaiting, new.history, new.path = None, [], []
    new.ended = new.completed = False
    step = _Step(program, new, context)
    step.refresh_values()
    step.run(program.document.flow.start)
    return step.turn()


# --- the step --------------------------------------------------------------------------------------------------


def _fork(state: State) -> State:
    """A copy of `state` that the step may change without changing `state`: containers are copied, the frozen
    value objects in them (transcript entries, snapshots, expectations) are shared."""
    return state.model_copy(
        update={
            "stack": [frame.model_copy() for frame in state.stack],
            "values": dict(state.values),
            "written": list(state.written),
            "transcript": list(state.transcript),
            "history": list(state.history),
            "goals": list(state.goals),
            "path": list(state.path),
        }
    )


def _retracted(entries: list[TranscriptEntry]) -> list[TranscriptEntry]:
    return [entry if entry.retracted else entry.model_copy(update={"retracted": True}) for entry in entries]


@cache
def _schema() -> FieldSchema:
    return FieldSchema.builtin()


def _require(value: str | None) -> str:
    if value is None:
        raise EngineError("The state points at no card.")
    return value


@dataclass
class _Go:
    card: str


@dataclass
class _Call:
    flow: str


@dataclass
class _Wait:
    expected: Expected


@dataclass
class _Finish:
    pass


_Outcome = _Go | _Call | _Wait | _Finish


@dataclass
class _Step:
    """One call's work on a private copy of the state: messages and effects in the order they happen."""

    program: Program
    state: State
    context: Context
    messages: list[BotMessage] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    # -- looking things up --

    def document(self, flow: str | None) -> FlowDocument:
        if flow is None:
            return self.program.document
        try:
            return self.program.flows[flow]
        except KeyError:
            raise EngineError(f"The flow '{flow}' is not part of this program.") from None

    def card(self, flow: str | None, key: str) -> Card:
        try:
            return self.document(flow).flow.cards[key]
        except KeyError:
            where = f" in the flow '{flow}'" if flow else ""
            raise EngineError(f"The card '{key}'{where} does not exist.") from None

    @property
    def frame(self) -> Frame:
        return self.state.stack[-1]

    def ref(self, key: str | None = None) -> str:
        """The current card (or `key` in the current flow) as "card" or "flowkey:card"."""
        key = key or self.frame.card
        return f"{self.frame.flow}:{key}" if self.frame.flow else key

    def text(self, text: Text) -> str:
        """A text in the visitor's language, personalised."""
        default = self.document(self.frame.flow).language
        return render(text, self.state.values, language=self.context.language, default_language=default)

    def default_text(self, text: Text) -> str:
        """A text in the document's default language, as written: what gets stored for a label."""
        default = self.document(self.frame.flow).language
        return pick(text, default, default)

    # -- writing --

    def refresh_values(self) -> None:
        """Takes in the context's fields, except those this conversation wrote itself."""
        written = set(self.state.written)
        for name, value in self.context.fields.items():
            if name not in written:
                self.state.values[name] = to_jsonable_python(value)

    def say(
        self, text: str, kind: Literal["say", "question", "error", "link", "notice"], url: str | None = None
    ) -> None:
        card = self.ref()
        self.messages.append(BotMessage(text=text, card=card, kind=kind, url=url))
        self.state.transcript.append(TranscriptEntry(role="bot", text=text, card=card))

    def write(self, name: str, value: Any, source: Literal["capture", "button", "set"]) -> None:
        value = to_jsonable_python(value)
        self.state.values[name] = value
        if name not in self.state.written:
            self.state.written.append(name)
        self.effects.append(SetField(field=name, value=value, source=source))

    def remember(self, shown: str) -> None:
        """Records the visitor's accepted answer, after a snapshot to come back to."""
        self.state.history.append(
            Snapshot(
                stack=[frame.model_copy() for frame in self.state.stack],
                awaiting=self.state.awaiting,
                values=dict(self.state.values),
                written=list(self.state.written),
                path_length=len(self.state.path),
                transcript_length=len(self.state.transcript),
            )
        )
        # Going back is for the last few answers; older snapshots would only make every step's state heavier.
        del self.state.history[:-MAX_BACK_STEPS]
        self.state.transcript.append(TranscriptEntry(role="visitor", text=shown, card=self.ref()))
        self.state.awaiting = None

    # -- running --

    def run(self, key: str) -> None:
        """Enters `key` in the current flow and goes on until a card waits or the conversation ends."""
        entered = 0
        outcome: _Outcome = _Go(key)
        while True:
            match outcome:
                case _Go(card=target):
                    entered += 1
                    if entered > MAX_CARDS_PER_STEP:
                        raise EngineError(
                            f"The dialogue went through {MAX_CARDS_PER_STEP} cards without a question "
                            f"(last: '{self.ref(target)}'); a loop of cards never reaches a question or an end."
                        )
                    outcome = self.enter(target)
                case _Call(flow=called):
                    if len(self.state.stack) >= MAX_FLOW_DEPTH:
                        raise EngineError(f"The card '{self.ref()}' calls flows more than {MAX_FLOW_DEPTH} deep.")
                    return_to = self.card(self.frame.flow, self.frame.card).goto
                    start_card = self.document(called).flow.start
                    self.state.stack.append(Frame(flow=called, card=start_card, return_to=return_to))
                    outcome = _Go(start_card)
                case _Finish():
                    if len(self.state.stack) > 1:
                        # The end of a called flow returns to the card after the caller.
                        returning = self.state.stack.pop()
                        outcome = _Go(_require(returning.return_to))
                        continue
                    self.state.ended = self.state.completed = True
                    self.state.awaiting = None
                    self.effects.append(Ended(completed=True))
                    return
                case _Wait(expected=expected):
                    self.state.awaiting = expected
                    return

    def enter(self, key: str) -> _Outcome:
        card = self.card(self.frame.flow, key)
        self.frame.card = key
        self.state.path.append(self.ref())
        for name, value in (card.set_ or {}).items():
            self.write(name, value, "set")
        for message in card.messages:
            self.say(self.text(message), "say")
        if card.link is not None:
            label = self.text(card.link.label)
            self.say(label, "link", url=card.link.url)
            self.effects.append(LinkShown(label=label, url=card.link.url, card=self.ref()))
        goal = card.goal_spec
        if goal is not None and goal.name not in self.state.goals:
            self.state.goals.append(goal.name)
            self.effects.append(GoalReached(name=goal.name, score=goal.score))
        kinds = card.kinds()
        if not kinds:
            raise EngineError(f"The card '{self.ref()}' has no way on.")
        match kinds[0]:
            case CardKind.buttons:
                return self.buttons(card)
            case CardKind.ask:
                return self.ask(card)
            case CardKind.branch:
                return self.branch(card)
            case CardKind.book_meeting:
                return self.book_meeting(card)
            case CardKind.flow:
                return _Call(_require(card.flow))
            case CardKind.goto:
                return _Go(_require(card.goto))
            case CardKind.end:
                return _Finish()

    # -- one handler per way on --

    def buttons(self, card: Card) -> _Outcome:
        choices = [
            Choice(id=str(index), label=self.text(button.label)) for index, button in enumerate(card.buttons or [])
        ]
        return _Wait(Expected(kind="buttons", card=self.frame.card, flow=self.frame.flow, choices=choices))

    def ask(self, card: Card) -> _Outcome:
        target = _require(card.goto)
        name = _require(card.capture)
        if card.skip_if_known and not conditions.is_empty(self.state.values.get(name)):
            return _Go(target)
        if card.ask is not None:
            self.say(self.text(card.ask), "question")
        return _Wait(self.ask_expected(card, name))

    def ask_expected(self, card: Card, name: str) -> Expected:
        kind = _input_kind(name, card)
        choices = [Choice(id=str(index), label=self.text(label)) for index, (label, _) in enumerate(_options(card))]
        return Expected(
            kind=kind,
            card=self.frame.card,
            flow=self.frame.flow,
            field=name,
            choices=choices,
            placeholder=PLACEHOLDERS.get(kind),
        )

    def branch(self, card: Card) -> _Outcome:
        for rule in card.branch or []:
            match rule:
                case doc.BranchElse(else_=target):
                    return _Go(target)
                case doc.BranchIf(if_=condition, goto=target):
                    try:
                        matched = conditions.evaluate(condition, self.state.values, now=self.context.now)
                    except ValueError as exc:
                        raise EngineError(f"The branch of '{self.ref()}' cannot be evaluated: {exc}") from exc
                    if matched:
                        return _Go(target)
        raise EngineError(f"No rule of the branch '{self.ref()}' matched and it has no else.")

    def book_meeting(self, card: Card) -> _Outcome:
        # The engine books nothing: it waits for a time ("meeting"), which the service offers and books, then
        # hears the outcome as a reply. The invitation needs an email: asked first when the visitor has none.
        if not self.context.meetings_available or card.book_meeting is None:
            self.say(MEETINGS_UNAVAILABLE, "notice")
            return _Go(_require(card.on_unavailable))
        if conditions.is_empty(self.state.values.get("person.email")):
            self.say(MEETING_EMAIL_QUESTION, "question")
            return _Wait(self.meeting_email_expected())
        return _Wait(Expected(kind="meeting", card=self.frame.card, flow=self.frame.flow))

    def meeting_email_expected(self) -> Expected:
        return Expected(kind="email", card=self.frame.card, flow=self.frame.flow, field="person.email",
                        placeholder=PLACEHOLDERS["email"])  # fmt: skip

    # -- answers --

    def answer_buttons(self, card: Card, expected: Expected, reply: Reply) -> None:
        if reply.choice is None:
            raise AnswerRefused("This question takes one of its buttons, not text.")
        buttons = card.buttons or []
        index = _index(reply.choice, len(buttons))
        button = buttons[index]
        self.remember(_label(expected, index, self.text(button.label)))
        if button.store is not None:
            self.write(
                button.store, button.value if button.value is not None else self.default_text(button.label), "button"
            )
        self.run(button.goto)

    def answer_ask(self, card: Card, expected: Expected, reply: Reply) -> None:
        name = _require(card.capture)
        options = _options(card)
        if options:
            if reply.choice is not None:
                index = _index(reply.choice, len(options))
            else:
                found = _match_option(options, _require(reply.text))
                if found is None:
                    self.refuse(card, answers.MESSAGES["choice"], _require(reply.text))
                    return
                index = found
            label, value = options[index]
            shown = _label(expected, index, self.text(label))
            stored = value if value is not None else self.default_text(label)
        else:
            if reply.choice is not None:
                raise AnswerRefused("This question takes typed text, not a choice.")
            kind = _ANSWER_KINDS.get(expected.kind, "text")
            checked = answers.check_answer(kind, _require(reply.text), region=self.context.region)
            if not checked.ok:
                self.refuse(card, checked.message or answers.MESSAGES["text"], _require(reply.text))
                return
            policy = self.context.email_policy
            if kind == "email" and policy is not None and within(domain_of(checked.value), policy.blocked_domains):
                # Not a typing mistake but an address the site does not take: refused whole, nothing is logged.
                raise AnswerRefused(policy.message)
            shown, stored = _require(reply.text).strip(), checked.value
        self.remember(shown)
        if card.overwrite or conditions.is_empty(self.state.values.get(name)):
            self.write(name, stored, "capture")
        self.run(_require(card.goto))

    def answer_meeting_email(self, card: Card, reply: Reply) -> None:
        """The email asked before a booking: checked like any typed email, then the times are offered."""
        if reply.choice is not None:
            raise AnswerRefused("This question takes typed text, not a choice.")
        typed = _require(reply.text)
        checked = answers.check_answer("email", typed, region=self.context.region)
        if not checked.ok:
            self.state.transcript.append(TranscriptEntry(role="visitor", text=typed.strip(), card=self.ref()))
            self.say(checked.message or answers.MESSAGES["email"], "error")
            self.say(MEETING_EMAIL_QUESTION, "question")
            return
        policy = self.context.email_policy
        if policy is not None and within(domain_of(checked.value), policy.blocked_domains):
            raise AnswerRefused(policy.message)
        self.remember(typed.strip())
        self.write("person.email", checked.value, "capture")
        self.state.awaiting = Expected(kind="meeting", card=self.frame.card, flow=self.frame.flow)

    def answer_meeting(self, card: Card, outcome: MeetingOutcome) -> None:
        spec = _require_spec(card)
        if not outcome.booked:
            self.state.awaiting = None
            self.run(_require(card.on_unavailable))
            return
        self.remember(outcome.label)
        # A booked meeting is not undone by going back: the visitor cancels it from the invitation's link.
        self.state.history.clear()
        if spec.store_agent is not None and (outcome.agent_name or outcome.agent_email):
            # A field whose name ends in "name" gets the agent's name; any other (company.owner...) their email.
            wants_name = spec.store_agent.endswith("name")
            stored = outcome.agent_name if wants_name else outcome.agent_email
            self.write(spec.store_agent, stored or outcome.agent_name, "set")
        self.effects.append(BookMeeting(spec=spec, card=self.ref()))
        self.run(_require(card.on_booked))

    def refuse(self, card: Card, message: str, typed: str) -> None:
        """A typed answer that does not fit: logged, nothing written, the question asked again after the error."""
        self.state.transcript.append(TranscriptEntry(role="visitor", text=typed.strip(), card=self.ref()))
        self.say(self.text(card.error) if card.error is not None else message, "error")
        if card.ask is not None:
            self.say(self.text(card.ask), "question")

    def turn(self) -> Turn:
        expected = self.state.awaiting if not self.state.ended else None
        return Turn(
            state=self.state,
            messages=self.messages,
            expected=expected or Expected(kind="none"),
            effects=self.effects,
        )


def _require_outcome(outcome: MeetingOutcome | None) -> MeetingOutcome:
    if outcome is None:
        raise AnswerRefused("Pick one of the times offered.")
    return outcome


def _require_spec(card: Card) -> doc.BookMeeting:
    if card.book_meeting is None:
        raise EngineError("The card books no meeting.")
    return card.book_meeting


def _index(choice: str, count: int) -> int:
    if not choice.isdigit() or int(choice) >= count:
        raise AnswerRefused(f"There is no choice '{choice[:20]}' here.")
    return int(choice)


def _label(expected: Expected, index: int, fallback: str) -> str:
    """The label the visitor saw for a choice (as it was asked), for the transcript."""
    return expected.choices[index].label if index < len(expected.choices) else fallback


def _options(card: Card) -> list[tuple[Text, Any]]:
    """A picklist's (label, value) pairs: the card's options, else the choices of a choice-typed field."""
    if card.options:
        return [
            (option.label, option.value) if isinstance(option, doc.Option) else (option, None)
            for option in card.options
        ]
    spec = _schema().get(card.capture or "")
    if spec is not None and spec.type == FieldType.choice and spec.choices:
        return [(choice, None) for choice in spec.choices]
    return []


def _match_option(options: list[tuple[Text, Any]], typed: str) -> int | None:
    """The option whose label (in any language) the visitor typed, ignoring case and surrounding spaces."""
    wanted = typed.strip().casefold()
    for index, (label, _) in enumerate(options):
        texts = [label] if isinstance(label, str) else list(label.values())
        if any(text.strip().casefold() == wanted for text in texts):
            return index
    return None


def _input_kind(name: str, card: Card) -> ExpectedKind:
    if _options(card):
        return "choice"
    if name in ("person.first_name", "person.last_name"):
        return "name"
    spec = _schema().get(name)
    match spec.type if spec is not None else None:
        case FieldType.email:
            return "email"
        case FieldType.phone:
            return "phone"
        case FieldType.number:
            return "number"
        case _:
            return "text"
