"""The consent gate in Chromium: on a site that requires consent, no request leaves the page but the loader's until
the host page calls Overture.consent(true) or the visitor accepts in the panel; nothing is stored before; withdrawing
stops the widget and forgets what it stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from overture.db import Database
from overture.sites.models import Site

from pages import axe_violations
from widgets import launcher, messages, panel, publish_test_dialogue, teaser

PAGE = "/demo/pricing-consent"
HOST_PAGE = """<!doctype html><html lang="en"><head><title>Pricing</title></head><body>
<main><h1>Pricing</h1><p>Plans for every team.</p></main>{before}
<script src="/widget.js" data-site="www" data-consent="required" async></script></body></html>"""


@pytest.fixture
def consent_site(db: Database, site: str) -> None:
    """Site www requires consent, and shows the plan dialogue on its pricing pages as soon as a page loads."""
    with db.write() as session:
        session.query(Site).filter_by(key="www").one().require_consent = True
    publish_test_dialogue(db)


def serve(page: Page, before: str = "") -> list[Request]:
    """The host page with the consent snippet; returns every request the page makes from now on, in order."""
    body = HOST_PAGE.format(before=before)
    page.route("**" + PAGE, lambda route: route.fulfill(status=200, content_type="text/html", body=body))
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    return requests


def paths(requests: list[Request]) -> list[str]:
    return [request.url.split("//", 1)[1].split("/", 1)[1].split("?")[0] for request in requests]


def stored(page: Page) -> dict[str, Any]:
    """What the widget keeps in this browser: its localStorage entries and cookies."""
    keys = page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('overture_'))")
    return {"storage": sorted(keys), "cookies": page.evaluate("() => document.cookie")}


def settled(page: Page) -> None:
    """The loader has run: its launcher is on screen and the network has gone quiet."""
    expect(launcher(page)).to_be_visible()
    page.wait_for_load_state("networkidle")


def test_no_request_leaves_before_the_page_consents_and_the_visit_follows_consent(
    visitor: Page, consent_site: None, page_errors: list[str]
) -> None:
    requests = serve(visitor)
    visitor.goto(PAGE)
    settled(visitor)
    assert paths(requests) == ["demo/pricing-consent", "widget.js"], "the page and the loader, nothing else"
    assert stored(visitor) == {"storage": [], "cookies": ""}

    with visitor.expect_request("**/api/v1/widget/visit") as visit:
        visitor.evaluate("() => Overture.consent(true)")
    assert json.loads(visit.value.post_data or "{}")["consent"] is True
    expect(teaser(visitor)).to_contain_text("Shall we?")  # the dialogue was chosen and triggered
    assert stored(visitor)["storage"] == [
        "overture_consent", "overture_conv", "overture_seen", "overture_t0", "overture_vid",
    ]  # fmt: skip
    assert page_errors == []


def test_withdrawing_consent_stops_the_widget_and_forgets_what_it_stored(visitor: Page, consent_site: None) -> None:
    requests = serve(visitor)
    visitor.goto(PAGE)
    settled(visitor)
    with visitor.expect_response("**/api/v1/widget/visit"):
        visitor.evaluate("() => Overture.consent(true)")
    expect(teaser(visitor)).to_be_visible()
    visitor.wait_for_load_state("networkidle")

    visitor.evaluate("() => Overture.consent(false)")
    assert stored(visitor) == {"storage": [], "cookies": ""}
    expect(visitor.locator("#overture-widget")).to_be_hidden()
    made = len(requests)
    visitor.evaluate("() => history.pushState({}, '', '/demo/pricing-consent?plan=team')")  # a new page of an SPA
    assert visitor.evaluate("() => Overture.identify({email: 'ada@example.com', signature: 'x'})") is False
    visitor.wait_for_load_state("networkidle")
    assert requests[made:] == [], "no visit, no identify: nothing leaves after withdrawal"


def test_the_visitor_accepts_in_the_panel_and_the_chat_begins(
    visitor: Page, consent_site: None, shots: Path, page_errors: list[str]
) -> None:
    requests = serve(visitor)
    visitor.goto(PAGE)
    settled(visitor)
    launcher(visitor).click()
    prompt = panel(visitor).get_by_role("group", name="To chat, this site keeps an id in your browser")
    expect(prompt).to_be_visible()
    accept = prompt.get_by_role("button", name="Accept and chat")
    expect(accept).to_be_focused()
    visitor.screenshot(path=str(shots / "widget-consent-prompt.png"))
    assert axe_violations(visitor) == []
    assert not [path for path in paths(requests) if path.startswith("api/")], "the prompt sends nothing"
    assert stored(visitor) == {"storage": [], "cookies": ""}

    with visitor.expect_request("**/api/v1/widget/visit"):
        accept.click()
    expect(messages(visitor).first).to_contain_text("Hi! I can help you pick a plan.")
    expect(prompt).to_be_hidden()
    expect(panel(visitor).get_by_role("button", name="Yes please")).to_be_visible()
    assert "overture_vid" in stored(visitor)["storage"]

    with visitor.expect_request("**/api/v1/widget/visit"):
        visitor.reload()  # consent is remembered: the next page records at once
    assert page_errors == []


def test_declining_in_the_panel_sends_and_stores_nothing(visitor: Page, consent_site: None) -> None:
    requests = serve(visitor)
    visitor.goto(PAGE)
    settled(visitor)
    launcher(visitor).click()
    panel(visitor).get_by_role("button", name="No thanks").click()
    expect(panel(visitor)).to_be_hidden()
    expect(launcher(visitor)).to_be_focused()
    visitor.wait_for_load_state("networkidle")
    assert not [path for path in paths(requests) if path.startswith("api/")]
    assert stored(visitor) == {"storage": [], "cookies": ""}


def test_a_page_that_consented_before_the_loader_arrived_is_heard(visitor: Page, consent_site: None) -> None:
    # The consent manager answered first: the page left its answer where the loader looks for it.
    requests = serve(visitor, before="<script>window.Overture = {consent: true};</script>")
    with visitor.expect_request("**/api/v1/widget/visit"):
        visitor.goto(PAGE)
    expect(teaser(visitor)).to_be_visible()
    assert "api/v1/widget/visit" in paths(requests)


def documented_helper() -> str:
    """The `overtureConsent` helper of docs/widget.md, as a site pastes it."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "widget.md").read_text()
    start = text.index("<script>\n  function overtureConsent")
    return text[start : text.index("</script>", start) + len("</script>")]


@pytest.mark.parametrize("answer_first", [True, False], ids=["cmp-before-loader", "cmp-after-loader"])
def test_the_documented_consent_manager_helper_works_whoever_answers_first(
    visitor: Page, consent_site: None, answer_first: bool
) -> None:
    before = documented_helper() + ("<script>overtureConsent(true);</script>" if answer_first else "")
    requests = serve(visitor, before=before)
    visitor.goto(PAGE)
    if not answer_first:
        settled(visitor)
        assert "api/v1/widget/visit" not in paths(requests)
        visitor.evaluate("() => overtureConsent(true)")
    expect(teaser(visitor)).to_be_visible()
    assert paths(requests).count("api/v1/widget/visit") == 1
    visitor.evaluate("() => overtureConsent(false)")
    assert stored(visitor) == {"storage": [], "cookies": ""}
