"""The visit call's shapes: what the widget sends on every page, and what it gets back."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from overture.dialogues.document import KEY_PATTERN
from overture.sites.addresses import lower_scheme_and_host
from overture.sites.appearance import WidgetAppearance

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


def parsable_url(url: str) -> str:
    """A page address the matchers can take apart: urlsplit must succeed and find a host and a numeric port if any
    (`http://[` and `http://host:port/` do not). Returns it with scheme and host in lower case."""
    url = lower_scheme_and_host(url)
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"not a web address ({exc})") from None
    if not host:
        raise ValueError("a web address needs a host, as in https://www.example.com/pricing")
    return url


# A page's full http(s) address, as the widget reports it and as explain takes it.
PageUrl = Annotated[
    str,
    Field(max_length=2000, pattern=r"^(?i:https?)://[^\x00-\x1f\x7f\s]+$", description="The page's full URL."),
    AfterValidator(parsable_url),
]
LANGUAGE_TAG = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(max_length=80, pattern=KEY_PATTERN, description="The site's key (the snippet's data-site).")
    visitor_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The id the widget keeps; new if absent."
    )
    url: PageUrl
    referrer: str | None = Field(default=None, max_length=2000, pattern=NO_CONTROL_CHARACTERS)
    page_language: str | None = Field(default=None, max_length=16, pattern=LANGUAGE_TAG, description="<html lang>.")
    browser_languages: list[Annotated[str, Field(max_length=16, pattern=LANGUAGE_TAG)]] = Field(
        default_factory=list, max_length=10, description="navigator.languages, in order."
    )
    device: Literal["desktop", "mobile", "tablet"] | None = Field(
        default=None, description="From the viewport; taken from the User-Agent when absent."
    )
    consent: bool = Field(
        default=False,
        description="The visitor consented (the widget sends true only then); a site that requires consent refuses "
        "the visit without it and records nothing.",
    )


class ChosenDialogue(BaseModel):
    key: str
    version: int
    trigger: dict[str, Any] = Field(description='When to show it, e.g. {"on": "time_on_page", "seconds": 20}.')


class ContinuingConversation(BaseModel):
    conversation_id: str
    dialogue: str


class VisitOut(BaseModel):
    visitor_id: str = Field(description="Keep it: send it with every later call.")
    dialogue: ChosenDialogue | None = Field(description="The dialogue to show on this page, or none.")
    conversation: ContinuingConversation | None = Field(
        description="An engaged conversation that goes on on this page (then no new dialogue is chosen)."
    )
    appearance: WidgetAppearance = Field(
        description="How the widget looks on this site: every setting, defaults filled, and the avatar's address."
    )
