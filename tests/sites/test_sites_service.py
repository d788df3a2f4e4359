"""Sites: add, change and delete, every setting checked and normalised, origins matched, the targeting signal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from overture import signals
from overture.db import Database
from overture.errors import Conflict, InvalidInput, NotFound
from overture.sites import origins
from overture.sites import service as sites
from overture.sites.models import DEFAULT_BLOCKED_MESSAGE, Site
from overture.sites.service import SiteChanges

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.write() as writing:
        yield writing


def problems_of(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.path: p.message for p in error.value.problems}


def site_with(origins: list[str]) -> Site:
    return Site(key="shop", name="Main", origins=origins)


def test_a_new_site_gets_defaults_and_bumps_the_targeting_signal(session: Session) -> None:
    before = signals.generation(session, signals.TARGETING)
    site = sites.create(session, "shop", SiteChanges(name="Main website"), NOW)
    assert (site.chat_enabled, site.origins, site.blocked_email_message) == (True, [], DEFAULT_BLOCKED_MESSAGE)
    assert site.language_order == ["url", "page", "browser"]
    keys = [s.key for s in sites.list_sites(session)]
    assert keys[0] == "default" and "shop" in keys, "the default site comes first"
    assert signals.generation(session, signals.TARGETING) == before + 1


def test_origins_and_domains_are_normalised_and_deduplicated(session: Session) -> None:
    site = sites.create(
        session,
        "shop",
        SiteChanges(
            name="Main",
            origins=["HTTPS://WWW.Example.com/", "https://*.example.com", "https://www.example.com:443",
                     "https://shop.example.com:8443", "http://localhost:3000", "https://bücher.de"],
            blocked_email_domains=["@Rival.com", "rival.com", "gmail.com."],
        ),
        NOW,
    )  # fmt: skip
    assert site.origins == [
        "https://www.example.com",
        "https://*.example.com",
        "https://shop.example.com:8443",
        "http://localhost:3000",
        "https://xn--bcher-kva.de",
    ]
    assert site.blocked_email_domains == ["rival.com", "gmail.com"]


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("www.example.com", "has no scheme: write it in full, e.g. https://www.example.com."),
        ("ftp://example.com", "must start with https://"),
        ("https://www.example.com/pricing", "has a path"),
        ("https://www.example.com?x=1", "has a path"),
        ("http://www.example.com", "use https. Plain http is allowed only for localhost and 127.0.0.1."),
        ("https://www.*.example.com", "a wildcard is allowed only at the start"),
        ("https://*.com", "a wildcard must cover the subdomains of one domain"),
        ("https://*.10.0.0.1", "not of an IP address"),
        ("https://exa_mple.com", "is not a valid host name"),
        ("https://www.example.com:99999", "port that is not a number from 1 to 65535"),
        ("https://user@example.com", "has a user name"),
        ("https://www.example.com https://b.com", "write one origin per line"),
        ("https://", "has no host name"),
    ],
)
def test_a_bad_origin_is_refused_with_the_reason_and_its_position(session: Session, origin: str, message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        sites.create(session, "shop", SiteChanges(name="Main", origins=["https://ok.example.com", origin]), NOW)
    assert message in problems_of(error)["origins.1"]


def test_every_bad_setting_is_listed_at_once(session: Session) -> None:
    with pytest.raises(InvalidInput) as error:
        sites.create(
            session,
            "WWW site",
            SiteChanges(
                blocked_email_domains=["rival", "ok.com", "bad domain.com"],
                blocked_email_message="",
                language_order=["page", "cookie", "page"],
            ),
            NOW,
        )
    problems = problems_of(error)
    assert problems["key"].startswith("Use 1 to 80 lower-case letters, digits, - and _")
    assert problems["name"] == "Give the site a name, e.g. Main website."
    assert problems["blocked_email_domains.0"] == "'rival' is not a domain: write it like example.com."
    assert "blocked_email_domains.2" in problems
    assert problems["blocked_email_message"] == "The message for blocked emails is empty: write one."
    assert problems["language_order.1"] == "'cookie' is not a language source: use url, page or browser."
    assert problems["language_order.2"] == "'page' is listed twice."


def test_long_or_invisible_texts_are_refused(session: Session) -> None:
    site = sites.get(session, "default")
    with pytest.raises(InvalidInput) as error:
        sites.update(session, site, SiteChanges(name="n" * 201, blocked_email_message="m" * 501))
    assert "at most 200 characters" in problems_of(error)["name"]
    assert "at most 500 characters" in problems_of(error)["blocked_email_message"]
    with pytest.raises(InvalidInput) as error:
        sites.update(session, site, SiteChanges(name="bad\x00name"))
    assert "control characters" in problems_of(error)["name"]


def test_a_taken_key_is_refused(session: Session) -> None:
    with pytest.raises(Conflict, match="A site with the key 'default' exists already."):
        sites.create(session, "default", SiteChanges(name="Again"), NOW)


def test_an_update_changes_only_what_is_given_and_a_bad_one_changes_nothing(session: Session) -> None:
    site = sites.create(session, "shop", SiteChanges(name="Main", origins=["https://www.example.com"]), NOW)
    before = signals.generation(session, signals.TARGETING)
    sites.update(session, site, SiteChanges(chat_enabled=False, language_order=["browser"], block_free_email=True))
    assert (site.chat_enabled, site.language_order, site.block_free_email) == (False, ["browser"], True)
    assert site.origins == ["https://www.example.com"] and site.name == "Main"
    assert signals.generation(session, signals.TARGETING) == before + 1

    with pytest.raises(InvalidInput, match="The site 'shop' is not changed"):
        sites.update(session, site, SiteChanges(name="Renamed", origins=["not an origin"]))
    assert site.name == "Main" and site.origins == ["https://www.example.com"]
    assert signals.generation(session, signals.TARGETING) == before + 1


def test_an_empty_language_order_is_allowed(session: Session) -> None:
    site = sites.update(session, sites.get(session, "default"), SiteChanges(language_order=[]))
    assert site.language_order == []


def test_a_site_named_by_a_dialogue_cannot_be_deleted(session: Session) -> None:
    site = sites.create(session, "shop", SiteChanges(name="Main"), NOW)
    with pytest.raises(Conflict, match="these dialogues name it: demo, pricing"):
        sites.delete(session, site, ["pricing", "demo"])
    with pytest.raises(Conflict, match="The default site cannot be deleted"):
        sites.delete(session, sites.get(session, "default"), [])
    before = signals.generation(session, signals.TARGETING)
    sites.delete(session, site, [])
    with pytest.raises(NotFound, match="There is no site with the key 'shop'."):
        sites.get(session, "shop")
    assert signals.generation(session, signals.TARGETING) == before + 1


def test_the_snippet_loads_the_widget_for_the_site() -> None:
    snippet = sites.snippet(Site(key="shop", name="Main"), "https://chat.example.com/")
    assert snippet == '<script src="https://chat.example.com/widget.js" data-site="shop" async></script>'


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser
        ("https://www.example.com", True),
        ("https://WWW.example.com", True),
        ("https://shop.example.com", True),  # *.example.com
        ("https://a.b.example.com", True),
        ("https://example.com", False),  # the wildcard covers subdomains only
        ("https://evil-example.com", False),
        ("https://example.com.evil.com", False),
        ("http://shop.example.com", False),  # another scheme
        ("https://overture.example.org", True),  # Overture's own pages
        ("https://other.org", False),
        ("null", False),
    ],
)
def test_origin_allowed_follows_the_site_s_origins(origin: str | None, allowed: bool) -> None:
    site = site_with(["https://www.example.com", "https://*.example.com"])
    assert origins.origin_allowed(site.origins, origin, "https://overture.example.org/chat") is allowed


@pytest.mark.parametrize(
    ("origin", "page_url", "refused"),
    [
        ("https://www.example.com", "https://www.example.com/pricing", None),
        ("https://www.example.com", "HTTPS://Shop.Example.com:443/cart", None),  # case and default port as browsers
        ("https://www.example.com", "https://evil.test/pricing", "https://evil.test"),
        ("https://www.example.com", "https://www.example.com:8443/", "https://www.example.com:8443"),
        ("https://www.example.com", "", None),  # the call names no page
        ("https://www.example.com", "about:srcdoc", None),  # not an address of a site: the Origin decides
        ("https://www.example.com", "http://[", None),
        ("https://evil.test", "https://www.example.com/pricing", "https://evil.test"),  # the Origin decides first
        (None, "https://evil.test/pricing", None),  # not a browser page: its page address is only its claim
    ],
)
def test_a_browser_page_is_judged_by_its_origin_and_the_page_address_it_names(
    origin: str | None, page_url: str, refused: str | None
) -> None:
    allowed = ["https://www.example.com", "https://*.example.com"]
    assert origins.refused_origin(allowed, origin, page_url, "https://overture.example.org") == refused
