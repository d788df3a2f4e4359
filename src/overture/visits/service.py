"""The visit call: record the page view, update the visitor's visit data, and choose the dialogue to show.

This is the hottest path of the product (every page of every customer site calls it), so it is written with
SQLAlchemy Core over one connection, not the ORM: a handful of indexed statements, run inside the group
committer's batch (see `group_commit.py`), so the page view is durable when the answer leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.errors import Forbidden, NotFound
from overture.people.models import Company, PageView, Person, VisitorIdentity
from overture.people.service import (
    COMPANY_COLUMNS,
    PERSON_COLUMNS,
    new_visitor_id,
    session_at,
    well_formed_visitor_id,
)
from overture.sites.origins import origin_allowed
from overture.targeting.facts import ActivityFact, PageFacts, VisitorFacts
from overture.targeting.selector import Decision
from overture.visits.selector_cache import SelectorCache, Targeting

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# The newest activities a visit reads for audience and frequency rules.
ACTIVITIES_READ = 500

people = cast(Table, Person.__table__)
identities = cast(Table, VisitorIdentity.__table__)
companies = cast(Table, Company.__table__)
activities = cast(Table, Activity.__table__)
conversations = cast(Table, Conversation.__table__)
page_views = cast(Table, PageView.__table__)


@dataclass(frozen=True)
class Visit:
    """One page view as the widget reports it (plus what the web layer knows: the country header)."""

    site: str
    url: str
    visitor_id: str | None = None
    referrer: str | None = None
    page_language: str | None = None
    browser_languages: Sequence[str] = ()
    device: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Continuing:
    """An engaged conversation that follows the visitor to this page instead of a new dialogue being chosen."""

    conversation_id: str
    dialogue: str


@dataclass(frozen=True)
class VisitResult:
    visitor_id: str
    decision: Decision | None
    continuing: Continuing | None


def record_visit(
    connection: Connection, cache: SelectorCache, visit: Visit, now: datetime, *, origin: str | None, own_origin: str
) -> VisitResult:
    """Records the page view and chooses what to show, in the caller's transaction. A page whose origin the site
    does not allow is refused (the snippet does nothing there) and nothing is recorded."""
    targeting = cache.current(connection)
    site = targeting.sites.get(visit.site)
    if site is None:
        raise NotFound(f"There is no site '{visit.site}'. Check the data-site attribute of the snippet.")
    if not origin_allowed(site.origins, origin, own_origin):
        raise Forbidden(
            f"Pages of {origin} may not use site '{visit.site}'. Add the origin to the site's allowed origins "
            "in Configuration > Sites."
        )
    person, visitor_id = _person(connection, visit, now)
    connection.execute(
        ADD_PAGE_VIEW,
        {
            "person_id": person["id"],
            "site_id": site.id,
            "url": visit.url,
            "referrer": visit.referrer or None,
            "session_number": person["session_number"],
            "occurred_at": now,
        },
    )
    continuing = engaged_conversation(connection, targeting, person["id"], visitor_id, visit.site)
    if continuing is not None:
        return VisitResult(visitor_id, None, continuing)
    facts = _visitor_facts(connection, targeting, person, now)
    decision = targeting.selector.select(visit.site, PageFacts(url=visit.url), facts, now)
    return VisitResult(visitor_id, decision, None)


def visitor_facts_of(connection: Connection, cache: SelectorCache, person_id: int, now: datetime) -> VisitorFacts:
    """What the selector knows of an existing person, without recording anything (for explain)."""
    row = connection.execute(PERSON_BY_ID, {"person_id": person_id}).mappings().first()
    if row is None:
        raise NotFound(f"There is no person {person_id}.")
    return _visitor_facts(connection, cache.current(connection), dict(row), now)


# --- the statements, built once: on this path building a statement costs as much as running it --------------

_PERSON_AND_COMPANY = select(
    people, *(column.label(f"company_{column.name}") for column in companies.columns if column.name != "id")
).outerjoin(companies, companies.c.id == people.c.company_id)
PERSON_BY_VISITOR = _PERSON_AND_COMPANY.join(identities, identities.c.person_id == people.c.id).where(
    identities.c.visitor_id == bindparam("visitor_id")
)
PERSON_BY_ID = _PERSON_AND_COMPANY.where(people.c.id == bindparam("person_id"))
SEEN_AGAIN = (
    update(people)
    .where(people.c.id == bindparam("person_id"))
    .values(last_seen_at=bindparam("last_seen_at"), session_number=bindparam("session_number"))
)
NEW_VISIT = SEEN_AGAIN.values(
    visit=bindparam("visit", type_=people.c.visit.type),
    visit_count=bindparam("visit_count"),
    source=bindparam("source", type_=people.c.source.type),
)
ADD_PAGE_VIEW = insert(page_views)
ADD_PERSON = insert(people).returning(people.c.id)
ADD_IDENTITY = insert(identities)
_ACTIVITIES = select(
    activities.c.type,
    activities.c.dialogue_id,
    activities.c.attributes,
    activities.c.occurred_at,
    activities.c.session_number,
).where(activities.c.person_id == bindparam("person_id"))
_NEWEST = activities.c.occurred_at.desc()
# The newest activities of a visit session and, apart, the newest recorded outside any (session 0: an integration's,
# such as Marketo's page visits): hundreds of those never push a dialogue completed out of what targeting reads.
_IN_SESSIONS = _ACTIVITIES.where(activities.c.session_number > 0).order_by(_NEWEST).limit(ACTIVITIES_READ).subquery()
_OUTSIDE = _ACTIVITIES.where(activities.c.session_number == 0).order_by(_NEWEST).limit(ACTIVITIES_READ).subquery()
ACTIVITIES_OF = select(_IN_SESSIONS).union_all(select(_OUTSIDE))

ENGAGED_CONVERSATIONS_OF_PERSON = (
    select(conversations.c.public_id, conversations.c.dialogue_id)
    .where(
        conversations.c.person_id == bindparam("person_id"),
        conversations.c.status == "active",
        conversations.c.step > 0,
    )
    .order_by(conversations.c.updated_at.desc())
    .limit(5)
)
# A conversation follows only the browser that started it, even when its person is known in another one.
ENGAGED_CONVERSATIONS = ENGAGED_CONVERSATIONS_OF_PERSON.where(conversations.c.visitor_id == bindparam("visitor_id"))


# --- the person and their visit ------------------------------------------------------------------------------


def _person(connection: Connection, visit: Visit, now: datetime) -> tuple[dict[str, Any], str]:
    """The visitor's person row after this page view (session, visit count and visit data updated), with their
    company's columns as company_*."""
    row = None
    if visit.visitor_id:
        row = connection.execute(PERSON_BY_VISITOR, {"visitor_id": visit.visitor_id}).mappings().first()
    if row is None:
        return _new_person(connection, visit, now)
    assert visit.visitor_id is not None
    return _seen_again(connection, dict(row), visit, now), visit.visitor_id


