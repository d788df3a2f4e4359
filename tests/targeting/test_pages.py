"""Page rules: every matcher kind (url wildcards, path only, contains, regex, query) and the edge cases of hosts,
trailing slashes, case, ports and fragments; include and exclude lists."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overture.dialogues.document import Link, PageRule, Pages
from overture.sites.addresses import lower_scheme_and_host, normalise_origin
from overture.targeting.pages import Address, compile_pages, compile_rule
from overture.visits.schemas import VisitIn


def matches(rule: dict[str, Any], url: str) -> bool:
    return compile_rule(PageRule.model_validate(rule)).test(Address(url))


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        ("*", "https://anything.test/at/all?x=1", True),
        # a leading *. covers subdomains, deeper subdomains and the bare domain
        ("https://*.example.com/*", "https://www.example.com/pricing", True),
        ("https://*.example.com/*", "https://a.b.example.com/", True),
        ("https://*.example.com/*", "https://example.com/", True),
        ("https://*.example.com/*", "https://example.com", True),
        ("https://*.example.com/*", "https://badexample.com/", False),
        ("https://*.example.com/*", "https://example.com.evil.test/", False),
        ("https://*.example.com/*", "http://www.example.com/", False),
        # * within a label stays within the label
        ("https://shop-*.example.com/", "https://shop-fr.example.com/", True),
        ("https://shop-*.example.com/", "https://shop-fr.eu.example.com/", False),
        # exact address, trailing slash tolerant both ways
        ("https://example.com/pricing", "https://example.com/pricing", True),
        ("https://example.com/pricing", "https://example.com/pricing/", True),
        ("https://example.com/pricing/", "https://example.com/pricing", True),
        ("https://example.com/pricing", "https://example.com/pricing/team", False),
        ("https://example.com/pricing/*", "https://example.com/pricing", True),
        ("https://example.com/pricing/*", "https://example.com/pricing/team/x", True),
        ("https://example.com/pricing/*", "https://example.com/pricing-old", False),
        ("https://example.com/pricing*", "https://example.com/pricing-old", True),
        ("https://example.com", "https://example.com/", True),
        ("https://example.com/", "https://example.com/about", False),
        # scheme and host ignore case, the path does not
        ("https://Example.COM/pricing", "HTTPS://EXAMPLE.com/pricing", True),
        ("https://example.com/pricing", "https://example.com/Pricing", False),
        # default ports, user info and fragments do not matter; other ports do
        ("https://example.com/pricing", "https://example.com:443/pricing#plans", True),
        ("https://example.com/pricing", "https://bob@example.com/pricing", True),
        ("https://example.com/pricing", "https://example.com:8443/pricing", False),
        ("http://localhost:8000/*", "http://localhost:8000/a", True),
        # no scheme: http or https
        ("example.com/pricing", "http://example.com/pricing", True),
        ("example.com/pricing", "https://example.com/pricing", True),
        # query ignored unless the pattern has one
        ("https://example.com/pricing", "https://example.com/pricing?utm_source=ads", True),
        ("https://example.com/search?q=*", "https://example.com/search?q=shoes", True),
        ("https://example.com/search?q=*", "https://example.com/search", False),
        # path only: any host
        ("/pricing*", "https://www.example.com/pricing/team", True),
        ("/pricing*", "https://other.test/pricing", True),
        ("/pricing*", "https://example.com/about/pricing", False),
        ("/", "https://example.com/", True),
        ("/", "https://example.com", True),
        ("/", "https://example.com/about", False),
        ("/*", "https://example.com/about", True),
        ("/blog/*/comments", "https://example.com/blog/2026/post/comments", True),
        ("/search?q=*", "https://example.com/search?q=a", True),
    ],
)
def test_url_patterns(pattern: str, url: str, expected: bool) -> None:
    assert matches({"url": pattern}, url) is expected


@pytest.mark.parametrize(
    ("needle", "url", "expected"),
    [
        ("/blog/", "https://example.com/blog/post", True),
        ("/blog/", "https://example.com/blog", False),
        ("utm_source=ads", "https://example.com/?utm_source=ads", True),
        ("example.com/blog", "https://EXAMPLE.com/blog", True),
        ("/Blog/", "https://example.com/blog/post", False),
    ],
)
def test_url_contains_looks_in_the_whole_address(needle: str, url: str, expected: bool) -> None:
    assert matches({"url_contains": needle}, url) is expected


def test_url_regex_searches_the_address_without_its_query() -> None:
    rule = {"url_regex": r"^https://example\.com/(fr|de)/blog/[a-z0-9-]+$"}
    assert matches(rule, "https://example.com/fr/blog/my-post")
    assert matches(rule, "https://EXAMPLE.com/de/blog/post-2?utm_source=x")
    assert not matches(rule, "https://example.com/en/blog/my-post")
    assert matches({"url_regex": "pricing"}, "https://example.com/a/pricing/b")


def test_url_regex_is_cut_to_a_bounded_address() -> None:
    long_path = "/" + "a" * 5000
    assert not matches({"url_regex": "a{600}"}, "https://example.com" + long_path)
    assert matches({"url_regex": "a{400}"}, "https://example.com" + long_path)


@pytest.mark.parametrize(
    ("query", "url", "expected"),
    [
        ({"utm_source": "ads"}, "https://example.com/?utm_source=ads", True),
        ({"utm_source": "ads"}, "https://example.com/?utm_source=ADS&x=1", True),
        ({"utm_source": "ads"}, "https://example.com/?utm_source=news", False),
        ({"utm_source": "ads"}, "https://example.com/", False),
        ({"utm_source": "*"}, "https://example.com/?utm_source=", True),
        ({"utm_source": "*"}, "https://example.com/?other=1", False),
        ({"utm_source": "ads", "utm_medium": "cpc"}, "https://example.com/?utm_source=ads", False),
        ({"utm_source": "ads", "utm_medium": "cpc"}, "https://example.com/?utm_medium=cpc&utm_source=ads", True),
        ({"tag": "b"}, "https://example.com/?tag=a&tag=b", True),
    ],
)
def test_query_rules_need_every_listed_parameter(query: dict[str, str], url: str, expected: bool) -> None:
    assert matches({"query": query}, url) is expected


def test_a_query_with_a_url_needs_both() -> None:
    rule = {"url": "/pricing*", "query": {"utm_source": "ads"}}
    assert matches(rule, "https://example.com/pricing?utm_source=ads")
    assert not matches(rule, "https://example.com/pricing")
    assert not matches(rule, "https://example.com/about?utm_source=ads")


# --- scheme and host ignore case wherever an address is read ----------------------------------------------------


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("HTTPS://Example.COM", "https://example.com"),
        ("HTTPS://Example.COM:443/Pricing?Plan=Pro#Top", "https://example.com/Pricing?Plan=Pro#Top"),
        ("Http://Bob@LocalHost:80/A", "http://Bob@localhost/A"),
        ("https://Example.com:8443/", "https://example.com:8443/"),
        ("HTTPS://*.Example.COM/*", "https://*.example.com/*"),
        ("/Pricing*", "/Pricing*"),
        ("Example.COM/Pricing", "Example.COM/Pricing"),
    ],
)
def test_an_address_is_read_with_scheme_and_host_in_lower_case_and_its_path_as_written(given: str, read: str) -> None:
    assert lower_scheme_and_host(given) == read


@pytest.mark.parametrize(
    "pattern", ["HTTPS://Example.COM/pricing", "HTTPS://Example.COM:443/pricing", "HTTPS://*.Example.COM/pricing"]
)
def test_a_page_rule_written_in_capitals_matches_the_page(pattern: str) -> None:
    assert matches({"url": pattern}, "https://example.com/pricing")
    assert matches({"url": pattern}, "HTTPS://EXAMPLE.COM:443/pricing")
    assert not matches({"url": pattern}, "https://example.com/Pricing")


def test_the_visit_call_takes_a_page_address_in_capitals_and_reads_it_in_lower_case() -> None:
    visit = VisitIn.model_validate({"site": "www", "url": "HTTPS://Example.COM/Pricing?Plan=Pro"})
    assert visit.url == "https://example.com/Pricing?Plan=Pro"
    assert pages(include=[{"url": "HTTPS://Example.COM/Pricing*"}]).matches(Address(visit.url))


def test_a_site_origin_in_capitals_is_stored_as_browsers_send_it() -> None:
    assert normalise_origin("HTTPS://WWW.Example.COM:443") == "https://www.example.com"
    assert normalise_origin("HTTP://LocalHost:8000/") == "http://localhost:8000"


def test_a_link_in_capitals_is_a_link() -> None:
    card = Link.model_validate({"label": "Guide", "url": "HTTPS://Example.COM/Guide.pdf"})
    assert card.url == "https://example.com/Guide.pdf"


def test_an_address_that_cannot_be_parsed_matches_only_catch_alls() -> None:
    assert matches({"url": "*"}, "http://[broken/")
    assert not matches({"url": "/broken*"}, "http://[broken/")


def pages(include: list[dict[str, Any]] = [], exclude: list[dict[str, Any]] = []) -> Any:  # noqa: B006
    return compile_pages(Pages.model_validate({"include": include, "exclude": exclude}))


def test_no_include_rule_means_every_page_and_exclude_wins() -> None:
    matcher = pages(exclude=[{"url": "https://example.com/pricing/legal*"}])
    assert matcher.matches(Address("https://example.com/anything"))
    assert not matcher.matches(Address("https://example.com/pricing/legal/terms"))
    assert matcher.why_not(Address("https://example.com/pricing/legal")) == (
        "excluded by https://example.com/pricing/legal*"
    )


def test_any_include_rule_is_enough() -> None:
    matcher = pages(include=[{"url": "/pricing*"}, {"url_contains": "/blog/"}])
    assert matcher.matches(Address("https://example.com/blog/x"))
    assert matcher.matches(Address("https://example.com/pricing"))
    assert not matcher.matches(Address("https://example.com/about"))
    assert matcher.why_not(Address("https://example.com/about")) == (
        "page https://example.com/about is not in the include list"
    )


def test_page_rules_know_which_paths_they_can_match() -> None:
    matcher = pages(include=[{"url": "/pricing*"}, {"url": "https://*.example.com/blog/*/comments"}])
    assert matcher.prefixes == {"pricing", "blog/"}
    assert matcher.fits_segment("pricing-old") and matcher.fits_segment("blog")
    assert not matcher.fits_segment("blogs") and not matcher.fits_segment("") and not matcher.fits_segment("about")
    assert pages(include=[{"url": "/pricing*"}, {"url_contains": "x"}]).prefixes is None
    assert pages(include=[{"url": "https://*.example.com/*"}]).prefixes is None
    assert pages().prefixes is None


PATHS = st.lists(st.sampled_from(["pricing", "blog", "legal", "a", "", "Pricing"]), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)
RULES = st.one_of(
    PATHS.map(lambda path: {"url": path + "*"}),
    PATHS.map(lambda path: {"url": "https://*.example.com" + path}),
    st.sampled_from(["legal", "blog/", "?x=1"]).map(lambda text: {"url_contains": text}),
    st.sampled_from(["ads", "*"]).map(lambda value: {"query": {"utm_source": value}}),
)


@given(
    include=st.lists(RULES, max_size=3),
    exclude=st.lists(RULES, min_size=1, max_size=3),
    path=PATHS,
    query=st.sampled_from(["", "?utm_source=ads", "?x=1"]),
)
def test_exclude_always_wins(
    include: list[dict[str, Any]], exclude: list[dict[str, Any]], path: str, query: str
) -> None:
    address = Address("https://www.example.com" + path + query)
    excluded = any(compile_rule(PageRule.model_validate(rule)).test(address) for rule in exclude)
    matcher = pages(include, exclude)
    if excluded:
        assert not matcher.matches(address)
    # and a page that matches is in the include list (or there is none)
    if matcher.matches(address):
        assert not include or any(compile_rule(PageRule.model_validate(rule)).test(address) for rule in include)


@given(path=PATHS, pattern=PATHS, star=st.booleans())
def test_a_page_whose_first_segment_does_not_fit_never_matches(path: str, pattern: str, star: bool) -> None:
    matcher = pages(include=[{"url": pattern + ("*" if star else "")}])
    address = Address("https://example.com" + path)
    if not matcher.fits_segment(address.segment):
        assert not matcher.matches(address)
