"""The dialogue document (DESIGN.md section 4): pydantic models that are the schema of the YAML files, of the admin
API's JSON and of what a published version freezes. Shape only: the rules that span several parts of a document
(cards that exist, fields that exist, reachability...) are in `validation.py`.

Keys follow the YAML form exactly; Python-reserved words are aliases (`if`, `else`, `not`, `from`, `set`).
Dump with `document_to_data()` so that export and import give back the same document.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from overture.sites.addresses import lower_scheme_and_host

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,79}$"
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"
# person.email; and activity fields recorded by an integration, named after it: activity.marketo.clicked_email.
FIELD_PATTERN = r"^(?:[a-z_]+\.[a-z0-9_]+|activity\.[a-z0-9_]+\.[a-z0-9_]+)$"
LINK_PATTERN = r"^(?i:https?://|/|mailto:)"  # the scheme ignores case, as everywhere an address is read

Key = Annotated[str, Field(pattern=KEY_PATTERN, description="Lower-case letters, digits, - and _.")]
CardKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")]
FieldName = Annotated[str, Field(pattern=FIELD_PATTERN, description="A field such as person.email.")]
# A visible text: one string in the default language, or one string per language.
LocalizedText = dict[Annotated[str, Field(pattern=LOCALE_PATTERN)], Annotated[str, Field(max_length=2000)]]
Text = Annotated[str, Field(max_length=2000)] | LocalizedText


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# --- conditions (audience and branch) ------------------------------------------------------------------------


class FieldCondition(Strict):
    field: FieldName
    op: str = Field(max_length=20)
    value: Any = None
    # Activity fields only: look at the visitor's activities of the last N days (all of them when absent).
    within_days: int | None = Field(default=None, ge=1, le=3650)


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1, max_length=50)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1, max_length=50)


class NotOf(Strict):
    not_: Condition = Field(alias="not")


def _condition_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("all", "any", "not", "field"):
            if key in data:
                return key
        return None
    if isinstance(data, BaseModel):
        return {"AllOf": "all", "AnyOf": "any", "NotOf": "not", "FieldCondition": "field"}[type(data).__name__]
    return None


Condition = Annotated[
    Annotated[FieldCondition, Tag("field")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="A condition is {field, op, value}, {all: [...]}, {any: [...]} or {not: ...}.",
    ),
]
# Tags that pydantic puts in error paths; removed when errors are shown to people.
CONDITION_TAGS = frozenset({"field", "all", "any", "not"})


# --- targeting -------------------------------------------------------------------------------------------------


class PageRule(Strict):
    """One page matcher: exactly one of url (with * wildcards), url_contains, url_regex; optionally query params."""

    url: str | None = Field(default=None, max_length=2000)
    url_contains: str | None = Field(default=None, max_length=2000)
    url_regex: str | None = Field(default=None, max_length=500)
    query: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_matcher(self) -> PageRule:
        given = [name for name in ("url", "url_contains", "url_regex") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"use one of url, url_contains, url_regex (got {', '.join(given)})")
        if not given and not self.query:
            raise ValueError("give url, url_contains, url_regex or query")
        return self


class Pages(Strict):
    include: list[PageRule] = Field(default_factory=list, max_length=200)
    exclude: list[PageRule] = Field(default_factory=list, max_length=200)


class TriggerKind(StrEnum):
    page_load = "page_load"
    time_on_page = "time_on_page"
    time_on_site = "time_on_site"
    scroll_percent = "scroll_percent"
    exit_intent = "exit_intent"
    idle = "idle"


class Trigger(Strict):
    on: TriggerKind = TriggerKind.page_load
    seconds: int | None = Field(default=None, ge=0, le=3600)
    percent: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _needs(self) -> Trigger:
        needs_seconds = self.on in (TriggerKind.time_on_page, TriggerKind.time_on_site, TriggerKind.idle)
        if needs_seconds and self.seconds is None:
            raise ValueError(f"{self.on.value} needs seconds, e.g. {{on: {self.on.value}, seconds: 20}}")
        if self.on == TriggerKind.scroll_percent and self.percent is None:
            raise ValueError("scroll_percent needs percent, e.g. {on: scroll_percent, percent: 50}")
        if not needs_seconds and self.seconds is not None:
            raise ValueError(f"{self.on.value} takes no seconds")
        if self.on != TriggerKind.scroll_percent and self.percent is not None:
            raise ValueError(f"{self.on.value} takes no percent")
        return self


class Frequency(Strict):
    dismissed_hide_days: int = Field(default=7, ge=0, le=3650)
    once_completed: bool = True
    once_per_session: bool = False


class Schedule(Strict):
    from_: date | None = Field(default=None, alias="from")
    until: date | None = None
    hours: Literal["always", "business"] = "always"
    timezone: str | None = Field(default=None, max_length=64, description="IANA zone for business hours.")


# --- cards -----------------------------------------------------------------------------------------------------


class Button(Strict):
    label: Text
    goto: CardKey
    value: Any = None
    store: FieldName | None = None


class Option(Strict):
    label: Text
    value: Any = None


def _option_kind(data: Any) -> str:
    if isinstance(data, dict) and "label" in data or isinstance(data, Option):
        return "option"
    return "text"


AskOption = Annotated[
    Annotated[Option, Tag("option")] | Annotated[Text, Tag("text")],
    Discriminator(_option_kind),
]


class BookMeeting(Strict):
    routing: Literal["round_robin", "agent", "rules", "team"] = "round_robin"
    team: Key | None = None
    agent: str | None = Field(default=None, max_length=254)
    minutes: int | None = Field(default=None, ge=5, le=480)
    # A meeting type (Routing page) whose duration, buffers, notice and horizon replace the agent's own.
    meeting_type: Key | None = None
    store_agent: FieldName | None = None


class Link(Strict):
    label: Text
    url: Annotated[str, Field(max_length=2000, pattern=LINK_PATTERN), AfterValidator(lower_scheme_and_host)]


class Goal(Strict):
    name: str = Field(min_length=1, max_length=100)
    score: int | None = Field(default=None, ge=0, le=3)


class BranchIf(Strict):
    if_: Condition = Field(alias="if")
    goto: CardKey


class BranchElse(Strict):
    else_: CardKey = Field(alias="else")


def _branch_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        return "else" if "else" in data or "else_" in data else "if"
    return "else" if isinstance(data, BranchElse) else "if"


BranchRule = Annotated[
    Annotated[BranchIf, Tag("if")] | Annotated[BranchElse, Tag("else")],
    Discriminator(_branch_kind),
]


class CardKind(StrEnum):
    buttons = "buttons"
    ask = "ask"
    branch = "branch"
    book_meeting = "book_meeting"
    flow = "flow"
    goto = "goto"
    end = "end"


class Card(Strict):
    """Messages first (`say`), side effects (`set`, `link`, `goal`), then exactly one way on."""

    say: Text | list[Text] | None = None
    # ways on
    buttons: list[Button] | None = Field(default=None, min_length=1, max_length=20)
    ask: Text | None = None
    capture: FieldName | None = None
    options: list[AskOption] | None = Field(default=None, min_length=1, max_length=50)
    skip_if_known: bool = False
    overwrite: bool = True
    error: Text | None = None
    branch: list[BranchRule] | None = Field(default=None, min_length=1, max_length=50)
    book_meeting: BookMeeting | None = None
    on_booked: CardKey | None = None
    on_unavailable: CardKey | None = None
    flow: Key | None = None
    goto: CardKey | None = None
    end: bool = False
    # on any card
    set_: dict[FieldName, Any] | None = Field(default=None, alias="set")
    link: Link | None = None
    goal: str | Goal | None = None

    def kinds(self) -> list[CardKind]:
        """Every way on this card declares; a valid card declares exactly one."""
        found = []
        if self.buttons is not None:
            found.append(CardKind.buttons)
        if self.ask is not None or self.capture is not None:
            found.append(CardKind.ask)
        if self.branch is not None:
            found.append(CardKind.branch)
        if self.book_meeting is not None:
            found.append(CardKind.book_meeting)
        if self.flow is not None:
            found.append(CardKind.flow)
        if self.end:
            found.append(CardKind.end)
        if self.goto is not None and not ({CardKind.ask, CardKind.flow} & set(found)):
            found.append(CardKind.goto)
        return found

    def targets(self) -> list[tuple[str, str]]:
        """Every card this card may go to, with the path (relative to the card) of the key that names it."""
        found = [(name, getattr(self, name)) for name in ("goto", "on_booked", "on_unavailable")]
        found += [(f"buttons.{i}.goto", button.goto) for i, button in enumerate(self.buttons or [])]
        for i, rule in enumerate(self.branch or []):
            found.append(
                (f"branch.{i}.goto", rule.goto) if isinstance(rule, BranchIf) else (f"branch.{i}.else", rule.else_)
            )
        return [(path, target) for path, target in found if target is not None]

    @property
    def kind(self) -> CardKind:
        """The card's way on (call only on a validated card)."""
        return self.kinds()[0]

    @property
    def messages(self) -> list[Text]:
        if self.say is None:
            return []
        return list(self.say) if isinstance(self.say, list) else [self.say]

    @property
    def goal_spec(self) -> Goal | None:
        return Goal(name=self.goal) if isinstance(self.goal, str) else self.goal


