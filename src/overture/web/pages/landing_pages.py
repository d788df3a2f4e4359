"""The conversational landing page: any live dialogue opened full-page at `/chat/{site}/{dialogue}`, for a link in
an email or an ad.

The page is the site's appearance (meeting_link_look.py) around the widget itself: the loader (`/widget.js`, with
the site's `data-site` and its consent setting) and an element `data-overture-inline` that the panel takes over
(panel.js), sized to the window. The element carries `data-overture-channel="landing_page"`, which the panel sends
with the conversation's start: the dialogue.triggered activity records `channel: "landing_page"`, and the
conversation's page is the landing page's address. Conversations go through the widget API as on the site, so
consent, the chat switch and every check apply unchanged; Overture's own pages may use every site.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import select

from overture.dialogues import service as dialogues
from overture.errors import OvertureError
from overture.sites.models import Site
from overture.sites.service import DEFAULT_SITE
from overture.web.context import AppContext
from overture.web.pages.meeting_link_look import look_of

router = APIRouter(include_in_schema=False)
Key = Annotated[str, Path(max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
# Our own script and styles (the site's colours in one <style> with this answer's nonce); the widget calls this
# origin only. Never framed.
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def _page(request: Request, status: int, **values: object) -> Response:
    nonce = secrets.token_urlsafe(16)
    context: AppContext = request.app.state.context
    response: Response = context.templates.TemplateResponse(
        request, "landing_page.html", {"nonce": nonce, **values}, status_code=status,
        headers={**HEADERS, "content-security-policy": CSP.format(nonce=nonce)},
    )  # fmt: skip
    return response


def _not_found(request: Request, message: str) -> Response:
    context: AppContext = request.app.state.context
    with context.db.read() as session:
        look = look_of(session, None)
    return _page(request, 404, title="Page not found", message=message, look=look)


@router.get("/chat/{site}/{dialogue}")
def landing_page(request: Request, site: Key, dialogue: Key) -> Response:
    context: AppContext = request.app.state.context
    missing = f"There is no conversation at /chat/{site}/{dialogue}: check the link you were given."
    with context.db.read() as session:
        found = session.scalar(select(Site).where(Site.key == site))
        row = dialogues.find(session, dialogue)
        if found is None or row is None:
            return _not_found(request, missing)
        try:
            version = dialogues.live_version(session, row)
        except OvertureError:
            return _not_found(request, f"The conversation '{dialogue}' is not live right now.")
        owner = str((version.document or {}).get("site") or DEFAULT_SITE)
        if row.kind == "dialogue" and owner != site:
            return _not_found(request, missing)
        look = look_of(session, site)
        name = row.name
        consent = found.require_consent
    return _page(request, 200, title=name, look=look, site=site, dialogue=dialogue, consent=consent)
