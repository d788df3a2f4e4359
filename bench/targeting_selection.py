"""Selection speed: 500 published dialogues with mixed page and audience rules, 1,000 visitors on varied pages;
prints the median time of one `Selector.select` as `selection: N us` (the issue asks for under 50 us).

Run: .venv-dev/bin/python bench/targeting_selection.py
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from overture.dialogues.document import DialogueDocument
from overture.targeting.facts import ActivityFact, PageFacts, PublishedDialogue, SiteFacts, VisitorFacts
from overture.targeting.selector import compile_selector

DIALOGUES = 500
VISITORS = 1000
NOW = datetime(2026, 3, 18, 11, 0, tzinfo=UTC)
SEGMENTS = [f"{word}{n}" for word in ("pricing", "blog", "docs", "product", "careers", "events") for n in range(12)]
INDUSTRIES = ["Software", "Fintech", "Retail", "Health", "Media", "Energy"]
SITES = {"www": SiteFacts(), "blog": SiteFacts(), "shop": SiteFacts(chat_enabled=False)}


def page_rule(rng: random.Random) -> dict[str, Any]:
    segment = rng.choice(SEGMENTS)
    kind = rng.random()
    if kind < 0.45:
        return {"url": f"/{segment}*"}
    if kind < 0.75:
        return {"url": f"https://*.example.com/{segment}/*"}
    if kind < 0.85:
        return {"url": f"/{segment}/*", "query": {"utm_source": rng.choice(["ads", "news", "*"])}}
    if kind < 0.93:
        return {"url_contains": f"/{segment}/"}
    return {"url_regex": rf"^https://(www\.)?example\.com/{segment}/[a-z0-9-]+$"}


def audience(rng: random.Random, key: str) -> dict[str, Any] | None:
    options: list[dict[str, Any] | None] = [
        None,
        {"field": "company.employees", "op": "gte", "value": rng.choice([50, 200, 1000])},
        {"field": "company.industry", "op": "in", "value": rng.sample(INDUSTRIES, 2)},
        {"field": "person.email", "op": "is_empty"},
        {
            "all": [
                {"field": "visit.count", "op": "gte", "value": rng.randint(1, 5)},
                {"not": {"field": "visit.device", "op": "equals", "value": "mobile"}},
            ]
        },
        {"field": "activity.engaged", "op": "contains", "value": f"d{rng.randrange(DIALOGUES)}", "within_days": 30},
        {
            "any": [
                {"field": "activity.goal_reached", "op": "contains", "value": "demo_booked"},
                {"field": "company.revenue", "op": "between", "value": [1_000_000, 50_000_000]},
            ]
        },
    ]
    return rng.choice(options)


def documents(rng: random.Random) -> list[dict[str, Any]]:
    """The 500 dialogue documents, as YAML would give them."""
    found = []
    for i in range(DIALOGUES):
        key = f"d{i}"
        site = rng.choices(list(SITES), weights=[7, 2, 1])[0]
        data: dict[str, Any] = {
            "key": key,
            "name": key,
            "site": site,
            "priority": rng.randint(0, 100),
            "flow": {"start": "hi", "cards": {"hi": {"say": "Hi", "end": True}}},
            "frequency": {"once_per_session": rng.random() < 0.3},
        }
        if rng.random() < 0.9:  # a few dialogues show on every page, for their audience only
            data["pages"] = {"include": [page_rule(rng) for _ in range(rng.randint(1, 3))]}
            if rng.random() < 0.3:
                data["pages"]["exclude"] = [{"url": f"/{rng.choice(SEGMENTS)}/legal*"}]
        if (rules := audience(rng, key)) is not None:
            data["audience"] = rules
        if rng.random() < 0.2:
            data["schedule"] = {"hours": "business", "timezone": rng.choice(["Europe/Paris", "America/New_York"])}
        found.append(data)
    return found


def dialogues(rng: random.Random) -> list[PublishedDialogue]:
    found = []
    for i, data in enumerate(documents(rng)):
        document = DialogueDocument.model_validate(data)
        published_at = NOW - timedelta(days=rng.randint(1, 300))
        found.append(
            PublishedDialogue(i + 1, document.key, 1, published_at, document.priority, document.site, document)
        )
    return found


def visitor(rng: random.Random) -> VisitorFacts:
    fields: dict[str, Any] = {
        "company.employees": rng.choice([None, 10, 120, 450, 5000]),
        "company.industry": rng.choice([None, *INDUSTRIES]),
        "company.revenue": rng.choice([None, 500_000, 8_000_000]),
        "person.email": rng.choice([None, None, "ann@example.com"]),
        "visit.count": rng.randint(1, 8),
        "visit.device": rng.choice(["desktop", "mobile", "tablet"]),
    }
    activities = [
        ActivityFact(
            rng.choice(["dialogue.triggered", "dialogue.engaged", "dialogue.dismissed", "goal.reached"]),
            rng.choice([f"d{rng.randrange(DIALOGUES)}", "demo_booked"]),
            NOW - timedelta(days=rng.randint(0, 60)),
            rng.randint(1, 3),
        )
        for _ in range(rng.randint(0, 6))
    ]
    return VisitorFacts(fields, activities, session_number=3)


def url(rng: random.Random) -> str:
    host = rng.choice(["example.com", "www.example.com"])
    segment = rng.choice([*SEGMENTS, "about", "contact", "", "legal"])
    rest = rng.choice(["", "/", "/intro", "/a-post-42", "/legal/terms"])
    query = rng.choice(["", "", "?utm_source=ads", "?utm_source=news&utm_medium=email"])
    return f"https://{host}/{segment}{rest}{query}"


def selection_microseconds() -> float:
    """The median time of one decision, in microseconds."""
    rng = random.Random(4)
    selector = compile_selector(dialogues(rng), SITES)
    decisions = [(rng.choice(["www", "www", "blog"]), PageFacts(url(rng)), visitor(rng)) for _ in range(VISITORS)]
    for site, page, facts in decisions:  # warm up
        selector.select(site, page, facts, NOW)
    timings = []
    for _ in range(3):
        for site, page, facts in decisions:
            started = time.perf_counter_ns()
            selector.select(site, page, facts, NOW)
            timings.append(time.perf_counter_ns() - started)
    return statistics.median(timings) / 1000


def main() -> None:
    print(f"selection: {selection_microseconds():.1f} us")  # noqa: T201


if __name__ == "__main__":
    main()
