"""Validation of dialogue and flow documents (DESIGN.md section 4), in two steps that each report every problem at
once with the path of its culprit (`flow.cards.ask_email.capture`, `audience.all.1.op`):

- `parse_document`: the shape, by pydantic, with its errors rewritten for marketers (`shape.py`);
- `check_document`: the rules that span parts of a document (cards that exist, reachability, loops, fields and
  operators, personalization tokens, languages, flows, page patterns, schedule, test scenarios).

Pure: no I/O. The fields that exist and the published reusable flows come in as arguments.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError

from overture.dialogues.document import (
    AllOf,
    AnyOf,
    BranchElse,
    BranchIf,
    Card,
    CardKind,
    Condition,
    DialogueDocument,
    Document,
    DocumentKind,
    FieldCondition,
    FlowDocument,
    Option,
    PageRule,
    Strict,
    Text,
)
from overture.dialogues.experiments import entry_cards, experiment_problems, variant_texts
from overture.dialogues.shape import join, shape_problems, show
from overture.dialogues.tokens import FILTERS, read_tokens
from overture.errors import InvalidInput, Problem
from overture.people.fields import (
    ACTIVITY_FIELDS,
    ACTIVITY_NAMES,
    ACTIVITY_OPERATORS,
    ALL_OPERATORS,
    LIST_VALUE,
    NO_VALUE,
    OPERATORS,
    PAIR_VALUE,
    FieldSchema,
    FieldType,
)


def parse_document(data: Any, kind: DocumentKind = "dialogue") -> tuple[Document | None, list[Problem]]:
    """The document's shape: (document, []) or (None, every problem)."""
    model: type[FlowDocument] = DialogueDocument if kind == "dialogue" else FlowDocument
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, shape_problems(exc, model)


# --- the rules across parts --------------------------------------------------------------------------------------

