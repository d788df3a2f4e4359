"""The compiled selector: the highest-priority eligible dialogue of the page's site wins, ties go to the most
recently published; explain says why every other dialogue did not show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overture.targeting.facts import ActivityFact, SiteFacts
from overture.targeting.selector import compile_selector

from .facts import NOW, page, published, visitor

PRICING = published(
    "pricing-demo",
    id=1,
    priority=10,
    pages={"include": [{"url": "https://*.example.com/pricing*"}], "exclude": [{"url": "https://example.com/legal*"}]},
    audience={"field": "company.employees", "op": "gte", "value": 200},
    trigger={"on": "time_on_page", "seconds": 20},
)
EVERYWHERE = published("everywhere", id=2, priority=1)
BLOG = published("blog-news", id=3, priority=50, site="blog")
BIG = {"company.employees": 500}


def test_the_highest_priority_eligible_dialogue_is_chosen() -> None:
    selector = compile_selector([EVERYWHERE, PRICING, BLOG], {"www": SiteFacts(), "blog": SiteFacts()})
    chosen = selector.select("www", page("https://www.example.com/pricing"), visitor(BIG), NOW)
    assert chosen is not None
    assert (chosen.key, chosen.id, chosen.version) == ("pricing-demo", 1, 1)
    assert chosen.trigger == {"on": "time_on_page", "seconds": 20}
    # a smaller company does not match the audience: the next one wins
    small = selector.select("www", page("https://www.example.com/pricing"), visitor({"company.employees": 20}), NOW)
    assert small is not None and small.key == "everywhere"
    # another site's dialogue never shows here, whatever its priority
    blog = selector.select("blog", page("https://blog.example.com/pricing"), visitor(BIG), NOW)
    assert blog is not None and blog.key == "blog-news"


def test_ties_go_to_the_most_recently_published() -> None:
    older = published("older", id=1, priority=5, published_at=datetime(2026, 1, 1, tzinfo=UTC))
    newer = published("newer", id=2, priority=5, published_at=datetime(2026, 2, 1))  # naive = UTC
    chosen = compile_selector([newer, older], {}).select("www", page(), visitor(), NOW)
    assert chosen is not None and chosen.key == "newer"


def test_nothing_is_chosen_when_nothing_matches() -> None:
    selector = compile_selector([PRICING], {})
    assert selector.select("www", page("https://example.com/about"), visitor(BIG), NOW) is None
    assert selector.select("unknown-site", page("https://example.com/pricing"), visitor(BIG), NOW) is None


def test_turning_chat_off_for_a_site_turns_off_all_its_dialogues() -> None:
    selector = compile_selector([EVERYWHERE, PRICING, BLOG], {"www": SiteFacts(chat_enabled=False)})
    assert selector.select("www", page("https://example.com/pricing"), visitor(BIG), NOW) is None
    assert selector.select("blog", page("https://example.com/"), visitor(BIG), NOW) is not None
    reasons = {item.key: item.reasons for item in selector.explain("www", page(), visitor(), NOW)}
    assert reasons["everywhere"] == ("chat is turned off for site www",)


def test_frequency_and_schedule_hold_dialogues_back() -> None:
    scheduled = published("scheduled", id=4, priority=30, schedule={"hours": "business", "timezone": "Europe/Paris"})
    selector = compile_selector([scheduled, EVERYWHERE], {})
    saturday = datetime(2026, 3, 21, 11, 0, tzinfo=UTC)
    chosen = selector.select("www", page(), visitor(), saturday)
    assert chosen is not None and chosen.key == "everywhere"
    completed = [ActivityFact("dialogue.completed", "everywhere", NOW - timedelta(days=3))]
    assert selector.select("www", page(), visitor({}, completed), saturday) is None


def test_a_trigger_met_in_an_earlier_session_carries_over() -> None:
    selector = compile_selector([PRICING], {})
    shown = [ActivityFact("dialogue.triggered", "pricing-demo", NOW - timedelta(days=1), session_number=1)]
    url = page("https://example.com/pricing")
    again = selector.select("www", url, visitor(BIG, shown, session=2), NOW)
    assert again is not None and again.trigger == {"on": "page_load", "carried_over": True}
    same_session = selector.select("www", url, visitor(BIG, shown, session=1), NOW)
    assert same_session is not None and same_session.trigger == {"on": "time_on_page", "seconds": 20}


def test_explain_gives_a_reason_for_every_dialogue() -> None:
    legal = published("legal-help", id=5, priority=3, pages={"exclude": [{"url": "https://example.com/legal*"}]})
    dismissed = published("dismissed", id=6, priority=2)
    scheduled = published("scheduled", id=7, priority=40, schedule={"hours": "business", "timezone": "Europe/Paris"})
    selector = compile_selector([PRICING, EVERYWHERE, BLOG, legal, dismissed, scheduled], {})
    saturday = datetime(2026, 3, 21, 11, 0, tzinfo=UTC)
    activities = [ActivityFact("dialogue.dismissed", "dismissed", saturday - timedelta(days=2))]
    explained = selector.explain(
        "www", page("https://example.com/legal/terms"), visitor({"company.employees": 120}, activities), saturday
    )
    by_key = {item.key: item for item in explained}
    assert [item.key for item in explained] == [
        "blog-news", "scheduled", "pricing-demo", "legal-help", "dismissed", "everywhere"
    ]  # fmt: skip
    assert by_key["blog-news"].reasons == ("belongs to site blog; this page is on site www",)
    assert by_key["scheduled"].reasons == ("outside business hours (Europe/Paris)",)
    assert by_key["pricing-demo"].reasons == (
        "page https://example.com/legal/terms is not in the include list",
        "audience: company.employees is 120, needs gte 200",
    )
    assert by_key["legal-help"].reasons == ("excluded by https://example.com/legal*",)
    assert by_key["dismissed"].reasons == ("dismissed 2 days ago; hidden for 7 days",)
    assert by_key["everywhere"].chosen and by_key["everywhere"].matched
    assert by_key["everywhere"].sentence == "shown: it matches and has the highest priority"
    assert not any(item.chosen for item in explained if item.key != "everywhere")


def test_explain_names_the_dialogue_that_won() -> None:
    selector = compile_selector([PRICING, EVERYWHERE], {})
    explained = selector.explain("www", page("https://example.com/pricing"), visitor(BIG), NOW)
    loser = next(item for item in explained if item.key == "everywhere")
    assert loser.matched and not loser.chosen
    assert loser.sentence == "another dialogue with higher priority (pricing-demo, 10) was chosen"
    twin = published("twin", id=9, priority=10, published_at=datetime(2025, 6, 1, tzinfo=UTC))
    explained = compile_selector([PRICING, twin], {}).explain(
        "www", page("https://example.com/pricing"), visitor(BIG), NOW
    )
    assert explained[1].sentence == (
        "another dialogue with the same priority (pricing-demo, 10), published more recently, was chosen"
    )
