"""The admin API's shapes for sites: Create / Update / Public. The service checks and normalises origins and
domains and explains every problem; these models set the outer limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from overture.mail import invitation
from overture.sites.models import DEFAULT_BLOCKED_MESSAGE, Site
from overture.sites.service import SiteChanges

LanguageSource = Literal["url", "page", "browser"]
Origins = Annotated[
    list[Annotated[str, Field(max_length=300)]],
    Field(
        max_length=100,
        description="Pages of these origins may use the widget: https://www.example.com, or https://*.example.com "
        "for every subdomain. http only for localhost and 127.0.0.1.",
        examples=[["https://www.example.com", "https://*.example.com"]],
    ),
]
Domains = Annotated[
    list[Annotated[str, Field(max_length=253)]],
    Field(max_length=1000, description="Email captures from these domains are refused.", examples=[["rival.com"]]),
]
Message = Annotated[
    str, Field(min_length=1, max_length=500, description="What a visitor with a blocked email address reads.")
]
LanguageOrder = Annotated[
    list[LanguageSource],
    Field(max_length=3, description="Where the visitor's language comes from, in order (each source once)."),
]
CONSENT = (
    "On: the widget records nothing (no visitor id stored, no visit call) until the page calls "
    "Overture.consent(true) or the visitor accepts in the chat; the snippet changes (copy it again)."
)


def _default_language_order() -> list[LanguageSource]:
    return ["url", "page", "browser"]


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(max_length=80, description="Lower-case letters, digits, - and _; dialogues name it in site:.")
    name: str = Field(max_length=200, examples=["Main website"])
    origins: Origins = Field(default_factory=list)
    chat_enabled: bool = True
    require_consent: bool = Field(default=False, description=CONSENT)
    blocked_email_domains: Domains = Field(default_factory=list)
    block_free_email: bool = Field(default=False, description="Refuse free-mail addresses (gmail.com...).")
    blocked_email_message: Message = DEFAULT_BLOCKED_MESSAGE
    language_order: LanguageOrder = Field(default_factory=_default_language_order)

    def changes(self) -> SiteChanges:
        return SiteChanges(**self.model_dump(exclude={"key"}))


class SiteUpdate(BaseModel):
    """Only the settings sent change; the key never does (dialogues refer to it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    origins: Origins | None = None
    chat_enabled: bool | None = Field(default=None, description="Off: no dialogue of the site shows.")
    require_consent: bool | None = Field(default=None, description=CONSENT)
    blocked_email_domains: Domains | None = None
    block_free_email: bool | None = None
    blocked_email_message: Message | None = None
    language_order: LanguageOrder | None = None

    def changes(self) -> SiteChanges:
        return SiteChanges(**self.model_dump())


class SitePublic(BaseModel):
    key: str
    name: str
    origins: list[str]
    chat_enabled: bool
    require_consent: bool = Field(description=CONSENT)
    blocked_email_domains: list[str]
    block_free_email: bool
    blocked_email_message: str
    language_order: list[str]
    created_at: datetime
    snippet: str = Field(description="The tag to put in the site's pages.")

    @classmethod
    def of(cls, site: Site, snippet: str) -> SitePublic:
        return cls(
            key=site.key,
            name=site.name,
            origins=list(site.origins or ()),
            chat_enabled=site.chat_enabled,
            require_consent=site.require_consent,
            blocked_email_domains=list(site.blocked_email_domains or ()),
            block_free_email=site.block_free_email,
            blocked_email_message=site.blocked_email_message,
            language_order=list(site.language_order or ()),
            created_at=site.created_at,
            snippet=snippet,
        )


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
