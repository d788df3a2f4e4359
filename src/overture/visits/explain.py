"""Explain: which dialogues would show a person on a page, and why each other one would not. Read only: nothing is
recorded, so marketers can ask as often as they like (the admin API, the dialogue page and the CLI use it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from overture.dialogues.models import Dialogue
from overture.errors import NotFound
from overture.sites.addresses import lower_scheme_and_host
from overture.sites.demo import EmbeddedPages
from overture.sites.origins import origin_allowed, origin_of
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
    site: str | None  # None: no site serves the URL
    url: str
    person_id: int | None
    verdicts: list[Verdict]
    continuing: str | None  # the dialogue of an engaged conversation that goes on instead

    def for_dialogue(self, key: str) -> Verdict | None:
        return next((verdict for verdict in self.verdicts if verdict.key == key), None)


def site_for(targeting: Targeting, url: str, given: str | None, embedded: EmbeddedPages | None = None) -> str | None:
    """The site asked about; else the site a visitor of `url` gets: the one whose allowed origins hold the URL's origin
    (the widget is refused on any other), or the site that Overture's own `embedded` pages (the demo website) embed.
    None when no site serves the URL."""
    if given:
        if given not in targeting.sites:
            raise NotFound(f"There is no site '{given}'.")
        return given
    url = lower_scheme_and_host(url.strip())
    if embedded is not None and embedded.holds(url) and embedded.site in targeting.sites:
        return embedded.site
    origin = origin_of(url)
    if origin is None:  # not a page's address: no site serves it
        return None
    for key, site in sorted(targeting.sites.items()):
        if site.origins and origin_allowed(site.origins, origin, own_origin=""):
            return key
    return None


def explain(
    connection: Connection,
    cache: SelectorCache,
    *,
    url: str,
    person_id: int | None,
    now: datetime,
    site: str | None = None,
    embedded: EmbeddedPages | None = None,
) -> Explained:
    """Every dialogue's verdict for `person_id` (None: a new anonymous visitor) on `url`, best ranked first, then
    the dialogues that are not live. Without `site`, the site is the one a visitor of `url` gets (see `site_for`);
    when none serves it, no dialogue shows."""
    cache.forget()  # the admin just changed something, perhaps: look now
    targeting = cache.current(connection)
    url = lower_scheme_and_host(url.strip())
    site_key = site_for(targeting, url, site, embedded)
    facts = visitor_facts_of(connection, cache, person_id, now) if person_id is not None else VisitorFacts()
    continuing = (
        engaged_conversation(connection, targeting, person_id, None, site_key)
        if person_id is not None and site_key is not None
        else None
    )
    unserved = (
        f"no site allows {origin_of(url) or url}, so the widget is refused on its pages" if site_key is None else None
    )
    verdicts = []
    for explanation in targeting.selector.explain(site_key or "", PageFacts(url=url), facts, now):
        shown = explanation.chosen and continuing is None and unserved is None
        reason = unserved or explanation.sentence
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
