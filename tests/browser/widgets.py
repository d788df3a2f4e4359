"""The widget as a visitor sees it, for its browser tests: the places a visitor looks at (launcher, teaser, panel,
messages, answer box; Playwright's locators reach into the widget's open shadow root), and a test dialogue that asks
every kind of question, published live."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page

from overture.db import Database

from support import publish


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Open chat")


def teaser(page: Page) -> Locator:
    return page.locator("#overture-widget .t")


def teaser_words(page: Page) -> Locator:
    """The bot's latest words in the teaser, under the site's teaser text."""
    return teaser(page).locator("span")


def panel(page: Page) -> Locator:
    return page.get_by_role("dialog")


def messages(page: Page) -> Locator:
    return page.get_by_role("log").locator(".msg")


def answer_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Type your answer")


def plan_dialogue(
    key: str,
    trigger: dict[str, Any] | None = None,
    pages: tuple[str, ...] = ("/demo/pricing*",),
    frequency: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A dialogue on site www that asks every kind of question, ending with a goal."""
    return {
        "key": key,
        "name": f"Test {key}",
        "site": "www",
        "priority": 50,
        "pages": {"include": [{"url": url} for url in pages]},
        "trigger": trigger or {"on": "page_load"},
        "frequency": frequency or {"dismissed_hide_days": 7, "once_completed": True},
        "flow": {
            "start": "hello",
            "cards": {
                "hello": {
                    "say": ["Hi! I can help you pick a plan.", "Shall we?"],
                    "buttons": [{"label": "Yes please", "goto": "ask_email"}, {"label": "No thanks", "goto": "bye"}],
                },
                "ask_email": {"ask": "What is your work email?", "capture": "person.email", "goto": "ask_size"},
                "ask_size": {
                    "ask": "How many people work with you?",
                    "capture": "company.employees",
                    "error": "A number, please, for example 25.",
                    "goto": "ask_name",
                },
                "ask_name": {"ask": "And your first name?", "capture": "person.first_name", "goto": "done"},
                "done": {
                    "say": "Thanks {{ person.first_name or 'friend' }}! Our team will be in touch.",
                    "link": {"label": "Read our plans", "url": "/demo/pricing"},
                    "goal": {"name": "plan_help", "score": 2},
                    "end": True,
                },
                "bye": {"say": "No problem, enjoy your visit.", "end": True},
            },
        },
    }


def publish_test_dialogue(db: Database, key: str = "plan-help", **options: Any) -> None:
    publish(db, plan_dialogue(key, **options))
