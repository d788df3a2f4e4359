"""Admin pages: (being written)."""

from __future__ import annotations

from overture.web.pages.rendering import page_router

router = page_router()
