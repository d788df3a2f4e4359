"""The people and company directory as the admin reads it: one search box, a person's profile, companies.

Search is built to stay fast with 400,000 people and, in the conversations inbox that shares it, a million
conversations. What it reads through indexes: `people.email` (unique) and `people.claimed_email`,
`people.company_id`, `people (last_seen_at, id)`, `company_domains.domain` (primary key), and the name index
(migration 0017): every word of a person's first and last name (`person_name_words`) and of a company's name
(`company_name_words`), in lower case, written with the name in the same transaction (the listeners in
people/models.py). So:
- a term with "@" is an email prefix, matched as a range on the email indexes (emails are stored in lower case);
- a term without "@" also matches a word of the first or last name, or of the company's name, by its start, any case
  (words are split at spaces; accents are kept: "elodie" does not find "Élodie"), and the start of a company's
  domain: each a range on an index;
- the people matching every term are found first (`matching_people`), when some term matches at most FEW_PEOPLE, by
  those ranges; the list then reads only them (the inbox: their conversations, by the index of each person's
  conversations). When every term matches more, the list is read in its order and each row is checked against the
  terms (`person_matches`, each check an index look-up), which soon fills a page since many match.
The list is ordered by last seen (newest first, on its index) and paged by a keyset cursor, so a page never counts or
skips rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, any_, bindparam, false, func, literal, or_, select, union
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from overture.errors import InvalidInput, NotFound, Problem
from overture.people.fields import FieldSchema
from overture.people.models import (
    Company,
    CompanyDomain,
    CompanyNameWord,
    FieldDefinition,
    PageView,
    Person,
    PersonMerge,
    PersonNameWord,
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
# Up to this many people matching the search, the lists read those people's rows by id; past it, the list is read
# in its order, checking each row (bench/inbox.py measured both ways: see `matching_people`).
FEW_PEOPLE = 10_000
FIRST_LOOK = 200
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


def among(column: Any, ids: Collection[int], dialect: str) -> ColumnElement[bool]:
    """`column` is one of `ids`, sent as one parameter (an array; JSON on SQLite): thousands of ids cost one bind,
    not one each (10,000 bound one by one took 20 ms on SQLite)."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))  # type: ignore[no-any-return]
    each = func.json_each(bindparam(None, json.dumps(list(ids)))).table_valued("value")
    return column.in_(select(each.c.value))  # type: ignore[no-any-return]


def _in_range(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`: exact as a range alone, the name index being in code-point order."""
    return and_(column >= prefix, column < _after(prefix))


def _companies_matching(term: str) -> Any:
    """Ids of companies a word of whose name starts with `term`, or one of whose domains starts with it (any case)."""
    lowered = term.lower()
    by_name = select(CompanyNameWord.company_id).where(_in_range(CompanyNameWord.word, lowered))
    by_domain = select(CompanyDomain.company_id).where(_starts_with(CompanyDomain.domain, lowered))
    return by_name.union_all(by_domain)  # a company twice costs nothing; a union of all would be read to the end


def _email_matches(term: str) -> ColumnElement[bool]:
    return or_(_starts_with(Person.email, term.lower()), _starts_with(Person.claimed_email, term.lower()))


def _probe(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS a row, looked up by index for each row checked. `OFFSET 0` keeps PostgreSQL from hashing the whole
    range instead (it costs that for every row of the table, not the few a page reads: a third of the name index
    hashed to check 150 people took 110 ms)."""
    found = select(literal(1)).where(*conditions).offset(0)
    return found.exists()


def person_matches(term: str) -> ColumnElement[bool]:
    """A person (a row of `people` in the query) whose email (or claimed email) starts with `term`, or, for a term
    without "@", a word of whose first or last name, or of whose company's name, or whose company's domain, starts
    with it (any case). Each part is an index look-up for the row at hand."""
    if "@" in term:
        return _email_matches(term)
    lowered = term.lower()
    name = _probe(PersonNameWord.person_id == Person.id, _in_range(PersonNameWord.word, lowered))
    company_name = _probe(CompanyNameWord.company_id == Person.company_id, _in_range(CompanyNameWord.word, lowered))
    domain = _probe(CompanyDomain.company_id == Person.company_id, _starts_with(CompanyDomain.domain, lowered))
    return or_(_email_matches(term), name, company_name, domain)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _counted(query: Any, cap: int) -> Any:
    """How many rows `query` selects, counted no further than past `cap`."""
    return select(func.count()).select_from(query.limit(cap + 1).subquery()).scalar_subquery()


def _people_of(session: Session, term: str, cap: int) -> set[int] | None:
    """The ids of the people `term` matches, None when they are more than `cap`. Each index range is counted no
    further than past `cap`, all in one query, before any id is read (reading ten thousand ids only to drop them
    took longer than the search they spare); then the ids of the ranges that matched, in another."""
    lowered = term.lower()
    parts = [select(Person.id).where(_starts_with(column, lowered)) for column in (Person.email, Person.claimed_email)]
    companies = None
    if "@" not in term:
        parts.append(select(PersonNameWord.person_id).where(_in_range(PersonNameWord.word, lowered)))
        companies = _companies_matching(term)
    counted = [*parts, companies] if companies is not None else [*parts, select(literal(1)).where(false())]
    counts = list(session.execute(select(*(_counted(query, cap) for query in counted))).one())
    if sum(counts[:-1]) > cap or counts[-1] > cap:
        return None  # so many companies have more people still (or few, rarely: then the list is slower)
    if companies is not None and counts[-1]:
        parts.append(select(Person.id).where(Person.company_id.in_(companies)))
        counts[-1] = session.scalar(select(_counted(parts[-1], cap))) or 0
        if sum(counts) > cap:
            return None
    matched = [query for query, count in zip(parts, counts, strict=False) if count]
    return set(session.scalars(union(*matched))) if matched else set()


def matching_people(session: Session, terms: list[str], cap: int | None = None) -> list[int] | None:
    """The ids of the people every term matches (`person_matches`), when some term matches at most `cap` people;
    None when each matches more (then a list had better be read in its own order, checking each row: one in
    `cap / people` rows or more matches). `cap`: FEW_PEOPLE by default. The conversations inbox uses it too."""
    cap = FEW_PEOPLE if cap is None else cap
    few: list[set[int]] = []
    pending = list(terms)
    # Of several terms, a first look counts each one's people no further than FIRST_LOOK: a term that matches fewer
    # decides, the others are counted no further than it matched, then checked on its people instead. Else (and for
    # a single term) a look up to `cap`.
    for limit in sorted({min(cap, FIRST_LOOK), cap}) if len(terms) > 1 else [cap]:
        many = []
        for term in pending:
            ids = _people_of(session, term, min([limit, *(len(found) for found in few)]))
            if ids is None:
                many.append(term)
            else:
                few.append(ids)
        pending = many
        if few:
            break
    if not few:
        return None
    found = set.intersection(*few)
    if found and many:
        checked = select(Person.id).where(
            among(Person.id, found, _dialect(session)), *(person_matches(term) for term in many)
        )
        found = set(session.scalars(checked))
    return sorted(found)


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
    # Only (id, last_seen_at) go through the sort; the page's rows are loaded afterwards by primary key.
    query = select(Person.id, Person.last_seen_at)
    terms = search_terms(q)
    if terms:
        found = matching_people(session, terms)
        if found is None:
            query = query.where(*(person_matches(term) for term in terms))
        else:
            query = query.where(among(Person.id, found, _dialect(session)))
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
    matching = select(Company.id)
    for term in search_terms(q):
        matching = matching.where(Company.id.in_(_companies_matching(term)))
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
