"""What the browser tests do again and again: find the areas and the heading, sign in, take a screenshot."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect


def area_links(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Areas").get_by_role("link")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(heading(page)).to_have_text(re.compile(r"^Welcome"))


def shoot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=folder / name, full_page=True)
