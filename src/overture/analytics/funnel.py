"""A dialogue's funnel (docs/reports.md): over the conversations started in a period, how many entered each card,
how many stopped there, which answer they chose at each card of buttons or options, and, after the cards, how many
booked a meeting and how many of those meetings were held.

Read from what the conversations store: `cards` and `last_card` (written at every turn), the transcript of their
`state` for the answers (a visitor's answer is the label they were shown, matched back to the card's choices), and
the meetings booked in them. A conversation whose person was deleted for privacy keeps its cards and meeting but not
its transcript: it counts in every step except the answers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from overture.analytics.schemas import AnswerCount, FunnelMeetings, FunnelStep
from overture.conversations.models import Conversation
from overture.dialogues import service as dialogues
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.scheduling.models import Meeting

# A `{{ }}` token of a personalised label ("Yes, {{ person.first_name }}"): anything may stand in its place.
_TOKEN = re.compile(r"\{\{.*?\}\}", re.DOTALL)
# Conversations are read in batches: a long period of a busy dialogue is never held in memory at once.
_BATCH = 1000


def flow_cards(session: Session, dialogue: Dialogue, chosen: DialogueVersion | None) -> list[str]:
    """The cards of the flow the funnel lists, start card first: the chosen version's, else the live one's, else
    the newest version's; none when nothing was ever published."""
    version = _listed_version(session, dialogue, chosen)
    if version is None:
        return []
    flow = version.document["flow"]  # validated when published; JSON keeps the cards in the order written
    return list(dict.fromkeys([flow["start"], *flow["cards"]]))


def _listed_version(session: Session, dialogue: Dialogue, chosen: DialogueVersion | None) -> DialogueVersion | None:
    if chosen is not None:
        return chosen
    number = dialogue.published_version or session.scalar(
        select(DialogueVersion.number)
        .where(DialogueVersion.dialogue_id == dialogue.id)
        .order_by(DialogueVersion.number.desc())
        .limit(1)
    )
    return dialogues.version(session, dialogue, number) if number is not None else None


def started_in(
    dialogue: Dialogue, chosen: DialogueVersion | None, start: datetime, end: datetime
) -> list[ColumnElement[bool]]:
    """The conditions of the conversations a funnel (and a breakdown) counts: of the dialogue (and version),
    started in [start, end)."""
    conditions = [
        Conversation.dialogue_id == dialogue.id,
        Conversation.started_at >= start,
        Conversation.started_at < end,
    ]
    if chosen is not None:
        conditions.append(Conversation.version_id == chosen.id)
    return conditions


def funnel(
    session: Session, dialogue: Dialogue, chosen: DialogueVersion | None, start: datetime, end: datetime
) -> list[FunnelStep]:
    """For each card, the conversations started in [start, end) that entered it, those that stopped there without
    completing (dismissed, dropped, or still waiting for the visitor), and at a card of choices, which they chose."""
    reached: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    chosen_answers: Counter[tuple[str, str]] = Counter()
    choices = _Choices(session)
    statement: Select[Any] = select(
        Conversation.cards,
        Conversation.last_card,
        Conversation.status,
        Conversation.version_id,
        Conversation.flow_version_ids,
        Conversation.state["transcript"].label("transcript"),
    ).where(*started_in(dialogue, chosen, start, end))
    for cards, last_card, status, version_id, flow_version_ids, transcript in _batched(session, statement):
        reached.update(cards or [])
        if status != "completed" and last_card is not None:
            dropped[last_card] += 1
        versions = _Versions(version_id, flow_version_ids or {})
        chosen_answers.update(set(_answers(choices, versions, transcript or [])))

    listed = flow_cards(session, dialogue, chosen)
    listed_version = _listed_version(session, dialogue, chosen)
    others = sorted(set(reached) - set(listed), key=lambda card: (-reached[card], card))
    return [
        FunnelStep(
            card=card,
            reached=reached[card],
            dropped=dropped[card],
            answers=_answer_counts(card, chosen_answers, choices, listed_version),
        )
        for card in [*listed, *others]
    ]