class Flow(Strict):
    start: CardKey
    cards: dict[CardKey, Card] = Field(min_length=1, max_length=500)


# --- dialogue tests (scenarios) ----------------------------------------------------------------------------------


class Expectation(Strict):
    path: list[CardKey] | None = None
    fields: dict[FieldName, Any] | None = None
    goals: list[str] | None = None
    ends: Literal["completed", "waiting", "booking"] | None = None


class Scenario(Strict):
    """A visitor, the answers they give in order, and what must happen; `variant`: on that variant of the
    dialogue's experiment (default: the flow as written)."""

    name: str = Field(min_length=1, max_length=200)
    variant: Key | None = None
    visitor: dict[FieldName, Any] = Field(default_factory=dict)
    language: str | None = Field(default=None, pattern=LOCALE_PATTERN)
    answers: list[str] = Field(default_factory=list, max_length=200)
    expect: Expectation = Field(default_factory=Expectation)


# --- experiments (docs/experiments.md) -------------------------------------------------------------------------


class Variant(Strict):
    """One arm of an A/B test: the flow as written, or with its own start card (`start`), or with the first card's
    messages replaced (`say`), or both. Traffic is split in proportion to the weights."""

    key: Key
    weight: int = Field(default=1, le=1_000_000)  # positive: checked in experiments.py, to say so in words
    start: CardKey | None = None
    say: Text | list[Text] | None = None

    @property
    def messages(self) -> list[Text] | None:
        """The messages that replace the first card's, or None to keep them."""
        if self.say is None:
            return None
        return list(self.say) if isinstance(self.say, list) else [self.say]


