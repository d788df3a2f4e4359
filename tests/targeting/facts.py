"""The facts the targeting rules read, as plain data: dialogue documents, published dialogues, a visitor's facts
(fields, activities, session number) and a page's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from overture.dialogues.document import DialogueDocument
from overture.targeting.facts import ActivityFact, PageFacts, PublishedDialogue, VisitorFacts

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def document(key: str = "demo", **parts: Any) -> DialogueDocument:
    data = {"key": key, "name": key, "flow": {"start": "hi", "cards": {"hi": {"say": "Hi", "end": True}}}, **parts}
    return DialogueDocument.model_validate(data)


def published(
    key: str = "demo",
    *,
    id: int = 1,
    priority: int = 0,
    site: str = "www",
    published_at: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    version: int = 1,
    **parts: Any,
) -> PublishedDialogue:
    return PublishedDialogue(
        id=id,
        key=key,
        version=version,
        published_at=published_at,
        priority=priority,
        site=site,
        document=document(key, priority=priority, site=site, **parts),
    )


def visitor(
    fields: dict[str, Any] | None = None, activities: list[ActivityFact] | None = None, session: int = 1
) -> VisitorFacts:
    return VisitorFacts(fields=fields or {}, activities=activities or [], session_number=session)


def page(url: str = "https://example.com/") -> PageFacts:
    return PageFacts(url=url)
