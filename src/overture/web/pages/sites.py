"""The Configuration landing page and the Sites pages: each website that embeds the widget, its allowed origins,
the chat switch, email security and language settings, the snippet to paste into its pages, and the body of its
meeting invitation email with a live preview."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Form, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.errors import Conflict, InvalidInput
from overture.mail import invitation
from overture.sites import invitation_body as invitation_bodies
from overture.sites import schemas
from overture.sites import service as sites
from overture.sites.models import Site
from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import DbSession
from overture.web.guards import ConfigurationPageUser
from overture.web.pages.fields import lines
from overture.web.pages.forms import Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import page_router, render, succeeded

router = page_router()
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN)]
PAGE = "/admin/configuration/sites"
LANGUAGE_LABELS = {
    "url": "The page address (?lang=)",
    "page": "The page's language (html lang)",
    "browser": "The browser",
}


@router.get("/admin/configuration")
def configuration_page(request: Request, session: DbSession, user: ConfigurationPageUser) -> Response:
    return render(request, "admin/configuration.html", user, active_area=Area.configuration)


def _list_page(request: Request, session: Session, user: User, status: int = 200, **extra: object) -> Response:
    return render(
        request, "admin/sites.html", user, status=status, sites=sites.list_sites(session), **{"form": {}, **extra}
    )


@router.get(PAGE)
def sites_page(request: Request, session: DbSession, user: ConfigurationPageUser) -> Response:
    return _list_page(request, session, user)


class NewSiteForm(BaseModel):
    key: str = Field(max_length=80)
    name: str = Field(max_length=200)


@router.post(PAGE)
def add_site(request: Request, session: DbSession, user: ConfigurationPageUser, form: Posted[NewSiteForm]) -> Response:
    try:
        site = sites.create(session, form.key, sites.SiteChanges(name=form.name), utcnow())
    except (InvalidInput, Conflict) as exc:
        return _list_page(request, session, user, **refuse(session, exc, form.model_dump()).shown())
    added = f"The site '{site.name}' is added. List its origins, then paste the snippet in its pages."
    return succeeded(request, added, f"{PAGE}/{site.key}")


def _invitation(body: str, problem: str | None = None) -> dict[str, object]:
    """What the invitation section shows: the body in the editor, its preview, and where a mistake is."""
    preview = invitation_bodies.preview(body)
    line = preview.problem.line if preview.problem else None
    lines = body.splitlines()
    return {
        "body": body,
        "preview": preview,
        # The line a mistake is on, shown under the editor with its number.
        "bad_line": lines[line - 1] if line and 0 < line <= len(lines) else None,
        "error": problem,
        "tokens": invitation.TOKENS,
        "limit": schemas.BODY_FIELD_LIMIT,
    }


def _site_page(
    request: Request,
    user: User,
    site: Site,
    status: int = 200,
    invitation_body: str | None = None,
    invitation_error: str | None = None,
    **extra: object,
) -> Response:
    settings = request.app.state.context.settings
    form = {
        "name": site.name,
        "origins": "\n".join(site.origins or ()),
        "blocked_email_domains": "\n".join(site.blocked_email_domains or ()),
        "block_free_email": site.block_free_email,
        "blocked_email_message": site.blocked_email_message,
        "language_order": list(site.language_order or ()),
        "require_consent": site.require_consent,
    }
    return render(
        request,
        "admin/site.html",
        user,
        status=status,
        site=site,
        snippet=sites.snippet(site, settings.base_url),
        language_labels=LANGUAGE_LABELS,
        **{
            "form": form,
            "invitation": _invitation(
                invitation_body if invitation_body is not None else site.invitation_body or invitation.DEFAULT_BODY,
                invitation_error,
            ),
            **extra,
        },
    )


@router.get(PAGE + "/{key}")
def site_page(request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey) -> Response:
    return _site_page(request, user, sites.get(session, key))


class SiteForm(BaseModel):
    name: str = Field(max_length=200)
    origins: str = Field("", max_length=50_000)
    blocked_email_domains: str = Field("", max_length=300_000)
    block_free_email: bool = False
    blocked_email_message: str = Field("", max_length=500)
    # The languages in the order they are tried, one select each (an empty one is skipped).
    language_1: str = Field("", max_length=10)
    language_2: str = Field("", max_length=10)
    language_3: str = Field("", max_length=10)
    require_consent: bool = False


@router.post(PAGE + "/{key}")
def save_site(
    request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey, form: Posted[SiteForm]
) -> Response:
    site = sites.get(session, key)
    was_required = site.require_consent
    order = [source for source in (form.language_1, form.language_2, form.language_3) if source]
    changes = sites.SiteChanges(
        name=form.name,
        origins=lines(form.origins),
        # Domains may come one per line or separated by commas or spaces, as people paste them.
        blocked_email_domains=[d for d in re.split(r"[\s,;]+", form.blocked_email_domains) if d],
        block_free_email=form.block_free_email,
        blocked_email_message=form.blocked_email_message,
        language_order=order,
        require_consent=form.require_consent,
    )
    try:
        sites.update(session, site, changes)
    except InvalidInput as exc:
        typed = {**form.model_dump(exclude={"language_1", "language_2", "language_3"}), "language_order": order}
        return _site_page(request, user, sites.get(session, key), **refuse(session, exc, typed).shown())
    if site.require_consent != was_required:
        return succeeded(
            request, f"The settings of '{site.name}' are saved. The snippet changed: paste it again.", f"{PAGE}/{key}"
        )
    return succeeded(request, f"The settings of '{site.name}' are saved.", f"{PAGE}/{key}")


InvitationBody = Annotated[str, Form(max_length=schemas.BODY_FIELD_LIMIT)]


@router.post(PAGE + "/{key}/invitation")
def save_invitation(
    request: Request,
    session: DbSession,
    user: ConfigurationPageUser,
    key: SiteKey,
    invitation_body: InvitationBody = "",
    use_default: Annotated[bool, Form()] = False,
) -> Response:
    site = sites.get(session, key)
    try:
        invitation_bodies.save(site, None if use_default else invitation_body)
    except InvalidInput as exc:
        # The editor shows the problem alone, under the body: the line it is on and what is wrong there.
        refused = refuse(session, exc, {"invitation_body": invitation_body})
        message = refused.problems.get("invitation_body", refused.message)
        return _site_page(
            request, user, sites.get(session, key), refused.status, invitation_body=invitation_body,
            invitation_error=message,
        )  # fmt: skip
    if site.invitation_body is None:
        return succeeded(request, f"'{site.name}' sends the default invitation email.", f"{PAGE}/{key}#invitation")
    saved = f"The invitation email of '{site.name}' is saved: the next bookings get it."
    return succeeded(request, saved, f"{PAGE}/{key}#invitation")


@router.post(PAGE + "/{key}/invitation/preview")
def preview_invitation(
    request: Request,
    session: DbSession,
    user: ConfigurationPageUser,
    key: SiteKey,
    invitation_body: InvitationBody = "",
    fragment: bool = False,
) -> Response:
    """The preview of the body being edited, nothing saved: the preview block alone for the page's script
    (`?fragment=true`), else the whole page (a browser without JavaScript)."""
    site = sites.get(session, key)
    if fragment:
        return render(request, "admin/invitation_preview.html", user, invitation=_invitation(invitation_body))
    return _site_page(request, user, site, invitation_body=invitation_body)


@router.post(PAGE + "/{key}/chat")
def switch_chat(
    request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey, enabled: Annotated[bool, Form()]
) -> Response:
    site = sites.update(session, sites.get(session, key), sites.SiteChanges(chat_enabled=enabled))
    if enabled:
        return succeeded(request, f"Chat is on for '{site.name}': its published dialogues show again.", f"{PAGE}/{key}")
    off = f"Chat is off for '{site.name}': none of its dialogues shows until you turn it on."
    return succeeded(request, off, f"{PAGE}/{key}")


@router.post(PAGE + "/{key}/delete")
def delete_site(request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey) -> Response:
    site = sites.get(session, key)
    try:
        sites.delete(session, site, dialogues.keys_naming_site(session, key))
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}/{key}")
    return succeeded(request, f"The site '{site.name}' is deleted.", PAGE)
