"""Properties of the selector on random rule sets: it picks what a brute-force reading of the rules picks, and
explain agrees with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from overture.targeting.conditions import evaluate
from overture.targeting.facts import ActivityFact, PublishedDialogue, SiteFacts, VisitorFacts
from overture.targeting.frequency import why_held_back
from overture.targeting.pages import Address, compile_pages
from overture.targeting.schedule import compile_schedule
from overture.targeting.selector import Decision, compile_selector

from .facts import NOW, page, published

SEGMENTS = ["pricing", "blog", "legal", "docs", "pr"]
URL_RULES = st.one_of(
    st.sampled_from(SEGMENTS).map(lambda segment: {"url": f"/{segment}*"}),
    st.sampled_from(SEGMENTS).map(lambda segment: {"url": f"https://*.example.com/{segment}/*"}),
    st.sampled_from(SEGMENTS).map(lambda segment: {"url_contains": segment}),
    st.just({"query": {"utm_source": "ads"}}),
    st.just({"url": "*"}),
)
AUDIENCES = st.one_of(
    st.none(),
    st.integers(0, 400).map(lambda n: {"field": "company.employees", "op": "gte", "value": n}),
    st.just({"field": "person.email", "op": "is_empty"}),
    st.sampled_from(["d0", "d1", "d2"]).map(lambda key: {"field": "activity.engaged", "op": "contains", "value": key}),
)
SCHEDULES = st.one_of(
    st.none(), st.just({"hours": "business", "timezone": "Europe/Paris"}), st.just({"until": "2026-01-01"})
)


@st.composite
def dialogues(draw: st.DrawFn) -> list[PublishedDialogue]:
    count = draw(st.integers(0, 8))
    found = []
    for i in range(count):
        parts: dict[str, Any] = {
            "pages": {
                "include": draw(st.lists(URL_RULES, max_size=2)),
                "exclude": draw(st.lists(URL_RULES.filter(lambda rule: rule != {"url": "*"}), max_size=1)),
            },
            "frequency": {"once_per_session": draw(st.booleans())},
        }
        if (audience := draw(AUDIENCES)) is not None:
            parts["audience"] = audience
        if (schedule := draw(SCHEDULES)) is not None:
            parts["schedule"] = schedule
        found.append(
            published(
                f"d{i}",
                id=i + 1,
                priority=draw(st.integers(0, 3)),
                site=draw(st.sampled_from(["www", "www", "blog"])),
                published_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 3))),
                **parts,
            )
        )
    return found


VISITORS = st.builds(
    lambda employees, email, engaged, session: VisitorFacts(
        fields={"company.employees": employees, "person.email": email},
        activities=[ActivityFact("dialogue.engaged", key, NOW - timedelta(days=1)) for key in engaged]
        + [ActivityFact("dialogue.triggered", key, NOW - timedelta(hours=1), session) for key in engaged],
        session_number=session,
    ),
    st.one_of(st.none(), st.integers(0, 500)),
    st.sampled_from([None, "ann@example.com"]),
    st.lists(st.sampled_from(["d0", "d1", "d2"]), max_size=2),
    st.integers(1, 3),
)
URLS = st.builds(
    lambda host, segment, rest, query: f"https://{host}/{segment}{rest}{query}",
    st.sampled_from(["example.com", "www.example.com", "other.test"]),
    st.sampled_from([*SEGMENTS, "", "pricing-old"]),
    st.sampled_from(["", "/", "/x"]),
    st.sampled_from(["", "?utm_source=ads"]),
)
MOMENTS = st.sampled_from([NOW, datetime(2026, 3, 21, 11, 0, tzinfo=UTC), datetime(2025, 12, 31, 9, 0, tzinfo=UTC)])


def brute_force(
    dialogues: list[PublishedDialogue],
    sites: dict[str, SiteFacts],
    site: str,
    url: str,
    visitor: VisitorFacts,
    now: datetime,
) -> PublishedDialogue | None:
    """The rules read literally, one dialogue at a time, with no index and no compiled audience."""
    if not sites.get(site, SiteFacts()).chat_enabled:
        return None
    eligible = []
    for dialogue in dialogues:
        document = dialogue.document
        schedule = compile_schedule(document.schedule)
        if (
            dialogue.site == site
            and compile_pages(document.pages).matches(Address(url))
            and (schedule is None or schedule.open_at(now))
            and why_held_back(document.frequency, dialogue.key, visitor, now) is None
            and (
                document.audience is None
                or evaluate(document.audience, visitor.fields, now=now, activities=visitor.activities)
            )
        ):
            eligible.append(dialogue)
    return max(eligible, key=lambda d: (d.priority, d.published_at, d.id), default=None)


@settings(max_examples=150, deadline=None)
@given(
    rules=dialogues(),
    chat_on=st.booleans(),
    site=st.sampled_from(["www", "blog"]),
    url=URLS,
    visitor=VISITORS,
    now=MOMENTS,
)
def test_select_picks_what_the_rules_say_and_explain_agrees(
    rules: list[PublishedDialogue], chat_on: bool, site: str, url: str, visitor: VisitorFacts, now: datetime
) -> None:
    sites = {"www": SiteFacts(chat_enabled=chat_on), "blog": SiteFacts()}
    selector = compile_selector(rules, sites)
    chosen = selector.select(site, page(url), visitor, now)
    expected = brute_force(rules, sites, site, url, visitor, now)
    assert (chosen.key if chosen else None) == (expected.key if expected else None)
    explained = selector.explain(site, page(url), visitor, now)
    assert len(explained) == len(rules)
    assert [item.key for item in explained if item.chosen] == ([chosen.key] if chosen else [])
    for item in explained:
        assert item.chosen or item.reasons  # every dialogue not shown says why
        if not item.matched:
            assert not item.chosen
    if chosen is not None:
        assert isinstance(chosen, Decision)
