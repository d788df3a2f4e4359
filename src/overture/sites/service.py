"""Sites: each website that embeds the widget, with its allowed origins, chat switch and security settings.

Every change bumps the targeting signal: the selector the widget API uses is rebuilt from sites and dialogues.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture import signals
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.sites.addresses import InvalidValue, normalise_domain, normalise_origin
from overture.sites.models import DEFAULT_BLOCKED_MESSAGE, Site

DEFAULT_SITE = "default"  # created by the migration; dialogues without a `site:` belong to it
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,79}$"
LANGUAGE_SOURCES = ("url", "page", "browser")
DEFAULT_LANGUAGE_ORDER = ("url", "page", "browser")
NAME_LIMIT = 200
MESSAGE_LIMIT = 500
MAX_ORIGINS = 100
MAX_BLOCKED_DOMAINS = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SiteChanges:
    """The settings an admin may change; None leaves a setting as it is."""

    name: str | None = None
    origins: Sequence[str] | None = None
    chat_enabled: bool | None = None
    require_consent: bool | None = None
    blocked_email_domains: Sequence[str] | None = None
    block_free_email: bool | None = None
    blocked_email_message: str | None = None
    language_order: Sequence[str] | None = None


def list_sites(session: Session) -> list[Site]:
    """Every site, the default one first, then by name."""
    sites = session.scalars(select(Site).order_by(Site.name, Site.key))
    return sorted(sites, key=lambda site: site.key != DEFAULT_SITE)


def find(session: Session, key: str) -> Site | None:
    return session.scalar(select(Site).where(Site.key == key))


def get(session: Session, key: str) -> Site:
    site = find(session, key)
    if site is None:
        raise NotFound(f"There is no site with the key '{key}'.")
    return site


def snippet(site: Site, base_url: str) -> str:
    """The tag a website puts in its pages to load the widget for `site`. On a site that requires consent it says
    so (data-consent="required"): the loader must know before it makes any request that could carry a visitor id."""
    source = html.escape(f"{base_url.rstrip('/')}/widget.js", quote=True)
    consent = ' data-consent="required"' if site.require_consent else ""
    return f'<script src="{source}" data-site="{html.escape(site.key, quote=True)}"{consent} async></script>'


# --- checks ---------------------------------------------------------------------------------------------------------


def _check_text(value: str, path: str, what: str, limit: int, problems: list[Problem]) -> str:
    value = value.strip()
    if not value:
        problems.append(Problem(path, f"The {what} is empty: write one."))
    elif len(value) > limit:
        problems.append(Problem(path, f"The {what} is too long: use at most {limit} characters."))
    elif _CONTROL.search(value):
        problems.append(Problem(path, f"The {what} has invisible control characters. Remove them."))
    return value


def _check_key(key: str, problems: list[Problem]) -> str:
    key = key.strip()
    if not re.fullmatch(KEY_PATTERN, key):
        problems.append(
            Problem(
                "key", "Use 1 to 80 lower-case letters, digits, - and _, starting with a letter or digit (e.g. www)."
            )
        )
    return key


def _check_list(
    values: Sequence[str], path: str, limit: int, normalise: Callable[[str], str], problems: list[Problem]
) -> list[str]:
    """Each value normalised, duplicates dropped (order kept); a problem per bad value, at `path.INDEX`."""
    cleaned: list[str] = []
    entries = [value for value in values if value.strip()]
    if len(entries) > limit:
        problems.append(Problem(path, f"Too many entries: at most {limit}."))
        return cleaned
    for index, value in enumerate(entries):
        try:
            normal = normalise(value)
        except InvalidValue as exc:
            problems.append(Problem(f"{path}.{index}", str(exc)))
            continue
        if normal not in cleaned:
            cleaned.append(normal)
    return cleaned


def _check_language_order(order: Sequence[str], problems: list[Problem]) -> list[str]:
    cleaned: list[str] = []
    for index, source in enumerate(order):
        if source not in LANGUAGE_SOURCES:
            problems.append(
                Problem(f"language_order.{index}", f"'{source}' is not a language source: use url, page or browser.")
            )
        elif source in cleaned:
            problems.append(Problem(f"language_order.{index}", f"'{source}' is listed twice."))
        else:
            cleaned.append(source)
    return cleaned


def _checked(changes: SiteChanges, problems: list[Problem]) -> dict[str, Any]:
    """The given settings, checked and normalised, by column name; a problem for each bad one."""
    values: dict[str, Any] = {}
    if changes.name is not None:
        values["name"] = _check_text(changes.name, "name", "site's name", NAME_LIMIT, problems)
    if changes.origins is not None:
        values["origins"] = _check_list(changes.origins, "origins", MAX_ORIGINS, normalise_origin, problems)
    if changes.chat_enabled is not None:
        values["chat_enabled"] = changes.chat_enabled
    if changes.require_consent is not None:
        values["require_consent"] = changes.require_consent
    if changes.blocked_email_domains is not None:
        values["blocked_email_domains"] = _check_list(
            changes.blocked_email_domains, "blocked_email_domains", MAX_BLOCKED_DOMAINS, normalise_domain, problems
        )
    if changes.block_free_email is not None:
        values["block_free_email"] = changes.block_free_email
    if changes.blocked_email_message is not None:
        values["blocked_email_message"] = _check_text(
            changes.blocked_email_message,
            "blocked_email_message",
            "message for blocked emails",
            MESSAGE_LIMIT,
            problems,
        )
    if changes.language_order is not None:
        values["language_order"] = _check_language_order(changes.language_order, problems)
    return values


def _raise(problems: list[Problem], what: str) -> None:
    if problems:
        raise InvalidInput(f"{what}: {problems[0].message}" if len(problems) == 1 else f"{what}.", problems)


# --- changes --------------------------------------------------------------------------------------------------------


def create(session: Session, key: str, changes: SiteChanges, now: datetime) -> Site:
    """Adds a site. Raises InvalidInput listing every problem (key, name, each bad origin or domain, message,
    language order), Conflict when the key is taken."""
    problems: list[Problem] = []
    key = _check_key(key, problems)
    site = Site(
        key=key,
        name="",
        origins=[],
        chat_enabled=True,
        require_consent=False,
        blocked_email_domains=[],
        block_free_email=False,
        blocked_email_message=DEFAULT_BLOCKED_MESSAGE,
        language_order=list(DEFAULT_LANGUAGE_ORDER),
        created_at=now,
    )
    if changes.name is None:
        problems.append(Problem("name", "Give the site a name, e.g. Main website."))
    values = _checked(changes, problems)
    _raise(problems, "The site cannot be added")
    for column, value in values.items():
        setattr(site, column, value)
    if find(session, key) is not None:
        raise Conflict(f"A site with the key '{key}' exists already.", [Problem("key", "Already in use.")])
    session.add(site)
    session.flush()
    signals.bump(session, signals.TARGETING)
    return site


def update(session: Session, site: Site, changes: SiteChanges) -> Site:
    """Changes the given settings; raises InvalidInput listing every problem, and then changes nothing."""
    problems: list[Problem] = []
    values = _checked(changes, problems)
    _raise(problems, f"The site '{site.key}' is not changed")
    for column, value in values.items():
        setattr(site, column, value)
    session.flush()
    signals.bump(session, signals.TARGETING)
    return site


def delete(session: Session, site: Site, used_by: Sequence[str]) -> None:
    """Deletes the site and its page views. `used_by` are the keys of the dialogues that name it (the caller finds
    them: dialogues live in a higher layer); raises Conflict when there are any, or for the default site."""
    if site.key == DEFAULT_SITE:
        raise Conflict("The default site cannot be deleted: dialogues without a site: line belong to it.")
    if used_by:
        names = ", ".join(sorted(used_by))
        raise Conflict(
            f"The site '{site.key}' cannot be deleted: these dialogues name it: {names}. "
            "Move them to another site or archive them first."
        )
    session.delete(site)
    session.flush()
    signals.bump(session, signals.TARGETING)
