"""Fixtures of the widget's browser tests: the demo website on, site "www" allowing the live server, a visitor's
own browser context (reduced motion: bot messages appear without the typing pause), screenshots to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from overture.db import Database
from overture.settings import Settings
from overture.sites.models import Site

from pages import SCREENSHOTS


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with the demo website on."""
    return settings.model_copy(update={"demo": True})


@pytest.fixture
def site(db: Database, live_server: str) -> str:
    """Site "www" (the demo's) allows the live server's pages, as an admin would add a customer's origin."""
    with db.write() as session:
        www = session.query(Site).filter_by(key="www").one()
        www.origins = [live_server]
    return live_server


@pytest.fixture
def visitor_context(browser: Browser, site: str) -> Iterator[BrowserContext]:
    """A visitor's browser: own storage, reduced motion (bot messages appear without the typing pause)."""
    context = browser.new_context(base_url=site, viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    context.set_default_timeout(15_000)  # a bound on failure, not a timing: a loaded machine is slow
    yield context
    context.close()


@pytest.fixture
def visitor(visitor_context: BrowserContext) -> Page:
    return visitor_context.new_page()


@pytest.fixture
def page_errors(visitor: Page) -> list[str]:
    """Uncaught exceptions and console errors on the visitor's page (CSP refusals are reported there)."""
    errors: list[str] = []
    visitor.on("pageerror", lambda error: errors.append(str(error)))
    visitor.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


@pytest.fixture
def shots() -> Path:
    """Screenshots a person looks at: tests/browser/screenshots (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
