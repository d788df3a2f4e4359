"""The compiled selector each process keeps in memory, rebuilt when the targeting signal moves.

Publishing, pausing or archiving a dialogue and changing a site bump the `targeting` signal in their transaction;
every process reads the signal at most once a second and rebuilds when it moved, so all web processes (on
PostgreSQL) and the one process (on SQLite) show the new choice within a second. Parsed versions are kept by id:
a version never changes, so a rebuild parses only what was just published.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from overture import signals
from overture.dialogues.document import DialogueDocument
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.signals import Signal
from overture.sites import appearance as appearances
from overture.sites.appearance import WidgetAppearance
from overture.sites.avatars import url_path
from overture.sites.models import Site, SiteAvatar
from overture.targeting.facts import PublishedDialogue, SiteFacts
from overture.targeting.selector import Selector, compile_selector

CHECK_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class SiteConfig:
    """What the visit call needs of a site besides targeting: its id, who may embed it and how the widget looks
    (its avatar's address relative to Overture's base URL)."""

    id: int
    key: str
    origins: tuple[str, ...]
    language_order: tuple[str, ...]
    appearance: WidgetAppearance = field(default_factory=WidgetAppearance)
    # The visit call is refused without the visitor's consent (sites.models.Site.require_consent).
    require_consent: bool = False


@dataclass(frozen=True)
class Targeting:
    """One consistent picture: the selector, the sites, and every dialogue's key by id (activities name ids)."""

    selector: Selector
    sites: Mapping[str, SiteConfig]
    dialogue_keys: Mapping[int, str]
    # The site of each published dialogue (an engaged conversation follows the visitor on its own site only).
    dialogue_sites: Mapping[str, str]
    generation: int


@dataclass
class SelectorCache:
    clock: Callable[[], float] = time.monotonic
    _current: Targeting | None = None
    _checked_at: float = float("-inf")
    _parsed: dict[int, DialogueDocument] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self, connection: Connection) -> Targeting:
        """The targeting in force, re-reading the signal when the last look is more than a second old."""
        now = self.clock()
        current = self._current
        if current is not None and now - self._checked_at < CHECK_EVERY_SECONDS:
            return current
        with self._lock:
            generation = connection.scalar(select(Signal.generation).where(Signal.name == signals.TARGETING)) or 0
            if self._current is None or self._current.generation != generation:
                self._current = self._build(connection, generation)
            self._checked_at = now
            return self._current

    def known_site(self, key: str) -> SiteConfig | None:
        """The site as the last look found it, without a database call (after `current` in the same request)."""
        return self._current.sites.get(key) if self._current is not None else None

    def forget(self) -> None:
        """Makes the next call re-read the signal (tests, and the admin's explain after a change)."""
        self._checked_at = float("-inf")

    def _build(self, connection: Connection, generation: int) -> Targeting:
        rows = connection.execute(
            select(Dialogue.id, Dialogue.key, DialogueVersion.id, DialogueVersion.number, DialogueVersion.published_at)
            .join(
                DialogueVersion,
                (DialogueVersion.dialogue_id == Dialogue.id) & (DialogueVersion.number == Dialogue.published_version),
            )
            .where(Dialogue.status == "published", Dialogue.kind == "dialogue")
        ).all()
        missing = [version_id for _, _, version_id, _, _ in rows if version_id not in self._parsed]
        if missing:
            for version_id, document in connection.execute(
                select(DialogueVersion.id, DialogueVersion.document).where(DialogueVersion.id.in_(missing))
            ):
                self._parsed[version_id] = DialogueDocument.model_validate(document)
        published = [
            PublishedDialogue(
                id=dialogue_id,
                key=key,
                version=number,
                published_at=published_at,
                priority=self._parsed[version_id].priority,
                site=self._parsed[version_id].site,
                document=self._parsed[version_id],
            )
            for dialogue_id, key, version_id, number, published_at in rows
        ]
        sites = list(connection.execute(select(Site.__table__)))
        site_facts = {row.key: SiteFacts(chat_enabled=row.chat_enabled) for row in sites}
        avatars: dict[int, str] = {
            site_id: sha for site_id, sha in connection.execute(select(SiteAvatar.site_id, SiteAvatar.sha256))
        }
        configs = {
            row.key: SiteConfig(
                id=row.id,
                key=row.key,
                origins=tuple(row.origins or ()),
                language_order=tuple(row.language_order or ()),
                appearance=_widget_appearance(row.appearance, row.key, avatars.get(row.id)),
                require_consent=row.require_consent,
            )
            for row in sites
        }
        keys = {dialogue_id: key for dialogue_id, key in connection.execute(select(Dialogue.id, Dialogue.key))}
        dialogue_sites = {dialogue.key: dialogue.site for dialogue in published}
        return Targeting(compile_selector(published, site_facts), configs, keys, dialogue_sites, generation)


def _widget_appearance(stored: Mapping[str, Any] | None, site_key: str, avatar_sha256: str | None) -> WidgetAppearance:
    document = appearances.stored(stored).model_dump()
    avatar = url_path(site_key, avatar_sha256) if avatar_sha256 else None
    return WidgetAppearance.model_validate({**document, "avatar_url": avatar})
