"""The compiled selector: which published dialogue to show a visitor on a page, and why each other one does not show.

Selection: among the published dialogues of the page's site that match the page, the audience, the schedule and the
frequency rules, the highest priority wins; ties go to the most recently published (then the highest id, so that
the answer never depends on input order). A site whose chat is turned off shows nothing.

Speed (bench/targeting_selection.py): everything is compiled once in `compile_selector`; a decision parses the
address once, looks up the site, then the candidates whose page rules can match the path's first segment (a list
kept per segment, already sorted by rank), and stops at the first eligible one. Cheap checks (page, schedule,
frequency) run before the audience.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from overture.targeting.conditions import Test, compile_condition, why_not
from overture.targeting.facts import PageFacts, PublishedDialogue, SiteFacts, VisitorFacts
from overture.targeting.frequency import triggered_before, why_held_back
from overture.targeting.pages import Address, PageMatcher, compile_pages
from overture.targeting.schedule import CompiledSchedule, compile_schedule
from overture.targeting.triggers import describe

__all__ = ["Decision", "Explanation", "PublishedDialogue", "Selector", "compile_selector"]


@dataclass(frozen=True)
class Decision:
    """The dialogue to show, and the trigger description the widget gets (see triggers.describe)."""

    key: str
    id: int
    version: int
    trigger: dict[str, Any]


@dataclass(frozen=True)
class Explanation:
    """Whether one dialogue would show: `matched` when it passes every rule, `chosen` when it is the one shown;
    `reasons` say why not, each a sentence a marketer understands (empty when chosen)."""

    key: str
    id: int
    version: int
    site: str
    priority: int
    matched: bool
    chosen: bool
    reasons: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        if self.chosen:
            return "shown: it matches and has the highest priority"
        return "; ".join(self.reasons)


@dataclass(frozen=True, eq=False)
class _Compiled:
    dialogue: PublishedDialogue
    pages: PageMatcher
    audience: Test | None
    schedule: CompiledSchedule | None

    def eligible(self, address: Address, visitor: VisitorFacts, now: datetime) -> bool:
        if not self.pages.matches(address):
            return False
        if self.schedule is not None and not self.schedule.open_at(now):
            return False
        document = self.dialogue.document
        if why_held_back(document.frequency, self.dialogue.key, visitor, now) is not None:
            return False
        return self.audience is None or self.audience(visitor, now)

    def reasons(self, address: Address, visitor: VisitorFacts, now: datetime) -> list[str]:
        """Every rule this dialogue fails, in the order page, schedule, frequency, audience."""
        document = self.dialogue.document
        found = [self.pages.why_not(address)]
        found.append(self.schedule.why_closed(now) if self.schedule is not None else None)
        found.append(why_held_back(document.frequency, self.dialogue.key, visitor, now))
        if document.audience is not None:
            failing = why_not(document.audience, visitor, now)
            found.append(f"audience: {failing}" if failing else None)
        return [reason for reason in found if reason]

    def decision(self, visitor: VisitorFacts) -> Decision:
        dialogue = self.dialogue
        carried = triggered_before(dialogue.key, visitor)
        return Decision(dialogue.key, dialogue.id, dialogue.version, describe(dialogue.document.trigger, carried))


def _rank(compiled: _Compiled) -> tuple[int, datetime, int]:
    dialogue = compiled.dialogue
    published = dialogue.published_at
    # A naive time (as SQLite gives back) is UTC, so that it sorts with aware ones.
    published = published if published.tzinfo is not None else published.replace(tzinfo=UTC)
    return (dialogue.priority, published, dialogue.id)


# Candidate lists are remembered per first path segment, up to this many segments per site (beyond, they are
# computed each time: a visitor inventing paths cannot grow memory).
SEGMENTS_REMEMBERED = 10_000


class _SiteIndex:
    """One site's dialogues in rank order (best first), and, per first path segment seen, those whose page rules can
    match a path starting with it. A memo only: what it answers never depends on what was asked before."""

    def __init__(self, site: SiteFacts, compiled: list[_Compiled]) -> None:
        self.chat_enabled = site.chat_enabled
        self.ranked = tuple(sorted(compiled, key=_rank, reverse=True))
        self._by_segment: dict[str, tuple[_Compiled, ...]] = {}

    def candidates(self, segment: str) -> tuple[_Compiled, ...]:
        found = self._by_segment.get(segment)
        if found is None:
            found = tuple(item for item in self.ranked if item.pages.fits_segment(segment))
            if len(self._by_segment) < SEGMENTS_REMEMBERED:
                self._by_segment[segment] = found
        return found


class Selector:
    """The published dialogues of every site, compiled. Immutable: rebuild it when a dialogue is published, paused
    or archived, or a site's chat switch changes."""

    def __init__(self, compiled: Sequence[_Compiled], sites: Mapping[str, SiteFacts]) -> None:
        self._all = tuple(sorted(compiled, key=_rank, reverse=True))
        self._sites = dict(sites)
        by_site: dict[str, list[_Compiled]] = {}
        for item in self._all:
            by_site.setdefault(item.dialogue.site, []).append(item)
        self._index = {key: _SiteIndex(self._site(key), items) for key, items in by_site.items()}

    def _site(self, key: str) -> SiteFacts:
        # A site the caller did not describe has chat on: a dialogue never vanishes for want of a site row.
        return self._sites.get(key) or SiteFacts()

    def select(self, site_key: str, page: PageFacts, visitor: VisitorFacts, now: datetime) -> Decision | None:
        """The dialogue to show `visitor` on `page` of site `site_key` at `now` (aware), or None."""
        index = self._index.get(site_key)
        if index is None or not index.chat_enabled:
            return None
        address = Address(page.url)
        for candidate in index.candidates(address.segment):
            if candidate.eligible(address, visitor, now):
                return candidate.decision(visitor)
        return None

    def explain(self, site_key: str, page: PageFacts, visitor: VisitorFacts, now: datetime) -> list[Explanation]:
        """For every dialogue of every site, best ranked first: whether it matched, whether it was chosen, and why
        not. Agrees with `select`: the chosen one is what `select` returns."""
        address = Address(page.url)
        chat_on = self._site(site_key).chat_enabled
        chosen: _Compiled | None = None
        explanations = []
        for item in self._all:
            dialogue = item.dialogue
            reasons: list[str]
            if dialogue.site != site_key:
                reasons = [f"belongs to site {dialogue.site}; this page is on site {site_key}"]
            elif not chat_on:
                reasons = [f"chat is turned off for site {site_key}"]
            else:
                reasons = item.reasons(address, visitor, now)
            matched = not reasons
            if matched and chosen is None:
                chosen = item
            elif matched and chosen is not None:
                reasons = [_lost_to(chosen.dialogue, dialogue)]
            explanations.append(
                Explanation(
                    dialogue.key,
                    dialogue.id,
                    dialogue.version,
                    dialogue.site,
                    dialogue.priority,
                    matched,
                    item is chosen,
                    tuple(reasons),
                )
            )
        return explanations


def _lost_to(winner: PublishedDialogue, loser: PublishedDialogue) -> str:
    if winner.priority > loser.priority:
        return f"another dialogue with higher priority ({winner.key}, {winner.priority}) was chosen"
    same = f"({winner.key}, {winner.priority})"
    return f"another dialogue with the same priority {same}, published more recently, was chosen"


def compile_selector(dialogues: Sequence[PublishedDialogue], sites: Mapping[str, SiteFacts]) -> Selector:
    """Compiles published dialogues (one version per dialogue) into a Selector. Raises ValueError or re.error for a
    document validation would have refused."""
    compiled = [
        _Compiled(
            dialogue,
            compile_pages(dialogue.document.pages),
            compile_condition(dialogue.document.audience) if dialogue.document.audience is not None else None,
            compile_schedule(dialogue.document.schedule),
        )
        for dialogue in dialogues
    ]
    return Selector(compiled, sites)