class Experiment(Strict):
    """An A/B test of a dialogue: its variants, the one goal that decides it, and the sample each variant needs
    before a winner may be named."""

    key: Key = Field(description="Names the experiment: a new key starts a new one (new assignment, new counts).")
    goal: str = Field(min_length=1, max_length=100, description="A goal name, people_acquired or meeting_booked.")
    minimum_sample: int = Field(ge=1, le=10_000_000, description="Visitors each variant needs before a verdict.")
    variants: list[Variant] = Field(max_length=10)


# --- documents -------------------------------------------------------------------------------------------------


class FlowDocument(Strict):
    """A reusable flow: the same form as a dialogue without targeting."""

    key: Key
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    language: str = Field(default="en", pattern=LOCALE_PATTERN, description="The default language of the texts.")
    flow: Flow
    tests: list[Scenario] = Field(default_factory=list, max_length=100)


class DialogueDocument(FlowDocument):
    priority: int = Field(default=0, ge=0, le=1000)
    site: Key = "default"
    pages: Pages = Field(default_factory=Pages)
    audience: Condition | None = None
    trigger: Trigger = Field(default_factory=Trigger)
    frequency: Frequency = Field(default_factory=Frequency)
    schedule: Schedule | None = None
    experiment: Experiment | None = None


Document = DialogueDocument | FlowDocument
DocumentKind = Literal["dialogue", "flow"]


def _texts_of(card: Card) -> list[Text | None]:
    texts: list[Text | None] = [*card.messages, card.ask, card.error]
    texts += [button.label for button in card.buttons or []]
    texts += [option.label if isinstance(option, Option) else option for option in card.options or []]
    texts += [card.link.label] if card.link else []
    return texts


def languages(document: Document) -> set[str]:
    """Every language the document has texts in (its default language included)."""
    found = {document.language}
    texts = [text for card in document.flow.cards.values() for text in _texts_of(card)]
    if isinstance(document, DialogueDocument) and document.experiment is not None:
        texts += [text for variant in document.experiment.variants for text in variant.messages or []]
    for text in texts:
        if isinstance(text, dict):
            found.update(text)
    return found


def choose_language(document: Document, candidates: list[str]) -> str:
    """The first candidate the document speaks ("fr-CA" is spoken when "fr" is), else the default language."""
    spoken = languages(document)
    for candidate in candidates:
        for locale in (candidate, candidate.split("-")[0]):
            if locale in spoken:
                return locale
    return document.language


def document_to_data(document: Document) -> dict[str, Any]:
    """The document as plain data in its YAML/JSON form (aliases, no unset optional parts)."""
    return document.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()
BranchIf.model_rebuild()
