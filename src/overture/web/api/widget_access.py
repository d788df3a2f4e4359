"""Who may use the widget API for a site: every widget call checks the calling page against its site's allowed
origins with the visit call's rule (`sites/origins.py`), and a new conversation needs the site's chat switched on.

A conversation's site is the `site:` of the dialogue version it runs. A reusable flow belongs to no site: opened on
its own, it is the site the widget names (`site` in the start call), else any site that allows the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from overture.conversations.models import Conversation
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import Conflict, Forbidden, NotFound
from overture.people import service as people
from overture.sites.models import Site
from overture.sites.origins import origin_allowed, refused_origin
from overture.sites.service import DEFAULT_SITE
from overture.visits.selector_cache import SiteConfig
from overture.web.context import AppContext


class OriginRefused(Forbidden):
    """A page of an origin its site does not allow. Answered without Access-Control-Allow-Origin: the page cannot
    even read the refusal."""


@dataclass(frozen=True)
class Caller:
    """The page calling: the browser's Origin header (None: not a browser page), the page's address when the call
    names one, and Overture's own base URL (its pages, the demo and the admin's preview, may use every site)."""

    origin: str | None
    page_url: str | None
    own_origin: str

    @classmethod
    def of(cls, request: Request, context: AppContext, page_url: str | None = None) -> Caller:
        return cls(request.headers.get("origin"), page_url, context.settings.base_url)


@dataclass(frozen=True)
class Use:
    """What the call is about: the sites it may be made for (one, or every site for a flow of no site) and its
    name in a refusal ("site 'www'", "the reusable flow 'qualify'")."""

    sites: Sequence[SiteConfig]
    name: str


def allowing(use: Use, caller: Caller) -> list[SiteConfig]:
    """The sites of `use` that take the caller; raises OriginRefused, naming the origin refused, when none does."""
    verdicts = [
        (site, refused_origin(site.origins, caller.origin, caller.page_url, caller.own_origin)) for site in use.sites
    ]
    taken = [site for site, refused in verdicts if refused is None]
    if taken or caller.origin is None:
        return taken
    raise _refusal(next((origin for _, origin in verdicts if origin), caller.origin), use.name)


def check_site(caller: Caller, key: str, origins: Sequence[str]) -> None:
    """Before a call for the site `key` (the visit, identify): the page may use it by its allowed `origins`.
    Raises OriginRefused, naming the origin refused."""
    refused = refused_origin(origins, caller.origin, caller.page_url, caller.own_origin)
    if refused is not None:
        raise _refusal(refused, f"site '{key}'")


def _refusal(origin: str, name: str) -> OriginRefused:
    return OriginRefused(
        f"Pages of {origin} may not use {name}. Add the origin to the site's allowed origins in Configuration > Sites."
    )


def _site_of_version(session: Session, version_id: int) -> str:
    """The `site:` of a dialogue version, kept per database: a version never changes."""
    memo: dict[int, str] = session.info.setdefault("memo", {}).setdefault("version_sites", {})
    site = memo.get(version_id)
    if site is None:
        document = session.scalar(select(DialogueVersion.document).where(DialogueVersion.id == version_id)) or {}
        site = memo[version_id] = str(document.get("site") or DEFAULT_SITE)
    return site


def _use(context: AppContext, session: Session, kind: str, key: str, version_id: int, site: str | None) -> Use:
    """A dialogue's site is its version's; a flow's is the one the widget named, else every site."""
    sites = context.selector_cache.current(session.connection()).sites
    if kind == "dialogue":
        site = _site_of_version(session, version_id)
    elif site is None:
        return Use(list(sites.values()), f"the reusable flow '{key}'")
    found = sites.get(site)
    return Use([found] if found else [], f"site '{site}'")


def check_consent(site_key: str, require_consent: bool, consent: bool) -> None:
    """A site that requires consent records nothing before it: every call that would record a visitor (a visit, a
    conversation's start, identify) carries the visitor's consent, or is refused (403) before anything is written."""
    if require_consent and not consent:
        raise Forbidden(
            f"Site '{site_key}' requires the visitor's consent: nothing is recorded before it. Use the snippet of "
            'Configuration > Sites (it carries data-consent="required").'
        )


