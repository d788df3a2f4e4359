"""The people and company directory as the admin reads it: one search box, a person's profile, companies.

Search is built to stay fast with 100,000 people. What is indexed (migrations 0004-0005): `people.email` (unique),
`people.company_id`, `people.last_seen_at`, `companies.name`, `company_domains.domain` (primary key). So:
- a term with "@" is an email prefix, matched as a range on the email index (emails are stored in lower case);
- a company name or domain is found in the (much smaller) companies tables first, then its people through the
  `people.company_id` index;
- first and last names are not indexed: a term without "@" also matches them by word prefix, which scans people.
  The list is ordered by last seen (newest first, on its index) and paged by a keyset cursor, so a page never
  counts or skips rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from overture.errors import InvalidInput, NotFound, Problem
from overture.people.fields import FieldSchema
from overture.people.models import (
    Company,
    CompanyDomain,
    FieldDefinition,
    PageView,
    Person,
    PersonMerge,
    PrivacyAction,
    VisitorIdentity,
)
from overture.people.schemas import (
    CompanyDetail,
    CompanyPage,
    CompanyRef,
    CompanySummary,
    FieldValue,
    MergeOut,
    PageViewOut,
    PersonPage,
    PersonProfile,
    PersonRef,
    PersonSummary,
    PrivacyActionOut,
)
from overture.people.service import COMPANY_COLUMNS, PERSON_COLUMNS

PAGE_SIZE = 50
MAX_TERMS = 5  # a search box, not a query language: later words are ignored
RECENT_PAGE_VIEWS = 20
CLAIMANTS_SHOWN = 20
COMPANY_PEOPLE_SHOWN = 100
CURSOR_PATTERN = r"^[0-9]{1,18}-[0-9]{1,10}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# --- cursors -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page of the people list ends: the last row's (last_seen_at, id)."""

    last_seen_at: datetime
    id: int

    def encode(self) -> str:
        return f"{(self.last_seen_at - _EPOCH) // _MICROSECOND}-{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises InvalidInput for a cursor this list did not make."""
        problem = InvalidInput(
            "The cursor is not one this list gave out. Start again from the first page.",
            [Problem("cursor", "Use the next_cursor of the previous page.")],
        )
        if not re.fullmatch(CURSOR_PATTERN, text):
            raise problem
        micros, _, row_id = text.partition("-")
        try:
            at = _EPOCH + timedelta(microseconds=int(micros))
        except OverflowError:
            raise problem from None
        if not 1 <= int(row_id) <= 2_147_483_647:
            raise problem
        return cls(at, int(row_id))


# --- search ------------------------------------------------------------------------------------------------------


def escaped_like(term: str) -> str:
    """`term` as a LIKE pattern matches it literally (with `escape="\\"`)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _after(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix` (its last character, plus one)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as an index range (the index is used) checked exactly by LIKE (the range
    alone is exact only in code-point collations: SQLite's, PostgreSQL's C and C.UTF-8)."""
    return and_(column >= prefix, column < _after(prefix), column.like(escaped_like(prefix) + "%", escape="\\"))


def like_any_case(column: Any, pattern: str, dialect: str) -> ColumnElement[bool]:
    # SQLite's LIKE already ignores the case of ASCII letters (its lower() knows no others either) and is several
    # times faster than lower(column) LIKE; on PostgreSQL lower(column) LIKE measured twice as fast as ILIKE.
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")  # type: ignore[no-any-return]
    return func.lower(column).like(pattern.lower(), escape="\\")


def _word_starts_with(column: Any, term: str, dialect: str) -> ColumnElement[bool]:
    """Any case: some word of `column` starts with `term` ("corp" finds "Acme Corp")."""
    pattern = escaped_like(term)
    return or_(like_any_case(column, pattern + "%", dialect), like_any_case(column, "% " + pattern + "%", dialect))


def _companies_matching(term: str, dialect: str) -> Any:
    """Ids of companies whose name has a word starting with `term`, or one of whose domains starts with it."""
    by_name = select(Company.id).where(_word_starts_with(Company.name, term, dialect))
    by_domain = select(CompanyDomain.company_id).where(_starts_with(CompanyDomain.domain, term.lower()))
    return by_name.union(by_domain)


def person_matches(term: str, dialect: str) -> ColumnElement[bool]:
    """A person whose email (or claimed email) starts with `term`, or, for a term without "@", a word of whose first
    or last name, or of whose company's name or domain, starts with it (any case). The conversations inbox searches
    with it too."""
    email = or_(_starts_with(Person.email, term.lower()), _starts_with(Person.claimed_email, term.lower()))
    if "@" in term:
        return email
    return or_(
        email,
        _word_starts_with(Person.first_name, term, dialect),
        _word_starts_with(Person.last_name, term, dialect),
        Person.company_id.in_(_companies_matching(term, dialect)),
    )


