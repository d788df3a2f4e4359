"""The widget and the host page: the events a site forwards to its analytics (goals, captured field names, never
values), reusable flows opened from the page (Overture.open, data-overture-flow, data-overture-inline), and the
appearance settings the loader and panel apply (launcher icon, teaser text and devices, new-message sound)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from overture.db import Database
from overture.sites import appearance
from overture.sites.models import Site

from support import example, publish
from widgets import answer_box, launcher, messages, panel, publish_test_dialogue, teaser

LANDING = "/demo/landing-with-flows"
LANDING_PAGE = """<!doctype html><html lang="en"><head><title>Book a call</title></head><body>
<main><h1>Talk to us</h1>
<button id="qualify" data-overture-flow="qualify">Check if we fit</button>
<section id="booking" data-overture-inline="qualify"><p>Loading the chat…</p></section>
</main><script src="/widget.js" data-site="www" async></script></body></html>"""


def serve_landing(page: Page) -> None:
    """A customer's landing page on the allowed origin, with a flow button and an inline flow."""
    page.route("**" + LANDING, lambda route: route.fulfill(status=200, content_type="text/html", body=LANDING_PAGE))


def set_appearance(db: Database, **settings: Any) -> None:
    with db.write() as session:
        www = session.query(Site).filter_by(key="www").one()
        appearance.save(session, www, settings)


def record_host_events(page: Page) -> list[tuple[str, dict[str, Any]]]:
    """Subscribes through Overture.on, as a site's analytics code does, to every event the widget emits."""
    seen: list[tuple[str, dict[str, Any]]] = []
    page.expose_function("record", lambda name, detail: seen.append((name, json.loads(detail))))
    page.wait_for_function("() => window.Overture && window.Overture.on")
    page.evaluate(
        "() => ['triggered', 'engaged', 'field_captured', 'goal_reached', 'meeting_booked', 'completed']"
        ".forEach((n) => Overture.on(n, (d) => window.record(n, JSON.stringify(d))))"
    )
    return seen


def test_the_host_page_hears_goals_and_captured_field_names_but_never_the_values(
    visitor: Page, db: Database, page_errors: list[str]
) -> None:
    # The visitor opens the chat before the trigger could fire (an hour): no "triggered" event races the test.
    publish_test_dialogue(db, trigger={"on": "time_on_page", "seconds": 3600})
    visitor.goto("/demo/pricing")
    seen = record_host_events(visitor)
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    for typed in ("ada@example.com", "25", "Ada"):
        answer_box(visitor).fill(typed)
        answer_box(visitor).press("Enter")
    expect(visitor.get_by_text("This conversation has ended.")).to_be_visible()
    for _ in range(100):  # the page hands events over asynchronously: wait (bounded) until all six arrived
        if len(seen) >= 6:
            break
        visitor.wait_for_timeout(50)

    assert [name for name, _ in seen] == [
        "engaged",
        "field_captured",
        "field_captured",
        "field_captured",
        "goal_reached",
        "completed",
    ]
    fields = [detail["field"] for name, detail in seen if name == "field_captured"]
    assert fields == ["person.email", "company.employees", "person.first_name"]
    assert ("goal_reached", {"dialogue": "plan-help", "goal": "plan_help"}) in seen
    assert "ada@example.com" not in json.dumps(seen) and "Ada" not in json.dumps(seen)
    assert page_errors == []


def test_a_button_with_data_overture_flow_opens_that_flow_in_the_popup(
    visitor: Page, db: Database, page_errors: list[str]
) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    serve_landing(visitor)
    visitor.goto(LANDING)
    visitor.get_by_role("button", name="Check if we fit").click()

    expect(panel(visitor)).to_be_visible()
    expect(panel(visitor).get_by_role("log").locator(".msg")).to_have_text(
        ["Assistant: First, what is your first name?"]
    )
    expect(panel(visitor).get_by_role("textbox", name="Type your answer")).to_be_focused()
    assert page_errors == []


def test_overture_open_with_a_flow_key_opens_the_flow(visitor: Page, db: Database) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    expect(teaser(visitor)).to_be_visible()  # the page's own dialogue triggered
    visitor.evaluate("() => Overture.open('qualify')")
    expect(messages(visitor)).to_have_text(["Assistant: First, what is your first name?"])


