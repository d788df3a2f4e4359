"""What goes into the dialogue interpreter and what comes out of it: the program and context, the visitor's reply,
the turn (messages, the input expected, effects) and the conversation's state, all JSON-serialisable, with the
upgrade of stored states from older versions. `engine.py` runs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from overture.dialogues.document import BookMeeting as BookMeetingSpec
from overture.dialogues.document import DialogueDocument, FlowDocument
from overture.errors import OvertureError
from overture.people.company_before import CompanyBefore

STATE_VERSION = 1


class AnswerRefused(OvertureError):
    """The reply cannot be taken: the conversation has ended, or it does not fit the question (a choice that does
    not exist, text to a buttons question...). `message` says which, for the widget's developer."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], 409)


class EngineError(OvertureError):
    """The program cannot be run as written (an unknown card or flow, a loop of cards that never waits). Validation
    rejects such documents before they are published; the message names the card."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], 500)


# Value objects are frozen: states share them instead of copying them at every step.
_FROZEN = ConfigDict(frozen=True)


# --- what comes in ---------------------------------------------------------------------------------------------


class Program(BaseModel):
    """The frozen documents a conversation runs on: its dialogue (or a flow opened directly) and the flows it calls,
    by key."""

    model_config = ConfigDict(frozen=True)

    document: DialogueDocument | FlowDocument
    flows: dict[str, FlowDocument] = Field(default_factory=dict)


class EmailPolicy(BaseModel):
    """The site's rule for typed email answers: an address at one of `blocked_domains` (or a subdomain of one) is
    refused with `message`, and the question keeps waiting."""

    model_config = ConfigDict(frozen=True)

    blocked_domains: frozenset[str]
    message: str


class Context(BaseModel):
    """What the world tells the engine for one step."""

    fields: dict[str, Any] = Field(default_factory=dict)
    language: str | None = Field(default=None, max_length=35)
    region: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    now: datetime
    # False where nothing can be booked (no meetings service): a book_meeting card says so and goes on_unavailable.
    meetings_available: bool = False
    # Given when the step may take a typed email (the service leaves it out otherwise).
    email_policy: EmailPolicy | None = None

    @field_validator("now")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("now must be an aware date-time (UTC)")
        return value.astimezone(UTC)


class MeetingOutcome(BaseModel):
    """What the service did with the visitor's pick of a meeting time (the engine books nothing itself): booked,
    with the time as the visitor saw it and the agent; or no meeting can be booked at all."""

    model_config = ConfigDict(frozen=True)

    booked: bool
    label: str = Field(default="", max_length=200)
    agent_name: str = Field(default="", max_length=200)
    agent_email: str = Field(default="", max_length=254)


class Reply(BaseModel):
    """The visitor's answer: the id of a choice they clicked, or the text they typed; or, from the service, the
    outcome of a meeting booking."""

    choice: str | None = Field(default=None, max_length=20)
    text: str | None = Field(default=None, max_length=4000)
    meeting: MeetingOutcome | None = None


# --- what goes out ---------------------------------------------------------------------------------------------


class Choice(BaseModel):
    model_config = _FROZEN

    id: str
    label: str


ExpectedKind = Literal["buttons", "choice", "text", "email", "phone", "number", "name", "meeting", "none"]


class Expected(BaseModel):
    """What the widget should offer next; kind "none" once the conversation has ended."""

    model_config = _FROZEN

    kind: ExpectedKind
    card: str | None = None
    flow: str | None = None
    field: str | None = None
    choices: list[Choice] = Field(default_factory=list)
    placeholder: str | None = None


class BotMessage(BaseModel):
    model_config = _FROZEN

    text: str
    card: str
    kind: Literal["say", "question", "error", "link", "notice"]
    url: str | None = None


class SetField(BaseModel):
    model_config = _FROZEN

    type: Literal["set_field"] = "set_field"
    field: str
    value: Any
    # back: the visitor went back, and the field returns to what it was before the undone answer (None: empty).
    source: Literal["capture", "button", "set", "back"]


class GoalReached(BaseModel):
    model_config = _FROZEN

    type: Literal["goal_reached"] = "goal_reached"
    name: str
    score: int | None = None


class LinkShown(BaseModel):
    model_config = _FROZEN

    type: Literal["link_shown"] = "link_shown"
    label: str
    url: str
    card: str


class BookMeeting(BaseModel):
    """A meeting was booked at this card (the service booked it; this records it in the turn)."""

    model_config = _FROZEN

    type: Literal["book_meeting"] = "book_meeting"
    spec: BookMeetingSpec
    card: str


class Ended(BaseModel):
    model_config = _FROZEN

    type: Literal["ended"] = "ended"
    completed: bool


Effect = Annotated[SetField | GoalReached | LinkShown | BookMeeting | Ended, Field(discriminator="type")]


class TranscriptEntry(BaseModel):
    model_config = _FROZEN

    role: Literal["bot", "visitor"]
    text: str
    card: str
    retracted: bool = False


# --- the state -------------------------------------------------------------------------------------------------


class Frame(BaseModel):
    """A position: the card in a flow (None = the program's own document). A called flow's frame remembers the
    caller's card to go on at when it ends."""

    flow: str | None = None
    card: str
    return_to: str | None = None


MAX_BACK_STEPS = 20


class Snapshot(BaseModel):
    """The state as it was when an answer was taken, to come back to with `go_back`."""

    model_config = _FROZEN

    stack: list[Frame]
    awaiting: Expected | None
    values: dict[str, Any]
    written: list[str]
    # The path and transcript only grow between snapshots, so their lengths are enough to restore them.
    path_length: int
    transcript_length: int
    # The visitor's company before the email this answer gave changed it: the service notes it (`note_company`) and
    # puts it back when the answer is undone. The engine never reads it.
    company: CompanyBefore | None = None


class State(BaseModel):
    """A conversation, as JSON. `values` are the fields as the conversation knows them: the context's fields, then
    what it captured or set (`written`, which later contexts do not override)."""

    version: int = STATE_VERSION
    stack: list[Frame] = Field(default_factory=list)
    awaiting: Expected | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    written: list[str] = Field(default_factory=list)
    transcript: list[TranscriptEntry] = Field(default_factory=list)
    history: list[Snapshot] = Field(default_factory=list)
    goals: list[str] = Field(default_factory=list)
    ended: bool = False
    completed: bool = False
    path: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return upgrade(data) if isinstance(data, dict) else data


def note_company(state: State, before: CompanyBefore) -> None:
    """Keeps `before` with the last answer, the one going back would undo; the first note of an answer stays (it
    is the company as it was before that answer)."""
    if state.history and state.history[-1].company is None:
        state.history[-1] = state.history[-1].model_copy(update={"company": before})


class Turn(BaseModel):
    state: State
    messages: list[BotMessage]
    expected: Expected
    effects: list[Effect]


# Upgrades from each older state version to the next: {1: upgrade_1_to_2, ...}. None yet.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A stored state's JSON brought to the current version. Raises ValueError for a version this engine does not
    know (a newer one, written by a later release)."""
    data = dict(data)
    version = data.get("version", 1)
    if not isinstance(version, int) or not 1 <= version <= STATE_VERSION:
        raise ValueError(f"state version {version!r} is not one this engine reads (1 to {STATE_VERSION})")
    while version < STATE_VERSION:
        data = _UPGRADES[version](data)
        version += 1
        data["version"] = version
    return data
