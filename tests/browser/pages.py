"""What the browser tests do on any page: find the admin's areas and the heading, sign in, take a screenshot, and
list a page's accessibility violations (axe-core)."""

from __future__ import annotations

import re
import subprocess
import tarfile
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE_CACHE = Path.home() / ".cache" / "overture-tests" / "axe-core"


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


def axe_script() -> str:
    """axe-core's axe.min.js, from its npm package (fetched once with `npm pack` into a cache folder;
    scripts/install-test-deps fetches it too)."""
    script = AXE_CACHE / "package" / "axe.min.js"
    if not script.exists():
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        packed = (
            subprocess.run(
                ["npm", "pack", "axe-core@4", "--pack-destination", str(AXE_CACHE), "--silent"],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with tarfile.open(AXE_CACHE / packed) as archive:
            archive.extractall(AXE_CACHE, filter="data")
    return script.read_text()


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page, the widget's shadow root included, as readable lines."""
    page.add_script_tag(content=axe_script())
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
          return result.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
        }"""
    )
    return list(found)
