"""The answers a visitor chose in a conversation, read back from its transcript for the funnel: a visitor's answer
is the label they were shown (in their language, personalised), matched back to the choices (buttons, options) of
the card in the version the conversation runs on, and counted under the label in the dialogue's default language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from overture.dialogues.models import DialogueVersion

# A `{{ }}` token of a personalised label ("Yes, {{ person.first_name }}"): anything may stand in its place.
_TOKEN = re.compile(r"\{\{.*?\}\}", re.DOTALL)


@dataclass(frozen=True)
class Choice:
    """A button or option: its label in the document's default language, and the texts a visitor may have been
    shown for it (each language's, personalised ones as patterns)."""

    label: str
    shown: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return any(pattern.fullmatch(text) for pattern in self.shown)


@dataclass(frozen=True)
class Versions:
    """The versions one conversation runs on: its dialogue's, and each called flow's by key."""

    dialogue: int
    flows: dict[str, int]

    def of(self, ref: str) -> tuple[int | None, str]:
        """The version holding the card `ref` ("card", or "flowkey:card"), and the card's key in it."""
        flow, _, card = ref.rpartition(":")
        return (self.flows.get(flow) if flow else self.dialogue), card


class Choices:
    """The choices of each card of each version, read once per version."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.documents: dict[int, dict[str, Any] | None] = {}
        self.cards: dict[tuple[int, str], list[Choice]] = {}

    def of(self, version_id: int | None, card: str) -> list[Choice]:
        if version_id is None:
            return []
        if (version_id, card) not in self.cards:
            self.cards[(version_id, card)] = self._read(version_id, card)
        return self.cards[(version_id, card)]

    def _read(self, version_id: int, card: str) -> list[Choice]:
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


def chosen(choices: Choices, versions: Versions, transcript: Iterable[Any]) -> Iterator[tuple[str, str]]:
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


def _option_label(option: Any) -> Any:
    return option.get("label") if isinstance(option, dict) and "label" in option else option


def _choice(label: str | dict[str, str], language: str) -> Choice:
    texts = [label] if isinstance(label, str) else list(label.values())
    default = label if isinstance(label, str) else label.get(language, next(iter(label.values()), ""))
    return Choice(label=default, shown=tuple(_pattern(text) for text in texts))


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in _TOKEN.split(text)), re.DOTALL)