def search_terms(q: str | None) -> list[str]:
    return (q or "").split()[:MAX_TERMS]


def search_people(
    session: Session,
    q: str | None = None,
    *,
    known: bool | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> PersonPage:
    """People whose email, first or last name or company matches every word of `q` (by prefix, any case), newest
    seen first. `known`: True for people with an email, False for anonymous visitors. Raises InvalidInput for a
    cursor this function did not give out."""
    dialect = session.get_bind().dialect.name
    # Only (id, last_seen_at) go through the sort; the page's rows are loaded afterwards by primary key.
    query = select(Person.id, Person.last_seen_at)
    for term in search_terms(q):
        query = query.where(person_matches(term, dialect))
    if known is not None:
        query = query.where(Person.email.is_not(None) if known else Person.email.is_(None))
    if cursor:
        after = Cursor.decode(cursor)
        query = query.where(
            or_(
                Person.last_seen_at < after.last_seen_at,
                and_(Person.last_seen_at == after.last_seen_at, Person.id < after.id),
            )
        )
    keys = session.execute(query.order_by(Person.last_seen_at.desc(), Person.id.desc()).limit(limit + 1)).all()
    more = len(keys) > limit
    keys = keys[:limit]
    loaded = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_([k.id for k in keys])))}
    rows = [loaded[k.id] for k in keys if k.id in loaded]
    next_cursor = Cursor(keys[-1].last_seen_at, keys[-1].id).encode() if more else None
    return PersonPage(items=_summaries(session, rows), next_cursor=next_cursor)


def display_name(person: Person) -> str:
    full = " ".join(part for part in (person.first_name, person.last_name) if part)
    return full or person.email or "Anonymous visitor"


def _company_ref(company: Company | None) -> CompanyRef | None:
    return CompanyRef(id=company.id, name=company.name, domain=company.domain) if company else None


def _summaries(session: Session, people: list[Person]) -> list[PersonSummary]:
    company_ids = {p.company_id for p in people if p.company_id is not None}
    companies = (
        {c.id: c for c in session.scalars(select(Company).where(Company.id.in_(company_ids)))} if company_ids else {}
    )
    return [
        PersonSummary(
            id=p.id,
            name=display_name(p),
            email=p.email,
            first_name=p.first_name,
            last_name=p.last_name,
            known=p.email is not None,
            claimed_email=p.claimed_email,
            company=_company_ref(companies.get(p.company_id) if p.company_id is not None else None),
            first_seen_at=p.created_at,
            last_seen_at=p.last_seen_at,
            visit_count=p.visit_count,
        )
        for p in people
    ]


# --- a person ----------------------------------------------------------------------------------------------------


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"There is no person with id {person_id}: they may have been deleted or merged.")
    return person


def _field_values(session: Session, columns: dict[str, str], row: Person | Company) -> list[FieldValue]:
    """The row's non-empty fields with their labels: built-in ones in schema order, then custom ones by label.
    Retired custom fields keep their data, so they are shown too, marked as retired."""
    builtin = FieldSchema.builtin()
    values = [
        FieldValue(name=name, label=spec.label, value=getattr(row, columns[name]), custom=False)
        for name, spec in builtin.fields.items()
        if name in columns and getattr(row, columns[name]) not in (None, "")
    ]
    custom = {name: value for name, value in (row.fields or {}).items() if value not in (None, "")}
    if custom:
        definitions = {
            d.name: d for d in session.scalars(select(FieldDefinition).where(FieldDefinition.name.in_(custom)))
        }
        extra = []
        for name, value in custom.items():
            definition = definitions.get(name)
            label = definition.label if definition else name
            if definition is not None and definition.retired_at is not None:
                label += " (retired)"
            extra.append(FieldValue(name=name, label=label, value=value, custom=True))
        values += sorted(extra, key=lambda f: f.label.lower())
    return values


