"""Widget API: the visit call, made on every page view. Public; a site's allowed origins say which pages may."""

from __future__ import annotations

from functools import partial

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Connection

from overture.db import utcnow
from overture.sites.appearance import WidgetAppearance
from overture.visits.schemas import ChosenDialogue, ContinuingConversation, VisitIn, VisitOut
from overture.visits.service import Visit, VisitResult, record_visit
from overture.web.api import widget_access as access
from overture.web.api.widget_router import widget_router
from overture.web.context import AppContext
from overture.web.deps import Context

router = widget_router()


def device_from_user_agent(user_agent: str) -> str:
    if "iPad" in user_agent or "Tablet" in user_agent:
        return "tablet"
    return "mobile" if "Mobi" in user_agent or "Android" in user_agent else "desktop"


@router.post("/visit", response_model=VisitOut, summary="Record a page view and choose the dialogue to show")
async def visit(request: Request, body: VisitIn, context: Context) -> Response:
    """Records the page view (durable before the answer is sent), updates the visitor's visit data, and answers
    with the visitor id and the dialogue to show with its trigger, or the engaged conversation that goes on."""
    settings = context.settings
    country = request.headers.get(settings.country_header) if settings.country_header else None
    page = Visit(
        site=body.site,
        url=body.url,
        visitor_id=body.visitor_id,
        referrer=body.referrer,
        page_language=body.page_language,
        browser_languages=tuple(body.browser_languages),
        device=body.device or device_from_user_agent(request.headers.get("user-agent", "")),
        country=country.strip().upper()[:2] if country else None,
    )
    caller = access.Caller.of(request, context, body.url)
    record = partial(
        record_visit,
        cache=context.selector_cache,
        visit=page,
        now=utcnow(),
        origin=request.headers.get("origin"),
        own_origin=settings.base_url,
    )

    def job(connection: Connection) -> VisitResult:
        site = context.selector_cache.current(connection).sites.get(body.site)
        if site is not None:  # the page's address too (an unknown site is the visit's to name)
            access.check_site(caller, site.key, site.origins)
            access.check_consent(site.key, site.require_consent, body.consent)
        return record(connection)

    result: VisitResult = await context.group_commit.run(job)
    decision, continuing = result.decision, result.continuing
    out = VisitOut(
        appearance=site_appearance(context, body.site),
        visitor_id=result.visitor_id,
        dialogue=ChosenDialogue(key=decision.key, version=decision.version, trigger=decision.trigger)
        if decision
        else None,
        conversation=ContinuingConversation(conversation_id=continuing.conversation_id, dialogue=continuing.dialogue)
        if continuing
        else None,
    )
    return Response(out.model_dump_json(), media_type="application/json")


def site_appearance(context: AppContext, site_key: str) -> WidgetAppearance:
    """The site's appearance from the targeting cache the visit just read (no query), the avatar's address
    made absolute: the widget runs on the host's pages."""
    site = context.selector_cache.known_site(site_key)
    appearance = site.appearance if site is not None else WidgetAppearance()
    if appearance.avatar_url is None:
        return appearance
    return appearance.model_copy(update={"avatar_url": context.settings.base_url.rstrip("/") + appearance.avatar_url})