def _seen_again(connection: Connection, person: dict[str, Any], visit: Visit, now: datetime) -> dict[str, Any]:
    session_number = session_at(person["last_seen_at"], person["session_number"], now)
    changes: dict[str, Any] = {"last_seen_at": max(person["last_seen_at"], now), "session_number": session_number}
    if (person["visit"] or {}).get("session") == session_number:
        connection.execute(SEEN_AGAIN, {"person_id": person["id"], **changes})
    else:
        # The first page view of a visitor session starts a visit (a reply may have opened the session already).
        changes["visit"] = _visit_data(visit, session_number, now)
        changes["visit_count"] = person["visit_count"] + 1
        changes["source"] = person["source"] or _source(visit)
        connection.execute(NEW_VISIT, {"person_id": person["id"], **changes})
    person.update(changes)
    return person


def _new_person(connection: Connection, visit: Visit, now: datetime) -> tuple[dict[str, Any], str]:
    visitor_id = visit.visitor_id if well_formed_visitor_id(visit.visitor_id) else new_visitor_id()
    assert visitor_id is not None
    values: dict[str, Any] = {
        "fields": {},
        "created_at": now,
        "last_seen_at": now,
        "session_number": 1,
        "visit_count": 1,
        "source": _source(visit),
        "visit": _visit_data(visit, 1, now),
    }
    try:
        with connection.begin_nested():
            person_id = connection.execute(ADD_PERSON, values).scalar_one()
            connection.execute(ADD_IDENTITY, {"visitor_id": visitor_id, "person_id": person_id, "created_at": now})
    except IntegrityError:
        # Another process made this visitor id's person between our look-up and our write (the first two page
        # views of a new browser at once; PostgreSQL made us wait for it): that person is this visitor.
        row = connection.execute(PERSON_BY_VISITOR, {"visitor_id": visitor_id}).mappings().first()
        if row is None:
            raise
        return _seen_again(connection, dict(row), visit, now), visitor_id
    person = {column.name: None for column in people.columns} | values | {"id": person_id}
    return person, visitor_id


