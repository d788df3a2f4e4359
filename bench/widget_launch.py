"""How soon the launcher shows: from the moment the loader script has arrived (and is evaluated) to the moment the
launcher is on screen, on the demo's pricing page served locally, for a new visitor each time. The visit call's
round trip is inside the figure. Target (the widget issue): within 100 ms.

Prints `launcher: N ms after the script (median of R page loads)`.
Run: .venv-dev/bin/python bench/widget_launch.py   (Debian's chromium, headless, off the network)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from serving import server_process  # noqa: E402

LOADS = 25
CHROMIUM = "/usr/bin/chromium"

# Runs in the page before its scripts: notes when the widget's host element stops being hidden.
WATCH = """
window.__launcherShownAt = null;
new MutationObserver((changes, observer) => {
  const host = document.getElementById("overture-widget");
  if (host && !host.hidden) { window.__launcherShownAt = performance.now(); observer.disconnect(); }
}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["hidden"] });
"""
MEASURE = """() => {
  const script = performance.getEntriesByType("resource").find((entry) => entry.name.includes("/widget.js"));
  return window.__launcherShownAt === null || !script ? null : window.__launcherShownAt - script.responseEnd;
}"""


def serve(data_dir: str, port: int) -> None:
    import uvicorn

    from overture.settings import Settings
    from overture.web.app import create_app

    settings = Settings(data_dir=Path(data_dir), log_level="WARNING", demo=True, base_url=f"http://127.0.0.1:{port}")
    uvicorn.run(create_app(settings, start_jobs=False), host="127.0.0.1", port=port, log_level="warning")


def prepare(data_dir: str) -> None:
    from overture.cli.demo import seed_demo_content
    from overture.db import Database, migrate
    from overture.settings import Settings

    db = Database.from_url(Settings(data_dir=Path(data_dir)).database_url)
    migrate(db.engine)
    with db.write() as session:
        seed_demo_content(session)
    db.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        prepare(data_dir)
        with server_process(__file__, data_dir, "/healthz") as base:
            timings = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-proxy-server"])
                for _ in range(LOADS + 1):
                    # A new visitor (empty storage); the page's CSP would refuse the measuring script, not the widget.
                    context = browser.new_context(bypass_csp=True)
                    page = context.new_page()
                    page.add_init_script(WATCH)
                    page.goto(base + "/demo/pricing")
                    page.wait_for_function("window.__launcherShownAt !== null", timeout=10_000)
                    timings.append(page.evaluate(MEASURE))
                    context.close()
                browser.close()
    warm = [t for t in timings[1:] if t is not None]  # the first load warms the server's selector
    print(f"launcher: {statistics.median(warm):.0f} ms after the script (median of {len(warm)} page loads)")  # noqa: T201


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
