"""The app factory: `create_app(settings)` builds everything from the settings it is given; nothing at import."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from overture import __version__
from overture.calendars.world import calendar_world
from overture.db import Database, needs_migration
from overture.group_commit import GroupCommitter
from overture.jobs import create_jobs, start_embedded_consumer
from overture.logs import configure_logging
from overture.mail.models import KIND_LABELS, STATUS_LABELS
from overture.settings import Settings, SettingsError, ensure_data_dir, load_settings, resolve_secret_key
from overture.users.roles import ROLE_LABELS, Area, areas_for
from overture.visits.selector_cache import SelectorCache
from overture.web import health, widget_assets
from overture.web.api import (
    admin_appearance,
    admin_automations,
    admin_calendar,
    admin_conversations,
    admin_dialogues,
    admin_experiments,
    admin_fields,
    admin_lists,
    admin_meetings,
    admin_outbox,
    admin_people,
    admin_programs,
    admin_reports,
    admin_routing,
    admin_sites,
    admin_targeting,
    admin_users,
    admin_webhooks,
    widget_conversations,
    widget_identify,
    widget_router,
    widget_visits,
)
from overture.web.context import AppContext
from overture.web.deps import API_TOKEN, csrf_token
from overture.web.errors import install_error_handlers
from overture.web.pages import (
    account,
    appearance,
    areas,
    auth,
    automations,
    booking_links,
    calendar,
    conversations,
    demo,
    dialogues,
    experiments,
    fields,
    home,
    integrations,
    landing_pages,
    meeting_links,
    meetings,
    outbox,
    people,
    programs,
    reports,
    routing,
    sites,
    users,
    webhooks,
)
from overture.web.security import AdminSecurityHeaders

SESSION_COOKIE = "overture_session"

AREA_LABELS: dict[Area, str] = {
    Area.dialogues: "Dialogues",
    Area.configuration: "Configuration",
    Area.calendar: "Calendar",
    Area.meetings: "Meetings",
    Area.routing: "Routing",
    Area.people: "People",
    Area.programs: "Programs",
    Area.conversations: "Conversations",
    Area.reports: "Reports",
    Area.integrations: "Integrations",
    Area.users: "Users",
    Area.outbox: "Outbox",
}


class UnmigratedDatabase(SettingsError):
    """The database is behind the code's migrations."""


def make_templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("overture.web", "templates"), autoescape=select_autoescape(default=True))
    env.globals.update(
        csrf_token=csrf_token,
        areas_for=areas_for,
        area_labels=AREA_LABELS,
        role_labels=ROLE_LABELS,
        version=__version__,
        mail_statuses=STATUS_LABELS,
        mail_kinds=KIND_LABELS,
    )
    return Jinja2Templates(env=env)


def create_app(settings: Settings, *, start_jobs: bool | None = None) -> FastAPI:
    """Builds the web app. Background jobs run inside it when `start_jobs` (default: settings.jobs_in_process)."""
    ensure_data_dir(settings)
    db = Database.from_url(settings.database_url)
    secret_key = resolve_secret_key(settings)
    context = AppContext(
        settings=settings,
        db=db,
        secret_key=secret_key,
        templates=make_templates(),
        jobs=create_jobs(settings, db),
        group_commit=GroupCommitter(db.engine),
        selector_cache=SelectorCache(),
        calendar_world=calendar_world(settings, db, secret_key, outbound_concurrency=settings.outbound_concurrency),
    )
    run_consumer = settings.jobs_in_process if start_jobs is None else start_jobs

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        consumer = start_embedded_consumer(context.jobs) if run_consumer else None
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
            context.group_commit.stop()
            context.calendar_world.http.close()
            context.jobs.close()
            db.dispose()

    app = FastAPI(
        title="Overture",
        version=__version__,
        description="Self-hosted conversational marketing. The admin API takes `Authorization: Bearer TOKEN`.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.add_middleware(AdminSecurityHeaders, https=settings.secure_cookies)
    app.add_middleware(
        SessionMiddleware,
        secret_key=context.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    # Added last, so it runs first: the client address (sign-in throttling) and scheme every part sees are the
    # peer's, or what a proxy of OVERTURE_FORWARDED_ALLOW_IPS forwarded, whatever server runs the app.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=[h for h in settings.forwarded_allow_ips.split(",") if h])
    install_error_handlers(app)
    app.mount("/admin/static", StaticFiles(directory=str(resources.files("overture.web") / "static")), "static")
    # The widget's routes first: they take the most traffic, and routes are matched in order.
    app.include_router(widget_visits.router)
    app.include_router(widget_router.preflights)
    app.include_router(widget_conversations.router)
    app.include_router(widget_identify.router)
    app.include_router(widget_assets.router)
    app.include_router(health.router)
    admin_api = (admin_appearance, admin_users, admin_outbox, admin_dialogues, admin_people, admin_sites,
                 admin_fields, admin_targeting, admin_calendar, admin_routing, admin_meetings,
                 admin_reports, admin_experiments, admin_conversations, admin_programs, admin_lists,
                 admin_webhooks, admin_automations)  # fmt: skip
    for module in admin_api:
        app.include_router(module.router, dependencies=[API_TOKEN])
    app.include_router(meeting_links.router)
    app.include_router(booking_links.router)
    app.include_router(landing_pages.router)
    for pages in (
        auth,
        home,
        account,
        users,
        outbox,
        dialogues,
        people,
        programs,
        automations,
        conversations,
        sites,
        appearance,
        fields,
        calendar,
        routing,
        meetings,
        reports,
        experiments,
        webhooks,
        integrations,
        areas,
    ):
        app.include_router(pages.router)
    if settings.demo:
        app.include_router(demo.router)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def root() -> RedirectResponse:
        """Someone who types Overture's address gets the admin (its sign-in page when signed out), not a 404."""
        return RedirectResponse("/admin", status_code=307)

    return app


def app_from_environment() -> FastAPI:
    """The factory `overture serve` hands to uvicorn: settings from the environment, refusing an old database."""
    settings = load_settings()
    configure_logging(settings)
    db = Database.from_url(settings.database_url)
    try:
        if needs_migration(db.engine):
            raise UnmigratedDatabase(
                "The database is not migrated to this version of Overture. Run `overture migrate` first."
            )
    finally:
        db.dispose()
    return create_app(settings)
