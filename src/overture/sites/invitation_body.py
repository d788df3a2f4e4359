"""A site's meeting invitation body: cleaned and checked before it is stored, previewed with a sample meeting."""

from __future__ import annotations

from overture.mail import invitation
from overture.sites.models import Site
from overture.sites.schemas import InvitationBodyPublic, InvitationPreviewPublic, TemplateProblemPublic


def clean(body: str | None) -> str | None:
    """The body as stored: line ends made plain, None for an empty body or the default one."""
    if body is None:
        return None
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip() or body.strip() == invitation.DEFAULT_BODY.strip():
        return None
    return body


def save(site: Site, body: str | None) -> Site:
    """Stores the site's invitation body (None: back to the default). Raises InvalidInput naming the line of the
    mistake when the body cannot be rendered; nothing is changed then."""
    body = clean(body)
    if body is not None:
        invitation.check_template(body)
    site.invitation_body = body
    return site


def preview(body: str | None) -> InvitationPreviewPublic:
    shown = invitation.preview(clean(body) or invitation.DEFAULT_BODY)
    if shown.problem is not None:
        problem = TemplateProblemPublic(message=shown.problem.message, line=shown.problem.line)
        return InvitationPreviewPublic(text=None, html=None, problem=problem)
    assert shown.body is not None
    return InvitationPreviewPublic(text=shown.body.text, html=shown.body.html, problem=None)


def public(site: Site) -> InvitationBodyPublic:
    return InvitationBodyPublic(
        body=site.invitation_body, default_body=invitation.DEFAULT_BODY, tokens=dict(invitation.TOKENS)
    )
