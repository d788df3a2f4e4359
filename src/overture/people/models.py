"""People and companies: every visitor is a person, anonymous until known, linked to a company.

A person is found by any of their visitor ids (one per browser; merging people moves the ids), by email once known.
Built-in fields have their own columns; custom fields live in `fields` under their dotted name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Float, ForeignKey, Index, Integer, String, delete, event, insert
from sqlalchemy import inspect as inspect_object
from sqlalchemy.orm import InstanceState, Mapped, Mapper, mapped_column

from overture.db import Base, UTCDateTime, utcnow


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    # The main domain (lower case); every domain, this one included, is a row of company_domains.
    domain: Mapped[str | None] = mapped_column(String(253), default=None)
    industry: Mapped[str | None] = mapped_column(String(100), default=None)
    employees: Mapped[int | None] = mapped_column(Integer, default=None)
    revenue: Mapped[float | None] = mapped_column(Float, default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)  # ISO 3166 alpha-2
    # The account owner: an agent's email, used by routing.
    owner: Mapped[str | None] = mapped_column(String(254), default=None)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompanyDomain(Base):
    """One domain of one company: unique, so that two visitors of a new domain at once create one company."""

    __tablename__ = "company_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (Index("ix_people_last_seen_at_id", "last_seen_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique when set: two captures of one email at once end as one person.
    email: Mapped[str | None] = mapped_column(String(254), default=None, unique=True)
    # An email typed in chat that belongs to another person: a claim, not proof (docs/security.md). The visitor
    # stays this person, never that one; the claim links the two for the marketer, and invitations go to it.
    claimed_email: Mapped[str | None] = mapped_column(String(254), default=None, index=True)
    first_name: Mapped[str | None] = mapped_column(String(100), default=None)
    last_name: Mapped[str | None] = mapped_column(String(100), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    consent: Mapped[bool | None] = mapped_column(Boolean, default=None)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), default=None, index=True
    )
    # Every custom field by its dotted name ("person.segment").
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed with the id: the People page lists the most recently seen first, paged by (last_seen_at, id).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A visitor session ends after 30 minutes without a page view or reply; "once per session" counts these.
    session_number: Mapped[int] = mapped_column(Integer, default=1)
    # Visits with at least one page view (a visit is a visitor session).
    visit_count: Mapped[int] = mapped_column(Integer, default=0)
    # First touch: utm_*, referrer and landing page of the very first visit.
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The current visit: started_at, landing_page, referrer, utm_*, device, language, country.
    visit: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def contact_email(self) -> str | None:
        """Where to write to this person: their email, else the one this browser claimed in chat."""
        return self.email or self.claimed_email


class VisitorIdentity(Base):
    """A first-party visitor id (kept by the widget in one browser) and the person it belongs to."""

    __tablename__ = "visitor_identities"

    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonMerge(Base):
    """The record of an anonymous person merged into a known one (the merged row itself is gone)."""

    __tablename__ = "person_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    merged_person_id: Mapped[int] = mapped_column(Integer)
    visitor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(200))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FieldDefinition(Base):
    """A custom person or company field added by an admin. Built-in fields are in code (`fields.py`)."""

    __tablename__ = "field_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Dotted and stable (`person.segment`): dialogues and rules refer to it. Renaming changes the label only.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(10))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    visitor_fillable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Retired fields keep their data but can no longer be used by new dialogues, rules or imports.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PageView(Base):
    """One page the visitor opened, written before the visit call answers."""

    __tablename__ = "page_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), default=None)
    url: Mapped[str] = mapped_column(String(2000))
    referrer: Mapped[str | None] = mapped_column(String(2000), default=None)
    session_number: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PrivacyAction(Base):
    """Every privacy export and deletion, kept after the person is gone (who asked, when, about whom)."""

    __tablename__ = "privacy_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(10))  # export | delete
    person_id: Mapped[int] = mapped_column(Integer)
    # The email at the time, hashed: enough to answer "did you delete me?" without keeping the address.
    email_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    actor: Mapped[str] = mapped_column(String(254))  # a user's email, or "cli"
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- the name index --------------------------------------------------------------------------------------------------

NAME_WORD_LENGTH = 100
# Compared in code-point order on both engines (SQLite's default; "C" on PostgreSQL), so that a prefix is an index
# range whatever the database's collation.
_NAME_WORD = String(NAME_WORD_LENGTH).with_variant(String(NAME_WORD_LENGTH, collation="C"), "postgresql")


def name_words(*names: str | None) -> set[str]:
    """The words of names as the search index keeps them: lower case, split at spaces (a search term is matched
    against the start of each)."""
    return {word[:NAME_WORD_LENGTH] for name in names if name for word in name.lower().split(" ") if word}


class PersonNameWord(Base):
    """One word of a person's first or last name (lower case): the index the people and conversations searches
    read names by (people/directory.py). Kept by the listeners below, in the flush that changes the name.

    No foreign key on purpose: merges and privacy requests move or export every row of every table that points at
    people.id, and these rows are not data but the person's names again; they go when the person goes (below)."""

    __tablename__ = "person_name_words"
    __table_args__ = (Index("ix_person_name_words_person_id_word", "person_id", "word"),)

    word: Mapped[str] = mapped_column(_NAME_WORD, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class CompanyNameWord(Base):
    """One word of a company's name (lower case), as PersonNameWord for people."""

    __tablename__ = "company_name_words"
    __table_args__ = (Index("ix_company_name_words_company_id_word", "company_id", "word"),)

    word: Mapped[str] = mapped_column(_NAME_WORD, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)


def _changed(target: Person | Company, *attributes: str) -> bool:
    state: InstanceState[Person | Company] = inspect_object(target)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _write_person_words(connection: Connection, person: Person, *, replace: bool) -> None:
    if replace:
        connection.execute(delete(PersonNameWord).where(PersonNameWord.person_id == person.id))
    words = name_words(person.first_name, person.last_name)
    if words:
        connection.execute(insert(PersonNameWord), [{"word": word, "person_id": person.id} for word in sorted(words)])


def _write_company_words(connection: Connection, company: Company, *, replace: bool) -> None:
    if replace:
        connection.execute(delete(CompanyNameWord).where(CompanyNameWord.company_id == company.id))
    words = name_words(company.name)
    if words:
        connection.execute(
            insert(CompanyNameWord), [{"word": word, "company_id": company.id} for word in sorted(words)]
        )


# Every write of a name goes through the ORM (field writes, merges, imports, going back over an answer); the
# listeners write the index with the row, in the same transaction (and savepoint). A bulk UPDATE of names would
# bypass them: there is none, and tests/people/test_name_index.py checks each writer.


@event.listens_for(Person, "after_insert")
def _person_inserted(mapper: Mapper[Person], connection: Connection, person: Person) -> None:
    _write_person_words(connection, person, replace=False)


@event.listens_for(Person, "after_update")
def _person_updated(mapper: Mapper[Person], connection: Connection, person: Person) -> None:
    if _changed(person, "first_name", "last_name"):
        _write_person_words(connection, person, replace=True)


@event.listens_for(Person, "after_delete")
def _person_deleted(mapper: Mapper[Person], connection: Connection, person: Person) -> None:
    connection.execute(delete(PersonNameWord).where(PersonNameWord.person_id == person.id))


@event.listens_for(Company, "after_insert")
def _company_inserted(mapper: Mapper[Company], connection: Connection, company: Company) -> None:
    _write_company_words(connection, company, replace=False)


@event.listens_for(Company, "after_update")
def _company_updated(mapper: Mapper[Company], connection: Connection, company: Company) -> None:
    if _changed(company, "name"):
        _write_company_words(connection, company, replace=True)
