"""Identity resolution: what an email tells us about who a visitor is (docs/security.md, "The identity model").

- A new email fills the (anonymous) person who gave it.
- An email typed in chat that belongs to another person is a claim, not proof: anybody can type anybody's email.
  The visitor stays their own person; the email is kept as their `claimed_email`, which links them to its owner
  for the marketer and is where their invitations go. Nothing of the owner reaches that browser (no conversation,
  no field, no greeting), and nothing the visitor answers is written to the owner.
- A proven email (a signed `identify` from the host's server) merges an anonymous visitor into its owner: every
  row that points at the anonymous person (visitor ids, conversations, activities, page views, and whatever table
  is added later) moves to the known one, the anonymous row is deleted and the merge is recorded (`PersonMerge`).
  A table where a person has at most one row per something (a program's members: one status per program) says
  what to do when both people have one, as a function in its `info["on_merge"]`, called before the rows move
  (programs/merging.py).
- Two known people are never merged: a known person who gives another person's email keeps their own.
- A visitor id is never matched to another one: people merge only through a proven email.
- The person's company comes from the email's domain (`companies.py`); a claimed email gives no company.

Concurrency: `people.email` and `company_domains.domain` are unique. Each is written in a SAVEPOINT; when another
transaction wrote the same value first, the unique index refuses ours (PostgreSQL makes us wait for the other
transaction, then refuses), and we read the winner: a proven email merges into it, a typed one claims it. Two
captures of one new email at once leave one owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, select, update
from sqlalchemy import inspect as inspect_object
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from overture.db import Base
from overture.people.companies import link_company
from overture.people.company_before import CompanyBefore
from overture.people.email_domains import normalize_email
from overture.people.models import Person, PersonMerge, VisitorIdentity

# Person columns a survivor takes from the merged person when it has no value of its own.
FILLED_ON_MERGE = ("first_name", "last_name", "phone", "title", "language", "consent", "company_id")
REASON_MAX = 200


@dataclass(frozen=True)
class Captured:
    """The person the visitor is after giving an email, and their company as it was before when the email changed
    it (None when it did not, or when the visitor was merged into another person)."""

    person: Person
    company_before: CompanyBefore | None


def capture_email(
    session: Session, person: Person, email: str, now: datetime, *, proven: bool, where: str = ""
) -> Person:
    """`capture` for callers that only need the person."""
    return capture(session, person, email, now, where=where, proven=proven).person


def capture(session: Session, person: Person, email: str, now: datetime, *, proven: bool, where: str = "") -> Captured:
    """Gives `person` the email they told us (stored stripped and lower-cased); returns the person the visitor is
    from now on: `person`, or, for a `proven` email, the existing person they were merged into. `where` completes
    the reason of a proven email's merge ("through identify on site ..."). Also gives the person the company of the
    email's domain (`link_company`).

    An email of another person that is not proven (typed in chat) becomes `person`'s claimed email when they have
    none of their own, and changes nothing else. A known person (with another email) who gives the email of
    someone else keeps their own email, and nothing is merged: an email does not prove that two known people are one.
    """
    email = normalize_email(email)
    given = person
    if person.email != email:
        owner = _owner(session, email, person.id)
        if owner is None and _claim_email(session, person, email):
            owner = person
        elif owner is None:
            # Another transaction took the email between our look-up and our write: it is theirs.
            owner = _owner(session, email, person.id)
            if owner is None:  # refused by the index, yet nobody has it: not a race we know how to resolve
                raise RuntimeError(f"The email {email} was refused by the database but belongs to nobody.")
        if owner is not person:
            if person.email is not None:
                return Captured(person, None)
            if not proven:
                person.claimed_email = email
                return Captured(person, None)
            person = merge(session, person, owner, now, reason=f"email {email} captured {where}")
    person.claimed_email = None
    before = link_company(session, person, now, merge_answers=True)
    return Captured(person, before if person is given else None)


def _owner(session: Session, email: str, other_than: int) -> Person | None:
    # Emails are stored normalised, so equality is a case-insensitive match that uses the unique index.
    return session.scalar(select(Person).where(Person.email == email, Person.id != other_than))


def _claim_email(session: Session, person: Person, email: str) -> bool:
    """Writes the email in a savepoint; False (and nothing written) when another person has it."""
    session.flush()  # pending changes are written outside the savepoint, so a refused email does not undo them
    try:
        with session.begin_nested():
            person.email = email
            session.flush()
    except IntegrityError:
        return False  # the savepoint's rollback expired `person`: it reads its row (without the email) again
    return True


def merge(session: Session, merged: Person, survivor: Person, now: datetime, *, reason: str) -> Person:
    """Merges `merged` (an anonymous person) into `survivor`: every row pointing at `merged` moves, the survivor
    keeps its own values and takes the ones it lacks, `merged` is deleted and the merge recorded. Returns the
    survivor. Objects of this session that pointed at `merged` (a conversation, its activities) are updated too."""
    session.flush()
    visitor_ids = list(
        session.scalars(select(VisitorIdentity.visitor_id).where(VisitorIdentity.person_id == merged.id))
    )
    _take_values(survivor, merged)
    for table in Base.metadata.sorted_tables:
        settle = table.info.get("on_merge")
        if settle is not None:
            settle(session, merged.id, survivor.id, now)
    for column in people_references():
        session.execute(update(column.table).where(column == merged.id).values({column.name: survivor.id}))
    _repoint_loaded(session, merged.id, survivor.id)
    merged_id = merged.id
    session.delete(merged)
    session.add(
        PersonMerge(
            survivor_id=survivor.id,
            merged_person_id=merged_id,
            visitor_ids=visitor_ids,
            reason=reason[:REASON_MAX],
            merged_at=now,
        )
    )
    session.flush()
    return survivor


def people_references() -> list[Column[int]]:
    """Every column of every table that points at people.id, as the models declare them. A table added later
    (meetings, ...) is found here once its models are imported, which the app does at start."""
    people_id = Person.__table__.c.id
    return [
        foreign_key.parent
        for table in Base.metadata.sorted_tables
        for foreign_key in table.foreign_keys
        if foreign_key.column is people_id
    ]


def _take_values(survivor: Person, merged: Person) -> None:
    """The survivor's known values win; it takes what it lacks, the first touch of whichever came first, and the
    current visit of whichever was seen last."""
    for column in FILLED_ON_MERGE:
        if getattr(survivor, column) is None and getattr(merged, column) is not None:
            setattr(survivor, column, getattr(merged, column))
    survivor.fields = {**(merged.fields or {}), **(survivor.fields or {})}
    older, newer = sorted((survivor, merged), key=lambda person: person.created_at)
    survivor.source = dict(older.source or newer.source or {})
    if merged.last_seen_at > survivor.last_seen_at:
        survivor.visit = dict(merged.visit or {})
    survivor.created_at = older.created_at
    survivor.last_seen_at = max(survivor.last_seen_at, merged.last_seen_at)
    # Past both numberings, so a "once per session" check never matches a session of the other person.
    survivor.session_number = max(survivor.session_number, merged.session_number)
    # In SQL, so that two anonymous people merged into one survivor at once both count.
    survivor.visit_count = Person.visit_count + merged.visit_count


def _repoint_loaded(session: Session, merged_id: int, survivor_id: int) -> None:
    """The UPDATEs above bypass the session: objects it holds that pointed at the merged person now say the
    survivor, as the database does (without marking them changed)."""
    references = {(column.table.name, column.name) for column in people_references()}
    for instance in list(session.identity_map.values()):
        mapper = inspect_object(instance).mapper
        for attribute in mapper.column_attrs:
            column = attribute.columns[0]
            if not isinstance(column, Column) or (column.table.name, column.name) not in references:
                continue
            if instance.__dict__.get(attribute.key) == merged_id:
                set_committed_value(instance, attribute.key, survivor_id)