def check_start(
    context: AppContext,
    session: Session,
    caller: Caller,
    dialogue_key: str,
    site: str | None,
    visitor_id: str | None,
    consent: bool,
) -> None:
    """Before a conversation starts: the page may use the dialogue's site (a flow's: `site`, else any site), the
    visitor consented where the site requires it, and chat is on there, unless this visitor's conversation with it
    is running (starting again gives it back). Raises OriginRefused or Forbidden (403) or Conflict (409); an unknown
    or not live dialogue is left to the start to refuse."""
    found = session.execute(
        select(Dialogue.id, Dialogue.kind, DialogueVersion.id.label("version_id"))
        .join(
            DialogueVersion,
            (DialogueVersion.dialogue_id == Dialogue.id) & (DialogueVersion.number == Dialogue.published_version),
        )
        .where(Dialogue.key == dialogue_key, Dialogue.status == "published")
    ).first()
    if found is None:
        return
    use = _use(context, session, found.kind, dialogue_key, found.version_id, site)
    configs = allowing(use, caller)
    keys = [config.key for config in configs]
    if not keys:
        raise NotFound(f"There is no {use.name}. Check the data-site attribute of the snippet.")
    for config in configs:
        check_consent(config.key, config.require_consent, consent)
    if session.scalar(select(Site.id).where(Site.key.in_(keys), Site.chat_enabled.is_(True)).limit(1)) is not None:
        return
    person = people.by_visitor_id(session, visitor_id) if visitor_id else None
    if person is not None and session.scalar(
        select(Conversation.id).where(
            Conversation.person_id == person.id,
            Conversation.dialogue_id == found.id,
            Conversation.status == "active",
        )
    ):
        return
    where = f"site '{keys[0]}'" if len(keys) == 1 else "the sites of this page"
    raise Conflict(f"Chat is switched off for {where} (Configuration > Sites): no new conversation starts.")


# Built once: building a statement costs about as much as running it, and this one runs at every call.
_DOCUMENT_OF_CONVERSATION = (
    select(Dialogue.kind, Dialogue.key, Conversation.version_id)
    .join(Dialogue, Dialogue.id == Conversation.dialogue_id)
    .where(Conversation.public_id == bindparam("public_id"))
)
CONVERSATIONS_KEPT = 10_000


def _document_of(session: Session, public_id: str) -> tuple[str, str, int] | None:
    """The kind, key and version a conversation runs, kept per database (they never change for a conversation;
    the memo is emptied when full rather than ordered: a miss costs one query)."""
    memo: dict[str, tuple[str, str, int]] = session.info.setdefault("memo", {}).setdefault("conversation_documents", {})
    known = memo.get(public_id)
    if known is None:
        found = session.execute(_DOCUMENT_OF_CONVERSATION, {"public_id": public_id}).first()
        if found is None:
            return None
        if len(memo) >= CONVERSATIONS_KEPT:
            memo.clear()
        known = memo[public_id] = (found.kind, found.key, found.version_id)
    return known


def check_conversation(context: AppContext, session: Session, caller: Caller, public_id: str) -> None:
    """Before any call on a conversation: the page may use the conversation's site (its dialogue's; for a flow
    opened on its own, any site). Raises OriginRefused; an unknown conversation is left to the token check."""
    if caller.origin is None:
        return
    document = _document_of(session, public_id)
    if document is not None:
        allowing(_use(context, session, *document, None), caller)


def allowed_by_some_site(context: AppContext, origin: str) -> bool:
    """Whether any site (or Overture itself) allows pages of `origin`: what a preflight, and an answer given
    before the call's own site was known, may say. The call itself still checks its own site."""
    with context.db.read() as session:
        sites = context.selector_cache.current(session.connection()).sites
    own = context.settings.base_url
    return any(origin_allowed(site.origins, origin, own) for site in sites.values()) or origin_allowed((), origin, own)
