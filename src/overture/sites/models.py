"""Sites: each website that embeds the widget, with its allowed origins and security settings."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime, utcnow

DEFAULT_BLOCKED_MESSAGE = "Please use your work email address."


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What dialogues name in `site:` and the snippet carries in data-site.
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # "https://www.example.com", "https://*.example.com": the widget works on these pages only.
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Off: no dialogue of the site shows, whatever its status.
    chat_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # On: the widget records nothing (no visitor id, no visit call) until the visitor consents; the snippet carries
    # data-consent="required" and the visit call is refused without the visitor's consent (docs/widget.md).
    require_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Email captures from these domains are refused with `blocked_email_message`.
    blocked_email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    block_free_email: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_email_message: Mapped[str] = mapped_column(String(500), default=DEFAULT_BLOCKED_MESSAGE)
    # Where the visitor's language comes from, in order: page (the html lang), browser, url (?lang=).
    language_order: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["url", "page", "browser"])
    # How the widget looks on this site: a validated document (colours, fonts, launcher, avatar...), {} = defaults.
    appearance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Signs `Overture.identify({email, signature})`: the host's server computes HMAC-SHA256(secret, email) (signing.py).
    identify_secret: Mapped[str] = mapped_column(
        String(64), default=lambda: secrets.token_hex(32)
    )  # signing.SECRET_BYTES
    # The body of the meeting invitation email (a Jinja2 sandbox template, see mail/invitation.py); None: default.
    invitation_body: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteAvatar(Base):
    """The bot's picture in a site's widget: one per site, small (checked on upload), served publicly."""

    __tablename__ = "site_avatars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # Hex SHA-256 of `content`: the ETag, and the version in the avatar's URL.
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