_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{3,30}$")
_TYPE_WORDS = {
    FieldType.text: "a text",
    FieldType.email: "an email address",
    FieldType.phone: "a phone number",
    FieldType.number: "a number",
    FieldType.boolean: "true or false",
    FieldType.date: "a date like 2026-01-31",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_email(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _is_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _has_nested_quantifier(pattern: str) -> bool:
    """True for a repeated group that itself contains a repetition, like (a+)+ or (.*)*: such patterns can take
    exponential time on a URL that almost matches."""
    groups: list[bool] = []  # per open group: does it contain a repetition?

    def repeats(at: int) -> bool:
        return at < len(pattern) and (pattern[at] in "*+" or re.match(r"\{\d*,\d*\}", pattern[at:]) is not None)

    at, in_class = 0, False
    while at < len(pattern):
        char = pattern[at]
        if char == "\\":
            at += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            at += 2 if pattern[at + 1 : at + 2] == "]" else 1
            continue
        elif char == "(":
            groups.append(False)
        elif char == ")" and groups:
            inner = groups.pop()
            if inner and repeats(at + 1):
                return True
            if groups and inner:
                groups[-1] = True
        elif repeats(at) and groups:
            groups[-1] = True
        at += 1
    return False


# Regexes are tried on growing adversarial addresses; one try over the budget refuses the pattern. Growth is slow
# (about x1.25 per step) so that an exponential pattern is caught before a try becomes long.
_PROBE_BUDGET = 0.02  # seconds
_PROBE_LONGEST = 512  # targeting/pages.py MAX_REGEX_SUBJECT: a regex never sees a longer address


def _probe_lengths() -> Iterator[int]:
    length = 8
    while length <= _PROBE_LONGEST:
        yield length
        length = max(length + 2, length * 5 // 4)


def _slow_on_long_addresses(pattern: str) -> bool:
    """True when `pattern` takes longer than the budget on an address built to make a backtracking matcher work
    hard: long runs of the characters the pattern names, ended by one it does not expect."""
    compiled = re.compile(pattern)
    literals = {char for char in re.sub(r"\\.", "", pattern) if char.isalnum() or char in "/.-_=&"}
    fillers = sorted(literals | {"a", "/", "0", "-"})
    for length in _probe_lengths():
        for filler in fillers:
            for subject in (filler * length + "!", "https://example.com/" + filler * length + "\n"):
                if _search_time(compiled, subject) > _PROBE_BUDGET:
                    # A busy machine can pause any one try: the pattern is slow only if it is slow every time.
                    if min(_search_time(compiled, subject) for _ in range(2)) > _PROBE_BUDGET:
                        return True
    return False


def _search_time(compiled: re.Pattern[str], subject: str) -> float:
    started = time.perf_counter()
    compiled.search(subject)
    return time.perf_counter() - started


@dataclass
class _Checker:
    """Walks one document once, collecting every problem in `problems` (document order: targeting, cards, graph,
    test scenarios)."""

    document: Document
    fields: FieldSchema
    flows: Mapping[str, FlowDocument] | None
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    @property
    def cards(self) -> dict[str, Card]:
        return self.document.flow.cards

    # --- fields and values

    def check_field(self, name: str, path: str, *, writable: bool = False, activity: bool = False) -> bool:
        """Checks that `name` is a field that may be used here; True when its type is known."""
        if name.startswith("activity."):
            if not activity:
                self.add(path, f"{name} is an activity: activity fields can be used in the audience only.")
            elif name not in ACTIVITY_FIELDS:
                tails = {known.partition(".")[2]: known for known in ACTIVITY_FIELDS}
                similar = difflib.get_close_matches(name.partition(".")[2], list(tails), n=1, cutoff=0.6)
                hint = f" Did you mean {tails[similar[0]]}?" if similar else ""
                self.add(path, f"{name} is not an activity field.{hint} Use one of {', '.join(ACTIVITY_FIELDS)}.")
            return False
        spec = self.fields.get(name)
        if spec is None:
            close = self.suggest(name)
            self.add(path, f"{name} is not a field.{f' Did you mean {close}?' if close else ''}")
            return False
        if writable and not spec.writable:
            self.add(path, f"{name} is read-only: a dialogue cannot change it.")
            return False
        return True

    def suggest(self, name: str) -> str | None:
        """The field `name` was probably meant to be: `first_name` -> person.first_name, person.emial ->
        person.email. A high cutoff, as the shared `person.` would make any two person fields look alike."""
        names = self.fields.names()
        same_tail = [known for known in names if known.partition(".")[2] == name]
        close = same_tail or difflib.get_close_matches(name, names, n=1, cutoff=0.8)
        return close[0] if close else None

    def value(self, name: str, value: Any, path: str) -> None:
        """Checks that `value` may be stored into the (known) field `name`."""
        spec = self.fields.get(name)
        if spec is None or value is None:
            return
        fits = {
            FieldType.text: isinstance(value, str) or _is_number(value),
            FieldType.email: _is_email(value),
            FieldType.phone: isinstance(value, str) and _PHONE.match(value) is not None,
            FieldType.number: _is_number(value),
            FieldType.boolean: isinstance(value, bool),
            FieldType.date: _is_date(value),
            FieldType.choice: isinstance(value, str) and (not spec.choices or value in spec.choices),
        }[spec.type]
        if not fits:
            takes = _TYPE_WORDS.get(spec.type) or f"one of {', '.join(spec.choices)}"
            self.add(path, f"{name} takes {takes}, not {show(value)}.")

    def stored(self, name: str, value: Any, label: Text, path: str, label_path: str) -> None:
        """A button's or option's stored value: its `value`, else its label in the default language."""
        if value is None:
            value = label if isinstance(label, str) else label.get(self.document.language)
            path = label_path
        self.value(name, value, path)

    # --- texts

    def text(self, text: Text, path: str) -> None:
        """A visible text: the default language is there, and every token reads, names fields, has a default."""
        if isinstance(text, str):
            self.tokens(text, path)
            return
        if self.document.language not in text:
            self.add(path, f"The text has no '{self.document.language}' version (the default language).")
        for locale, words in text.items():
            self.tokens(words, f"{path}.{locale}")

    def tokens(self, text: str, path: str) -> None:
        report = read_tokens(text)
        if report.error:
            self.add(path, f"The personalization in this text cannot be read: {report.error.rstrip('.')}.")
        for name in report.fields:
            self.check_field(name, path)
        for name in report.strangers:
            close = self.suggest(name)
            hint = f" (did you mean {close}?)" if close else ""
            self.add(path, f"'{name}' in {{{{ }}}} is not a field: write person.X, company.X or visit.X{hint}.")
        for name in report.undefaulted:
            self.add(path, f"The token {{{{ {name} }}}} has no default: write {{{{ {name} or '...' }}}}.")
        for name in report.unknown_filters:
            self.add(path, f"'{name}' is not a filter that personalization knows.")
        for reason in report.refused:
            self.add(
                path,
                f"A {{{{ }}}} token here {reason}. A token may use fields, texts, numbers, the filters "
                f"{', '.join(FILTERS)} and operators over them.",
            )

    # --- conditions

    def condition(self, condition: Condition, path: str, *, audience: bool) -> None:
        if isinstance(condition, AllOf | AnyOf):
            word = "all" if isinstance(condition, AllOf) else "any"
            items = condition.all if isinstance(condition, AllOf) else condition.any
            for i, item in enumerate(items):
                self.condition(item, f"{path}.{word}.{i}", audience=audience)
        elif isinstance(condition, FieldCondition):
            self.field_condition(condition, path, audience=audience)
        else:
            self.condition(condition.not_, f"{path}.not", audience=audience)

    def field_condition(self, condition: FieldCondition, path: str, *, audience: bool) -> None:
        name, op, value = condition.field, condition.op, condition.value
        if audience and name in ACTIVITY_FIELDS:
            self.activity_condition(condition, path)
            return
        if condition.within_days is not None:
            self.add(f"{path}.within_days", "within_days works on activity fields only, like activity.engaged.")
        known = self.check_field(name, f"{path}.field", activity=audience)
        spec = self.fields.get(name) if known else None
        allowed = sorted(OPERATORS[spec.type] if spec else ALL_OPERATORS)
        if op not in ALL_OPERATORS:
            self.add(f"{path}.op", f"'{op}' is not an operator: use one of {', '.join(allowed)}.")
            return
        if spec and op not in allowed:
            self.add(
                f"{path}.op",
                f"The operator '{op}' does not work on {name} ({spec.type} field): use one of {', '.join(allowed)}.",
            )
            return
        if op in NO_VALUE:
            if value is not None:
                self.add(f"{path}.value", f"The operator '{op}' takes no value: remove value.")
            return
        if value is None:
            self.add(f"{path}.value", f"The operator '{op}' needs a value.")
            return
        if op in LIST_VALUE and (not isinstance(value, list) or not value):
            self.add(f"{path}.value", f"The operator '{op}' needs a list of values, like [Software, Fintech].")
            return
        if op in PAIR_VALUE and (not isinstance(value, list) or len(value) != 2):
            self.add(f"{path}.value", f"The operator '{op}' needs two values, like [10, 50].")
            return
        if op not in LIST_VALUE | PAIR_VALUE and isinstance(value, list | dict):
            self.add(f"{path}.value", f"The operator '{op}' needs one value, not a list.")
            return
        if spec is None:
            return
        for item in value if isinstance(value, list) else [value]:
            if spec.type == FieldType.number and not _is_number(item):
                self.add(f"{path}.value", f"{name} is a number, so '{op}' needs a number, not {show(item)}.")
            elif op == "in_last_days" and not (isinstance(item, int) and not isinstance(item, bool)):
                self.add(f"{path}.value", f"'in_last_days' needs a whole number of days, not {show(item)}.")
            elif spec.type == FieldType.boolean and not isinstance(item, bool):
                self.add(f"{path}.value", f"{name} is true or false, not {show(item)}.")
            elif spec.type == FieldType.choice and spec.choices and item not in spec.choices:
                self.add(f"{path}.value", f"{name} is one of {', '.join(spec.choices)}, not {show(item)}.")
            else:
                continue
            break

    def activity_condition(self, condition: FieldCondition, path: str) -> None:
        """A condition on the visitor's activities: its value is the names of those activities (dialogue keys, goal
        names...), or a number of days for in_last_days."""
        name, op, value = condition.field, condition.op, condition.value
        allowed = ", ".join(sorted(ACTIVITY_OPERATORS))
        if op not in ACTIVITY_OPERATORS:
            what = "is not an operator" if op not in ALL_OPERATORS else f"does not work on {name}"
            self.add(f"{path}.op", f"'{op}' {what}: use one of {allowed}.")
            return
        if op in NO_VALUE:
            if value is not None:
                self.add(f"{path}.value", f"The operator '{op}' takes no value: remove value.")
        elif op == "in_last_days":
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                self.add(f"{path}.value", f"'in_last_days' needs a whole number of days, not {show(value)}.")
        elif op in LIST_VALUE:
            if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
                names = ACTIVITY_NAMES[name]
                self.add(f"{path}.value", f"The operator '{op}' on {name} needs a list of {names}.")
        elif not isinstance(value, str) or not value.strip():
            self.add(f"{path}.value", f"The operator '{op}' on {name} needs one of its {ACTIVITY_NAMES[name]}.")

    # --- cards

    def ways_on(self, key: str, card: Card, path: str) -> None:
        ways = card.kinds()
        if card.end and CardKind.goto in ways:
            self.add(f"{path}.goto", f"The card '{key}' ends the conversation (end: true), so it cannot have goto.")
            ways.remove(CardKind.goto)
        if not ways:
            self.add(
                path,
                f"The card '{key}' has no way on: give buttons, ask+capture+goto, branch, book_meeting, flow+goto, "
                "goto or end: true.",
            )
        elif len(ways) > 1:
            names = join([way.value for way in ways], "and")
            self.add(path, f"The card '{key}' has more than one way on ({names}): keep exactly one.")
        asks = card.ask is not None
        if asks and card.capture is None:
            self.add(f"{path}.capture", f"The card '{key}' asks a question but has no capture to keep the answer.")
        if card.capture is not None and not asks:
            self.add(f"{path}.ask", f"The card '{key}' captures {card.capture} but asks nothing: add ask.")
        if (asks or card.capture is not None) and card.goto is None:
            self.add(f"{path}.goto", f"The card '{key}' needs goto: the card that comes after the answer.")
        if card.flow is not None and card.goto is None:
            self.add(f"{path}.goto", f"The card '{key}' needs goto: the card that comes after the flow.")
        if card.book_meeting is not None:
            for outcome, when in (("on_booked", "once booked"), ("on_unavailable", "when no meeting can be booked")):
                if getattr(card, outcome) is None:
                    message = f"The card '{key}' books a meeting but has no {outcome}: the card shown {when}."
                    self.add(f"{path}.{outcome}", message)
        else:
            for outcome in ("on_booked", "on_unavailable"):
                if getattr(card, outcome) is not None:
                    self.add(f"{path}.{outcome}", f"The card '{key}' has {outcome} but books no meeting.")
        if not asks:
            for part in ("options", "skip_if_known", "overwrite", "error"):
                if part in card.model_fields_set:
                    self.add(f"{path}.{part}", f"The card '{key}' has {part} but asks no question.")

    def no_card(self, target: str) -> str:
        """The end of a sentence about a card that does not exist."""
        close = difflib.get_close_matches(target, list(self.cards), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"'{target}', which is not a card of this flow{hint}. Cards: {', '.join(self.cards)}."

    def card(self, key: str, card: Card) -> None:
        path = f"flow.cards.{key}"
        self.ways_on(key, card, path)
        for relative, target in card.targets():
            if target not in self.cards:
                self.add(f"{path}.{relative}", f"The card '{key}' goes to {self.no_card(target)}")
        for relative, text in _texts(card):
            self.text(text, f"{path}.{relative}")
        for i, button in enumerate(card.buttons or []):
            if button.store is not None and self.check_field(button.store, f"{path}.buttons.{i}.store", writable=True):
                here = f"{path}.buttons.{i}"
                self.stored(button.store, button.value, button.label, f"{here}.value", f"{here}.label")
        if card.capture is not None and self.check_field(card.capture, f"{path}.capture", writable=True):
            for i, option in enumerate(card.options or []):
                here = f"{path}.options.{i}"
                if isinstance(option, Option):
                    self.stored(card.capture, option.value, option.label, f"{here}.value", f"{here}.label")
                else:
                    self.stored(card.capture, None, option, here, here)
        for name, value in (card.set_ or {}).items():
            if self.check_field(name, f"{path}.set.{name}", writable=True):
                self.value(name, value, f"{path}.set.{name}")
        if card.branch is not None:
            self.branch(key, card, path)
        if card.book_meeting is not None:
            meeting, here = card.book_meeting, f"{path}.book_meeting"
            if meeting.routing == "agent" and meeting.agent is None:
                self.add(f"{here}.agent", "Routing 'agent' needs agent: the email of the agent who takes the meetings.")
            if meeting.agent is not None and not _is_email(meeting.agent):
                self.add(f"{here}.agent", f"'{meeting.agent}' is not an email address.")
            if meeting.routing == "team" and meeting.team is None:
                self.add(f"{here}.team", "Routing 'team' needs team: the key of the team that takes the meetings.")
            if meeting.store_agent is not None:
                self.check_field(meeting.store_agent, f"{here}.store_agent", writable=True)
        if card.flow is not None:
            self.flow_call(card.flow, f"{path}.flow")

    def branch(self, key: str, card: Card, path: str) -> None:
        rules = card.branch or []
        elses = [i for i, rule in enumerate(rules) if isinstance(rule, BranchElse)]
        for i, rule in enumerate(rules):
            if isinstance(rule, BranchIf):
                self.condition(rule.if_, f"{path}.branch.{i}.if", audience=False)
        if not elses:
            self.add(f"{path}.branch", f"The branch of card '{key}' has no else rule: end it with {{else: CARD}}.")
            return
        for i in elses[1:]:
            self.add(f"{path}.branch.{i}", f"The branch of card '{key}' has a second else rule: keep only one.")
        after = next((i for i in range(elses[0] + 1, len(rules)) if i not in elses), None)
        if after is not None:
            self.add(
                f"{path}.branch.{after}",
                f"This rule of card '{key}' comes after else and would never be used: else must be the last rule.",
            )

    def flow_call(self, key: str, path: str) -> None:
        if not isinstance(self.document, DialogueDocument) and key == self.document.key:
            self.add(path, f"The flow '{key}' cannot run itself.")
        elif self.flows is not None and key not in self.flows:
            close = difflib.get_close_matches(key, list(self.flows), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = f"Flows: {', '.join(sorted(self.flows))}." if self.flows else "There is no reusable flow yet."
            self.add(path, f"There is no reusable flow '{key}'{hint}. {known}")

    # --- the graph of cards

    def graph(self) -> None:
        start = self.document.flow.start
        if start not in self.cards:
            return
        edges = {key: [t for _, t in card.targets() if t in self.cards] for key, card in self.cards.items()}
        entries = [card for card in entry_cards(self.document) if card in self.cards]
        reachable = _reach(entries, edges)
        starts = f"the start card '{start}'" if len(entries) == 1 else f"any start card ({', '.join(entries)})"
        for key in self.cards:
            if key not in reachable:
                self.add(f"flow.cards.{key}", f"The card '{key}' is never reached from {starts}.")
        # Cards that can end the conversation, and those already reported for a missing way on or target.
        exits = [
            key
            for key, card in self.cards.items()
            if card.end or not edges[key] or len(edges[key]) < len(card.targets())
        ]
        backwards: dict[str, list[str]] = {key: [] for key in self.cards}
        for key, targets in edges.items():
            for target in targets:
                backwards[target].append(key)
        can_exit = _reach(exits, backwards)
        stuck = [key for key in self.cards if key in reachable and key not in can_exit]
        onward = {key: [t for t in edges[key] if t in stuck] for key in stuck}
        reach = {key: _reach(onward[key], onward) for key in stuck}
        reported: set[str] = set()
        for key in stuck:
            if key in reported or key not in reach[key]:
                continue
            group = [other for other in stuck if other in reach[key] and key in reach[other]]
            reported.update(group)
            names = join([f"'{name}'" for name in group], "and")
            self.add(
                f"flow.cards.{group[0]}",
                f"The card {names} only leads back to itself and never reaches an end: give it a way out."
                if len(group) == 1
                else f"The cards {names} only lead to each other and never reach an end: give one a way out.",
            )

    # --- the rest of the document

    def page_rule(self, rule: PageRule, path: str) -> None:
        pattern = rule.url_regex
        if pattern is None:
            return
        if len(pattern) >= 500:
            self.add(path, "This pattern is too long: keep it under 500 characters.")
            return
        try:
            re.compile(pattern)
        except re.error as exc:
            self.add(path, f"This is not a valid pattern: {exc.msg}.")
            return
        if _has_nested_quantifier(pattern):
            message = "This pattern repeats a group that itself repeats, like (a+)+, so it may take too long to match."
            self.add(path, message)
        elif _slow_on_long_addresses(pattern):
            self.add(path, "This pattern takes too long to match long addresses: make it simpler.")

    def targeting(self, document: DialogueDocument) -> None:
        for side in ("include", "exclude"):
            for i, rule in enumerate(getattr(document.pages, side)):
                self.page_rule(rule, f"pages.{side}.{i}.url_regex")
        if document.audience is not None:
            self.condition(document.audience, "audience", audience=True)
        schedule = document.schedule
        if schedule is None:
            return
        if schedule.from_ and schedule.until and schedule.from_ > schedule.until:
            self.add("schedule.until", f"The schedule ends on {schedule.until}, before it starts on {schedule.from_}.")
        if schedule.timezone is not None:
            try:
                ZoneInfo(schedule.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                self.add("schedule.timezone", f"'{schedule.timezone}' is not a time zone: use one like Europe/Paris.")
        elif schedule.hours == "business":
            self.add("schedule.timezone", "Business hours need a timezone, like Europe/Paris.")

    def scenarios(self) -> None:
        for i, scenario in enumerate(self.document.tests):
            path = f"tests.{i}"
            for name in scenario.visitor:
                self.check_field(name, f"{path}.visitor.{name}")
            for j, key in enumerate(scenario.expect.path or []):
                if key not in self.cards:
                    message = f"The test expects the card '{key}', which is not a card of this flow."
                    self.add(f"{path}.expect.path.{j}", message)
            for name in scenario.expect.fields or {}:
                self.check_field(name, f"{path}.expect.fields.{name}")

    def run(self) -> list[Problem]:
        if isinstance(self.document, DialogueDocument):
            self.targeting(self.document)
        if self.document.flow.start not in self.cards:
            self.add("flow.start", f"The flow starts at {self.no_card(self.document.flow.start)}")
        for key, card in self.cards.items():
            self.card(key, card)
        self.problems.extend(experiment_problems(self.document, self.flows))
        for path, text in variant_texts(self.document):
            self.text(text, path)
        self.graph()
        self.scenarios()
        return self.problems


def _texts(card: Card) -> Iterator[tuple[str, Text]]:
    """Every text of the card the visitor sees, with its path."""
    if isinstance(card.say, list):
        yield from ((f"say.{i}", text) for i, text in enumerate(card.say))
    elif card.say is not None:
        yield "say", card.say
    yield from ((f"buttons.{i}.label", button.label) for i, button in enumerate(card.buttons or []))
    if card.ask is not None:
        yield "ask", card.ask
    for i, option in enumerate(card.options or []):
        yield (f"options.{i}.label", option.label) if isinstance(option, Option) else (f"options.{i}", option)
    if card.error is not None:
        yield "error", card.error
    if card.link is not None:
        yield "link.label", card.link.label


def _reach(starts: list[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen, todo = set(starts), list(starts)
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def check_document(
    document: Document, *, fields: FieldSchema, flows: Mapping[str, FlowDocument] | None = None
) -> list[Problem]:
    """Every rule across the parts of a parsed document; returns all problems found (empty when valid). `flows` are
    the reusable flows a `flow` card may run; None skips that check."""
    return _Checker(document, fields, flows).run()


def validate(
    data: Any, *, fields: FieldSchema, flows: Mapping[str, FlowDocument] | None = None, kind: DocumentKind = "dialogue"
) -> tuple[Document | None, list[Problem]]:
    """Parses and checks plain data: (document, []) when valid; (None, problems) when the shape is wrong, else
    (document, problems)."""
    document, problems = parse_document(data, kind)
    if document is None:
        return None, problems
    return document, check_document(document, fields=fields, flows=flows)


class _Audience(Strict):
    where: Condition


def parse_audience(data: Any, *, fields: FieldSchema) -> tuple[Condition | None, list[Problem]]:
    """An audience condition on its own (an automation's `where`), parsed and checked by the rules of a dialogue's
    audience; problems are located under `where`. (condition, []) when valid."""
    try:
        condition = _Audience.model_validate({"where": data}).where
    except ValidationError as error:
        return None, shape_problems(error, _Audience)
    checker = _Checker(cast(Document, None), fields, None)  # a condition's rules never read the document
    checker.condition(condition, "where", audience=True)
    return condition, checker.problems


def raise_for_problems(problems: list[Problem], what: str) -> None:
    """Raises InvalidInput listing `problems` when there is any; returns None otherwise."""
    if problems:
        count = len(problems)
        raise InvalidInput(f"{what} has {count} problem{'s' if count != 1 else ''}.", problems)