def test_an_element_with_data_overture_inline_runs_the_flow_inside_it_to_its_end(
    visitor: Page, db: Database, page_errors: list[str]
) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    serve_landing(visitor)
    visitor.goto(LANDING)
    seen = record_host_events(visitor)
    inline = visitor.locator("#booking").get_by_role("region")
    expect(inline.get_by_role("log").locator(".msg")).to_have_text(["Assistant: First, what is your first name?"])
    expect(visitor.locator("#booking")).not_to_contain_text("Loading the chat")
    expect(panel(visitor)).to_have_count(0)  # not the popup
    box = inline.get_by_role("textbox", name="Type your answer")
    expect(box).not_to_be_focused()  # the page's own focus is left alone until the visitor uses the chat

    for typed in ("Ada", "ada@agency.example", "40", "CTO"):
        box.fill(typed)
        box.press("Enter")
    inline.get_by_role("button", name="Germany").click()

    expect(inline.get_by_text("This conversation has ended.")).to_be_visible()
    assert [name for name, _ in seen][-1] == "completed"
    assert ("field_captured", {"dialogue": "qualify", "field": "company.country"}) in seen
    visitor.reload()  # the inline chat goes on where it was
    expect(visitor.locator("#booking").get_by_role("log").locator(".msg").last).to_be_attached()
    assert page_errors == []


def test_the_launcher_shows_the_icon_the_site_chose(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    set_appearance(db, launcher={"icon": "sparkle"})
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    icon = launcher(visitor).locator("path")
    expect(icon).to_have_attribute("d", re.compile(r"^M12 2l2\.5 7\.5"))  # the sparkle, not the chat bubble
    assert (icon.bounding_box() or {}).get("width", 0) > 10


@pytest.mark.parametrize(("colour", "ink"), [("#1f5fbf", "rgb(255, 255, 255)"), ("#ffee00", "rgb(17, 17, 17)")])
def test_the_launcher_icon_is_drawn_in_the_colour_that_reads_on_the_launcher(
    visitor: Page, db: Database, colour: str, ink: str
) -> None:
    publish_test_dialogue(db)
    set_appearance(db, colors={"launcher": colour})
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    expect(launcher(visitor).locator("path")).to_have_css("fill", ink)


BUTTONS_FIRST = {
    "key": "buttons-first",
    "name": "Buttons first",
    "site": "www",
    "pages": {"include": [{"url": "/demo/pricing*"}]},
    "trigger": {"on": "page_load"},
    # The first card only offers buttons: the bot has said nothing yet, so the teaser says the site's text.
    "flow": {
        "start": "pick",
        "cards": {"pick": {"buttons": [{"label": "Plans", "goto": "bye"}]}, "bye": {"say": "Bye!", "end": True}},
    },
}


def started(page: Page) -> Locator:
    """The (closed) panel, built when the triggered dialogue's conversation has started."""
    return page.locator("#overture-widget .panel")


@pytest.mark.parametrize("shown_on", ["desktop", "mobile"])
def test_the_teaser_says_the_sites_text_only_on_the_devices_the_site_chose(
    browser: Browser, site: str, db: Database, shown_on: str
) -> None:
    publish(db, BUTTONS_FIRST)
    set_appearance(
        db,
        teaser={
            "text": "Need a hand choosing a plan?",
            "desktop": shown_on == "desktop",
            "mobile": shown_on == "mobile",
        },
    )
    pages = {}
    for device, width in (("desktop", 1280), ("mobile", 375)):
        context = browser.new_context(base_url=site, viewport={"width": width, "height": 700}, reduced_motion="reduce")
        pages[device] = context.new_page()
        pages[device].goto("/demo/pricing")
        expect(started(pages[device])).to_be_attached()  # the dialogue triggered: a teaser shows now, or never
    hidden_on = "mobile" if shown_on == "desktop" else "desktop"
    expect(teaser(pages[shown_on])).to_have_text("Need a hand choosing a plan?")
    expect(teaser(pages[hidden_on])).to_be_hidden()
    expect(launcher(pages[hidden_on])).to_be_visible()
    for page in pages.values():
        page.context.close()


COUNT_TONES = """
window.tones = 0;
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.tones += 1; return make.call(this); };
"""


def tones(page: Page) -> int:
    return int(page.evaluate("() => window.tones"))


def test_a_new_message_sound_plays_when_turned_on_once_the_visitor_acted(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    set_appearance(db, sound="chime")
    visitor.add_init_script(COUNT_TONES)
    visitor.goto("/demo/pricing")
    expect(teaser(visitor)).to_be_visible()
    assert tones(visitor) == 0, "no sound before the visitor has done anything on the page"
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    expect(messages(visitor).last).to_have_text("Assistant: What is your work email?")
    assert tones(visitor) == 2  # the chime's two notes


def test_no_sound_plays_when_the_site_leaves_it_off(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    visitor.add_init_script(COUNT_TONES)
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    expect(messages(visitor).last).to_have_text("Assistant: What is your work email?")
    assert tones(visitor) == 0