def _utm(url: str) -> dict[str, str]:
    query = urlsplit(url).query
    return {key: value for key, value in parse_qsl(query) if key in UTM_KEYS and value} if query else {}


def _source(visit: Visit) -> dict[str, Any]:
    """First touch: where the very first visit came from."""
    return {"landing_page": visit.url, "referrer": visit.referrer or None, **_utm(visit.url)}


def _visit_data(visit: Visit, session_number: int, now: datetime) -> dict[str, Any]:
    return {
        "session": session_number,
        "started_at": now.isoformat(),
        "landing_page": visit.url,
        "referrer": visit.referrer or None,
        "device": visit.device,
        "language": visit.page_language or (visit.browser_languages[0] if visit.browser_languages else None),
        "country": visit.country,
        **_utm(visit.url),
    }


# --- what the selector reads ----------------------------------------------------------------------------------


def _visitor_facts(
    connection: Connection, targeting: Targeting, person: Mapping[str, Any], now: datetime
) -> VisitorFacts:
    fields: dict[str, Any] = {name: person.get(column) for name, column in PERSON_COLUMNS.items()}
    fields.update(person.get("fields") or {})
    # The email this browser typed, when it belongs to someone else: what this browser said, nothing more.
    fields["person.email"] = fields.get("person.email") or person.get("claimed_email")
    if person.get("company_id") is not None:
        fields.update({name: person[f"company_{column}"] for name, column in COMPANY_COLUMNS.items()})
        fields.update(person["company_fields"] or {})
    fields.update(_visit_fields(person, now))
    facts = [
        _fact(targeting, kind, dialogue_id, attributes or {}, at, session)
        for kind, dialogue_id, attributes, at, session in connection.execute(ACTIVITIES_OF, {"person_id": person["id"]})
    ]
    return VisitorFacts(fields=fields, activities=facts, session_number=person["session_number"])


def _visit_fields(person: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    visit = person.get("visit") or {}
    started = visit.get("started_at")
    seconds = int((now - datetime.fromisoformat(started)).total_seconds()) if started else 0
    fields = {f"visit.{key}": visit.get(key) for key in ("referrer", "landing_page", "device", "language", "country")}
    fields.update({f"visit.{key}": visit.get(key) for key in UTM_KEYS})
    fields.update({"visit.count": person.get("visit_count") or 0, "visit.time_on_site": max(seconds, 0)})
    return fields


def _fact(
    targeting: Targeting, kind: str, dialogue_id: int | None, attributes: dict[str, Any], at: datetime, session: int
) -> ActivityFact:
    """An activity as the selector reads it: its type and the name conditions test (a dialogue key, a goal...)."""
    if kind == "goal.reached":
        name = str(attributes.get("goal", ""))
    elif kind == "link.clicked":
        name = str(attributes.get("url", ""))
    elif kind == "field.captured":
        name = str(attributes.get("field", ""))
    elif "subject" in attributes:  # recorded by an integration (a Marketo email clicked...): what it is about
        name = str(attributes["subject"])
    else:
        name = targeting.dialogue_keys.get(dialogue_id, "") if dialogue_id is not None else ""
    return ActivityFact(type=kind, name=name, at=at, session_number=session)


def engaged_conversation(
    connection: Connection, targeting: Targeting, person_id: int, visitor_id: str | None, site: str
) -> Continuing | None:
    """The visitor's most recent conversation started in this browser (in any of theirs when `visitor_id` is None:
    the admin's explain) that is active and answered at least once, on this site's dialogue."""
    statement = ENGAGED_CONVERSATIONS if visitor_id is not None else ENGAGED_CONVERSATIONS_OF_PERSON
    parameters = {"person_id": person_id, "visitor_id": visitor_id}
    for public_id, dialogue_id in connection.execute(statement, parameters):
        key = targeting.dialogue_keys.get(dialogue_id)
        if key is not None and targeting.dialogue_sites.get(key, site) == site:
            return Continuing(conversation_id=public_id, dialogue=key)
    return None
