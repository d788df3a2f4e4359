"""The demo website that `overture demo` serves at /demo: Overture's own pages that embed one site's widget."""

from __future__ import annotations

from dataclasses import dataclass

from overture.sites.addresses import lower_scheme_and_host

# The site the demo pages embed (their snippet's data-site) and the example dialogues name.
DEMO_SITE = "www"
DEMO_PATH = "/demo"


@dataclass(frozen=True)
class EmbeddedPages:
    """Pages under `prefix` (an address without a trailing slash) embed the widget of site `site`."""

    prefix: str
    site: str

    def holds(self, url: str) -> bool:
        """Whether `url` (scheme and host in lower case) is one of these pages."""
        rest = url.removeprefix(self.prefix)
        return rest != url and rest[:1] in ("", "/", "?", "#")


def demo_pages(base_url: str) -> EmbeddedPages:
    """The demo website's pages on the Overture at `base_url` (served only when the demo is on; elsewhere nobody
    asks about them)."""
    return EmbeddedPages(lower_scheme_and_host(base_url.rstrip("/")) + DEMO_PATH, DEMO_SITE)
