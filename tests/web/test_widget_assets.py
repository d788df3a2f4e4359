"""The widget's files as browsers fetch them: right types, an ETag with 304 on revalidation, long caching only for
the content-hashed addresses the loader names, and the loader naming the panel by its current hash."""

from __future__ import annotations

import gzip
import re

from fastapi.testclient import TestClient

from overture.sites.appearance import LAUNCHER_ICON_PATHS
from overture.web.widget_assets import widget_assets


def test_the_loader_is_javascript_with_an_etag_and_short_caching(client: TestClient) -> None:
    answer = client.get("/widget.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=3600"
    assert answer.headers["etag"].startswith('"')
    assert "attachShadow" in answer.text and "__PANEL_VERSION__" not in answer.text
    # The launcher's icon until the visit answer draws the site's: the default, from the server's one table.
    assert f'<path d="{LAUNCHER_ICON_PATHS["chat"]}"/>' in answer.text and "__DEFAULT_ICON__" not in answer.text


def test_a_matching_if_none_match_gets_304_without_a_body(client: TestClient) -> None:
    etag = client.get("/widget.js").headers["etag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/widget.js", headers={"If-None-Match": '"old"'}).status_code == 200


def test_the_loader_names_the_panel_by_a_hash_which_is_cached_for_a_year(client: TestClient) -> None:
    loader = client.get("/widget.js").text
    version = re.search(r'V = "([0-9a-f]{16})"', loader)
    assert version and '"/widget/panel.js?v=" + V' in loader
    script = client.get(f"/widget/panel.js?v={version[1]}")
    styles = client.get(f"/widget/panel.css?v={version[1]}")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert styles.headers["content-type"] == "text/css; charset=utf-8"
    for answer in (script, styles):
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    # An old hash (a page cached before a release) gets today's file, but only briefly.
    assert client.get("/widget/panel.js?v=0000000000000000").headers["cache-control"] == "public, max-age=3600"


def test_any_site_may_load_the_widget_files(client: TestClient) -> None:
    answer = client.get("/widget/panel.css", headers={"Origin": "https://www.customer.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_widget_stays_within_its_size_budget_gzipped() -> None:
    assets = widget_assets()
    loader = len(gzip.compress(assets["widget.js"].content, compresslevel=9))
    total = loader + sum(len(gzip.compress(assets[n].content, compresslevel=9)) for n in ("panel.js", "panel.css"))
    assert loader <= 4 * 1024, f"the loader is {loader} bytes gzipped; the budget is 4 KB"
    assert total <= 15 * 1024, f"the widget is {total} bytes gzipped; the budget is 15 KB"
