"""What the selector knows about one decision: the visitor, their past activities and the page. Plain frozen data,
built by the caller (the visit service reads them from the database); the targeting package does no I/O.

Activity types are those of DESIGN.md section 5. A fact's `name` is what the activity is about: the dialogue key for
`dialogue.*`, the goal name for `goal.reached`, the url for `link.clicked`, the field name for `field.captured`, and
whatever the meeting is called (its team or type; may be "") for `meeting.booked`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from overture.dialogues.document import DialogueDocument

TRIGGERED = "dialogue.triggered"
ENGAGED = "dialogue.engaged"
COMPLETED = "dialogue.completed"
DISMISSED = "dialogue.dismissed"
GOAL_REACHED = "goal.reached"
MEETING_BOOKED = "meeting.booked"
LINK_CLICKED = "link.clicked"
FIELD_CAPTURED = "field.captured"


@dataclass(frozen=True, slots=True)
class ActivityFact:
    """One past activity of the visitor: its `type`, what it was about (`name`), when (aware, UTC preferred) and in
    which of the visitor's sessions it happened (sessions are numbered from 1; DESIGN.md section 5)."""

    type: str
    name: str
    at: datetime
    session_number: int = 1


@dataclass(frozen=True)
class VisitorFacts:
    """The visitor at decision time.

    `fields`: person.*, company.* and visit.* values by dotted name (missing = empty). `activities`: their past
    activities, any order. `session_number`: the current session. `by_type` is derived: the activities grouped by
    type, newest first, so that conditions and frequency rules do not scan every activity each time.
    """

    fields: Mapping[str, Any] = field(default_factory=dict)
    activities: Sequence[ActivityFact] = ()
    session_number: int = 1
    by_type: Mapping[str, tuple[ActivityFact, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grouped: dict[str, list[ActivityFact]] = {}
        for fact in sorted(self.activities, key=lambda fact: fact.at, reverse=True):
            grouped.setdefault(fact.type, []).append(fact)
        object.__setattr__(self, "by_type", {kind: tuple(facts) for kind, facts in grouped.items()})

    def of_type(self, kind: str) -> tuple[ActivityFact, ...]:
        """The visitor's activities of one type, newest first."""
        return self.by_type.get(kind, ())


@dataclass(frozen=True, slots=True)
class PageFacts:
    """The page being visited: its full address as the browser reports it."""

    url: str


@dataclass(frozen=True)
class PublishedDialogue:
    """One published version of a dialogue, as the selector needs it (`published_at`: aware, or naive UTC)."""

    id: int
    key: str
    version: int
    published_at: datetime
    priority: int
    site: str
    document: DialogueDocument


@dataclass(frozen=True, slots=True)
class SiteFacts:
    """What the selector needs to know about a site: whether chat is on (the site-wide switch)."""

    chat_enabled: bool = True
