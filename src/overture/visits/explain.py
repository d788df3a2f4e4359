"""Explain: which dialogues would show a person on a page, and why each other one would not. Read only: nothing is
recorded, so marketers can ask as often as they like (the admin API, the dialogue page and the CLI use it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from overture.dialogues.models import Dialogue
from overture.errors import NotFound
from overture.sites.origins import origin_allowed
from overture.targeting.facts import PageFacts, VisitorFacts
from overture.visits.selector_cache import SelectorCache, Targeting
from overture.visits.service import engaged_conversation, visitor_facts_of


@dataclass(frozen=True)
class Verdict:
    key: str
    site: str
    shown: bool
    reason: str


@dataclass(frozen=True)
class Explained:
    site: str
    url: str
    person_id: int | None
    verdicts: list[Verdict]
    continuing: str | None  # the dialogue of an engaged conversation that goes on instead

    def for_dialogue(self, key: str) -> Verdict | None:
        return next((verdict for verdict in self.verdicts if verdict.key == key), None)


def site_for(targeting: Targeting, url: str, given: str | None) -> str:
    """The site asked about, else the one whose allowed origins hold the URL's origin, else "default"."""
    if given:
        if given not in targeting.sites:
            raise NotFound(f"There is no site '{given}'.")
        return given
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    for key, site in sorted(targeting.sites.items()):
        if site.origins and origin_allowed(site.origins, origin, own_origin=""):
            return key
    return "default"


def explain(
    connection: Connection,
    cache: SelectorCache,
    *,
    url: str,
    person_id: int | None,
    now: datetime,
    site: str | None = None,
) -> Explained:
    """Every dialogue's verdict for `person_id` (None: a new anonymous visitor) on `url`, best ranked first, then
    the dialogues that are not live."""
    cache.forget()  # the admin just changed something, perhaps: look now
    targeting = cache.current(connection)
    site_key = site_for(targeting, url, site)
    facts = visitor_facts_of(connection, cache, person_id, now) if person_id is not None else VisitorFacts()
    continuing = engaged_conversation(connection, targeting, person_id, site_key) if person_id is not None else None
    verdicts = []
    for explanation in targeting.selector.explain(site_key, PageFacts(url=url), facts, now):
        shown = explanation.chosen and continuing is None
        reason = explanation.sentence
        if explanation.chosen and continuing is not None:
            reason = f"matches, but the visitor's engaged conversation with {continuing.dialogue} goes on instead"
        verdicts.append(Verdict(explanation.key, explanation.site, shown, reason))
    live = {verdict.key for verdict in verdicts}
    for key, status in connection.execute(
        select(Dialogue.key, Dialogue.status).where(Dialogue.kind == "dialogue").order_by(Dialogue.key)
    ):
        if key not in live:
            verdicts.append(Verdict(key, "", False, f"is not live ({status})"))
    return Explained(site_key, url, person_id, verdicts, continuing.dialogue if continuing else None)