def profile(session: Session, person_id: int) -> PersonProfile:
    """A person's page without their conversations and activities (those belong to higher layers: see
    `conversations.history.person_profile`). Raises NotFound."""
    person = get_person(session, person_id)
    company = session.get(Company, person.company_id) if person.company_id is not None else None
    visitor_ids = session.scalars(
        select(VisitorIdentity.visitor_id)
        .where(VisitorIdentity.person_id == person.id)
        .order_by(VisitorIdentity.created_at, VisitorIdentity.visitor_id)
    )
    views = session.scalars(
        select(PageView)
        .where(PageView.person_id == person.id)
        .order_by(PageView.occurred_at.desc(), PageView.id.desc())
        .limit(RECENT_PAGE_VIEWS)
    )
    merges = session.scalars(
        select(PersonMerge).where(PersonMerge.survivor_id == person.id).order_by(PersonMerge.merged_at.desc())
    )
    privacy = session.scalars(
        select(PrivacyAction).where(PrivacyAction.person_id == person.id).order_by(PrivacyAction.occurred_at.desc())
    )
    owner = session.scalar(select(Person).where(Person.email == person.claimed_email)) if person.claimed_email else None
    claimants: list[Person] = (
        list(
            session.scalars(
                select(Person)
                .where(Person.claimed_email == person.email)
                .order_by(Person.last_seen_at.desc())
                .limit(CLAIMANTS_SHOWN)
            )
        )
        if person.email
        else []
    )
    return PersonProfile(
        id=person.id,
        name=display_name(person),
        email=person.email,
        known=person.email is not None,
        claimed_email=person.claimed_email,
        claimed_person=PersonRef(id=owner.id, name=display_name(owner)) if owner else None,
        claimed_by=[PersonRef(id=claimant.id, name=display_name(claimant)) for claimant in claimants],
        fields=_field_values(session, PERSON_COLUMNS, person),
        company=_company_ref(company),
        visitor_ids=list(visitor_ids),
        first_seen_at=person.created_at,
        last_seen_at=person.last_seen_at,
        visit_count=person.visit_count,
        source=person.source or {},
        last_visit=person.visit or {},
        page_views=[
            PageViewOut(url=v.url, referrer=v.referrer, occurred_at=v.occurred_at, session_number=v.session_number)
            for v in views
        ],
        merges=[
            MergeOut(
                merged_person_id=m.merged_person_id, visitor_ids=m.visitor_ids, reason=m.reason, merged_at=m.merged_at
            )
            for m in merges
        ],
        privacy_actions=[PrivacyActionOut(action=a.action, actor=a.actor, occurred_at=a.occurred_at) for a in privacy],
    )


# --- companies ---------------------------------------------------------------------------------------------------


def _people_count() -> Any:
    """How many people a company has, counted through the `people.company_id` index."""
    return select(func.count(Person.id)).where(Person.company_id == Company.id).correlate(Company).scalar_subquery()


def _company_summary(company: Company, people_count: int) -> CompanySummary:
    return CompanySummary(
        id=company.id,
        name=company.name,
        domain=company.domain,
        industry=company.industry,
        owner=company.owner,
        people_count=people_count,
    )


def list_companies(session: Session, q: str | None = None, *, page: int = 1, limit: int = PAGE_SIZE) -> CompanyPage:
    """Companies whose name (a word of it) or one of whose domains starts with every word of `q`, by name."""
    dialect = session.get_bind().dialect.name
    matching = select(Company.id)
    for term in search_terms(q):
        matching = matching.where(Company.id.in_(_companies_matching(term, dialect)))
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    rows = session.execute(
        select(Company, _people_count())
        .where(Company.id.in_(matching))
        # Unnamed companies (made from a domain only) last; the id keeps the order stable between pages.
        .order_by(Company.name.is_(None), func.lower(Company.name), Company.domain, Company.id)
        .limit(limit)
        .offset((page - 1) * limit)
    ).all()
    return CompanyPage(
        items=[_company_summary(company, count) for company, count in rows],
        page=page,
        pages=max(1, -(-total // limit)),
        total=total,
    )


def company_detail(session: Session, company_id: int) -> CompanyDetail:
    """A company's page: fields, domains, owner and its most recently seen people. Raises NotFound."""
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"There is no company with id {company_id}.")
    count = session.scalar(select(func.count(Person.id)).where(Person.company_id == company.id)) or 0
    domains = session.scalars(
        select(CompanyDomain.domain).where(CompanyDomain.company_id == company.id).order_by(CompanyDomain.domain)
    )
    people = list(
        session.scalars(
            select(Person)
            .where(Person.company_id == company.id)
            .order_by(Person.last_seen_at.desc(), Person.id.desc())
            .limit(COMPANY_PEOPLE_SHOWN)
        )
    )
    return CompanyDetail(
        **_company_summary(company, count).model_dump(),
        fields=_field_values(session, COMPANY_COLUMNS, company),
        domains=list(domains),
        people=_summaries(session, people),
    )