def funnel_meetings(
    session: Session, dialogue: Dialogue, chosen: DialogueVersion | None, start: datetime, end: datetime
) -> FunnelMeetings:
    """The conversations started in [start, end) that booked a meeting (whatever became of it since), and of those,
    the ones whose meeting was held and the ones marked no-show."""
    # The conversations as a subquery, not a join: SQLite then reads them by their index once and the meetings
    # once, where a join scanned the meetings for each conversation (13 s at 360,000 conversations).
    started = Meeting.conversation_id.in_(select(Conversation.id).where(*started_in(dialogue, chosen, start, end)))
    by_status = {
        status: count
        for status, count in session.execute(
            select(Meeting.status, func.count(func.distinct(Meeting.conversation_id)))
            .where(started)
            .group_by(Meeting.status)
        )
    }
    booked = session.scalar(select(func.count(func.distinct(Meeting.conversation_id))).where(started))
    return FunnelMeetings(booked=booked or 0, held=by_status.get("held", 0), no_show=by_status.get("no_show", 0))


def _batched(session: Session, statement: Select[Any]) -> Iterator[Any]:
    yield from session.execute(statement.execution_options(yield_per=_BATCH))


# --- the answers chosen -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    """A button or option: its label in the document's default language, and the texts a visitor may have been
    shown for it (each language's, personalised ones as patterns)."""

    label: str
    shown: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return any(pattern.fullmatch(text) for pattern in self.shown)


@dataclass(frozen=True)
class _Versions:
    """The versions one conversation runs on: its dialogue's, and each called flow's by key."""

    dialogue: int
    flows: dict[str, int]

    def of(self, ref: str) -> tuple[int | None, str]:
        """The version holding the card `ref` ("card", or "flowkey:card"), and the card's key in it."""
        flow, _, card = ref.rpartition(":")
        return (self.flows.get(flow) if flow else self.dialogue), card


class _Choices:
    """The choices of each card of each version, read once per version."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.documents: dict[int, dict[str, Any] | None] = {}
        self.cards: dict[tuple[int, str], list[_Choice]] = {}

    def of(self, version_id: int | None, card: str) -> list[_Choice]:
        if version_id is None:
            return []
        if (version_id, card) not in self.cards:
            self.cards[(version_id, card)] = self._read(version_id, card)
        return self.cards[(version_id, card)]

    def _read(self, version_id: int, card: str) -> list[_Choice]:
        if version_id not in self.documents:
            version = self.session.get(DialogueVersion, version_id)
            self.documents[version_id] = version.document if version is not None else None
        document = self.documents[version_id]
        if document is None:
            return []
        found = document.get("flow", {}).get("cards", {}).get(card) or {}
        language = document.get("language") or "en"
        labels = [button.get("label") for button in found.get("buttons") or []]
        labels += [_option_label(option) for option in found.get("options") or []]
        return [_choice(label, language) for label in labels if label]


def _option_label(option: Any) -> Any:
    return option.get("label") if isinstance(option, dict) and "label" in option else option


def _choice(label: str | dict[str, str], language: str) -> _Choice:
    texts = [label] if isinstance(label, str) else list(label.values())
    default = label if isinstance(label, str) else label.get(language, next(iter(label.values()), ""))
    return _Choice(label=default, shown=tuple(_pattern(text) for text in texts))


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in _TOKEN.split(text)), re.DOTALL)


def _answers(choices: _Choices, versions: _Versions, transcript: Iterable[Any]) -> Iterator[tuple[str, str]]:
    """(card, label) of each choice the visitor made and kept (an answer undone by going back or starting over is
    marked retracted). A typed answer a picklist refused matches no choice and is left out."""
    for entry in transcript:
        if not isinstance(entry, dict) or entry.get("role") != "visitor" or entry.get("retracted"):
            continue
        ref = str(entry.get("card") or "")
        version_id, card = versions.of(ref)
        text = str(entry.get("text") or "")
        for choice in choices.of(version_id, card):
            if choice.matches(text):
                yield ref, choice.label
                break


def _answer_counts(
    card: str, chosen: Counter[tuple[str, str]], choices: _Choices, listed: DialogueVersion | None
) -> list[AnswerCount]:
    """The card's choices in the listed version's order (those nobody chose included), then any other label chosen
    at this card (an older version's), most chosen first."""
    own = [] if listed is None or ":" in card else [choice.label for choice in choices.of(listed.id, card)]
    seen = [label for ref, label in chosen if ref == card and label not in own]
    others = sorted(set(seen), key=lambda label: (-chosen[(card, label)], label))
    return [AnswerCount(answer=label, chosen=chosen[(card, label)]) for label in [*dict.fromkeys(own), *others]]
