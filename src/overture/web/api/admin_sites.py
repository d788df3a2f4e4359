"""Admin API: sites, the websites that embed the widget: allowed origins, the chat switch, email security and
language settings, the snippet to paste, and the body of the meeting invitation email with its preview. Everything
the Sites page does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.mail import invitation
from overture.sites import service as sites
from overture.sites.models import Site
from overture.sites.schemas import SiteCreate, SitePublic, SiteUpdate
from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import AreaGuard, DbSession
from overture.web.errors import API_ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/admin/sites", tags=["sites"], responses=API_ERROR_RESPONSES)
Configurer = Annotated[User, Depends(AreaGuard(Area.configuration, api=True))]
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN, description="The site's key.")]


def dialogues_naming(session: Session, key: str) -> list[str]:
    """Keys of the dialogues (not archived) whose draft or live version names the site `key` (a document without
    `site:` names the default site)."""
    live = {
        dialogue_id: document
        for dialogue_id, document in session.execute(
            select(DialogueVersion.dialogue_id, DialogueVersion.document).join(
                Dialogue,
                (Dialogue.id == DialogueVersion.dialogue_id) & (Dialogue.published_version == DialogueVersion.number),
            )
        )
    }
    rows = session.execute(
        select(Dialogue.id, Dialogue.key, Dialogue.draft).where(
            Dialogue.kind == "dialogue", Dialogue.status != "archived"
        )
    )
    found = []
    for dialogue_id, dialogue_key, draft in rows:
        documents = [draft, live.get(dialogue_id)]
        if any(isinstance(doc, dict) and (doc.get("site") or sites.DEFAULT_SITE) == key for doc in documents):
            found.append(dialogue_key)
    return sorted(found)


def public(request: Request, site: Site) -> SitePublic:
    return SitePublic.of(site, sites.snippet(site, request.app.state.context.settings.base_url))


@router.get("", summary="List sites")
def list_sites(request: Request, session: DbSession, _: Configurer) -> list[SitePublic]:
    return [public(request, site) for site in sites.list_sites(session)]


@router.post("", status_code=201, summary="Add a site")
def create_site(request: Request, session: DbSession, _: Configurer, body: SiteCreate) -> SitePublic:
    return public(request, sites.create(session, body.key, body.changes(), utcnow()))


@router.get("/{key}", summary="One site, with its snippet")
def get_site(request: Request, session: DbSession, _: Configurer, key: SiteKey) -> SitePublic:
    return public(request, sites.get(session, key))


@router.patch("/{key}", summary="Change a site's settings (only those sent)")
def update_site(request: Request, session: DbSession, _: Configurer, key: SiteKey, body: SiteUpdate) -> SitePublic:
    return public(request, sites.update(session, sites.get(session, key), body.changes()))


@router.delete("/{key}", summary="Delete a site no dialogue names (its page views go with it)")
def delete_site(request: Request, session: DbSession, _: Configurer, key: SiteKey) -> SitePublic:
    site = sites.get(session, key)
    shown = public(request, site)
    sites.delete(session, site, dialogues_naming(session, key))
    return shown


# --- the invitation email body ------------------------------------------------------------------------------------

# A little over the template's own limit, so that a too-long body is explained by the check, not cut by the form.
BODY_FIELD_LIMIT = invitation.MAX_TEMPLATE_LENGTH + 1_000


class InvitationBodyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str | None = Field(
        default=None,
        max_length=BODY_FIELD_LIMIT,
        description="The body template (plain text with tokens such as {{ visitor_name }}); null or empty: the "
        "default body.",
        examples=["Hello {{ visitor_name }},\n\nSee you on {{ start_time }}.\n\nCan't make it? {{ cancel_link }}"],
    )


class InvitationBodyPublic(BaseModel):
    body: str | None = Field(description="The site's own body; null when the site uses the default.")
    default_body: str = Field(description="The body used when the site has none.")
    tokens: dict[str, str] = Field(description="The tokens a body may use, with what each holds.")


class TemplateProblemPublic(BaseModel):
    message: str
    line: int | None = Field(description="The body's line the mistake is on, when known (1 is the first).")


class InvitationPreviewPublic(BaseModel):
    """The body rendered with a sample meeting, or why it cannot be (never both)."""

    text: str | None
    html: str | None
    problem: TemplateProblemPublic | None


def clean_body(body: str | None) -> str | None:
    """The body as stored: line ends made plain, None for an empty body or the default one."""
    if body is None:
        return None
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip() or body.strip() == invitation.DEFAULT_BODY.strip():
        return None
    return body


def save_invitation_body(site: Site, body: str | None) -> Site:
    """Stores the site's invitation body (None: back to the default). Raises InvalidInput naming the line of the
    mistake when the body cannot be rendered; nothing is changed then."""
    body = clean_body(body)
    if body is not None:
        invitation.check_template(body)
    site.invitation_body = body
    return site


def preview_of(body: str | None) -> InvitationPreviewPublic:
    shown = invitation.preview(clean_body(body) or invitation.DEFAULT_BODY)
    if shown.problem is not None:
        problem = TemplateProblemPublic(message=shown.problem.message, line=shown.problem.line)
        return InvitationPreviewPublic(text=None, html=None, problem=problem)
    assert shown.body is not None
    return InvitationPreviewPublic(text=shown.body.text, html=shown.body.html, problem=None)


def invitation_public(site: Site) -> InvitationBodyPublic:
    return InvitationBodyPublic(
        body=site.invitation_body, default_body=invitation.DEFAULT_BODY, tokens=dict(invitation.TOKENS)
    )


@router.get("/{key}/invitation-body", summary="The site's meeting invitation body, the default and the tokens")
def get_invitation_body(session: DbSession, _: Configurer, key: SiteKey) -> InvitationBodyPublic:
    return invitation_public(sites.get(session, key))


@router.put("/{key}/invitation-body", summary="Set the site's invitation body (null: the default)")
def put_invitation_body(
    session: DbSession, _: Configurer, key: SiteKey, body: InvitationBodyUpdate
) -> InvitationBodyPublic:
    return invitation_public(save_invitation_body(sites.get(session, key), body.body))


@router.post(
    "/{key}/invitation-body/preview",
    summary="Render a body with a sample meeting, without saving it (a mistake is answered with its line)",
)
def preview_invitation_body(
    session: DbSession, _: Configurer, key: SiteKey, body: InvitationBodyUpdate
) -> InvitationPreviewPublic:
    sites.get(session, key)
    return preview_of(body.body)
