"""The company of a person's email, and how to put it back when the email is taken back.

- A person without a company joins the company of their email's domain (the most specific of its domains),
  created from the domain (and named after it) when no company has it. Free-mail domains say nothing about a
  company: they never make or join one.
- A company without a domain that the person already has (made by their answers about it, or named by an import)
  takes the email's domain when no company has it.
- For a visitor's email (`merge_answers`), when another company has the domain and the domainless company is the
  visitor's alone, its values fill what that company lacks (the company's own known values win, as with people),
  the visitor joins it and the emptied company is deleted. An import keeps the company its rows name.
- Each of these changes returns a `CompanyBefore`: the conversation keeps it with the answer that gave the email,
  and going back over that answer puts the company back as it was (`restore`).

Concurrency: `company_domains.domain` is unique. A domain is claimed in a SAVEPOINT; when another transaction
claimed it first, the unique index refuses ours (PostgreSQL makes us wait for the other transaction, then refuses),
and we join the winner, merging into it as above.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.people.company_before import CompanyBefore
from overture.people.email_domains import company_domains, company_name, domain_of, is_free
from overture.people.models import Company, CompanyDomain, Person
from overture.people.service import company_values, set_company_field


def link_company(
    session: Session, person: Person, now: datetime, *, merge_answers: bool = False
) -> CompanyBefore | None:
    """Gives the person the company of their email's domain, as the module says. Returns the company as it was
    before, or None when nothing changed (a free-mail address, a company that already has a domain...)."""
    domain = domain_of(person.email or "")
    if not domain or is_free(domain):
        return None
    company = session.get(Company, person.company_id) if person.company_id is not None else None
    if company is not None and company.domain is not None:
        return None
    owner = _company_by_domain(session, domain)
    if company is None:
        person.company_id = (owner or _new_company(session, domain, now)).id
        return CompanyBefore()
    before = CompanyBefore(id=company.id, values=company_values(company))
    if owner is None and _claim_domain(session, company, domain, now):
        return before
    if not merge_answers or _others_on(session, company, person):
        return None
    filled = _merge(session, company, owner or _owner(session, domain), person, now)
    return before.model_copy(update={"filled": filled})


def _others_on(session: Session, company: Company, person: Person) -> bool:
    """True when someone besides `person` belongs to the company."""
    others = select(Person.id).where(Person.company_id == company.id, Person.id != person.id).limit(1)
    return session.scalar(others) is not None


def _merge(session: Session, merged: Company, survivor: Company, person: Person, now: datetime) -> list[str]:
    """Moves the person from `merged` (theirs alone, without a domain) to `survivor`, which takes the values it
    lacks; `merged` is deleted. Returns the names of the fields the survivor took."""
    known, theirs = company_values(survivor), company_values(merged)
    filled = [name for name in theirs if name not in known]
    for name in filled:
        set_company_field(survivor, name, theirs[name], now)
    person.company_id = survivor.id
    session.flush()  # nobody points at `merged` any more before it goes
    session.delete(merged)
    session.flush()
    return filled


def _new_company(session: Session, domain: str, now: datetime) -> Company:
    company = Company(fields={}, created_at=now, updated_at=now)
    if _claim_domain(session, company, domain, now):
        return company
    return _owner(session, domain)  # created by another transaction at the same moment


def _owner(session: Session, domain: str) -> Company:
    """The company that has the domain, once the index refused ours."""
    owner = _company_by_domain(session, domain)
    if owner is None:  # refused by the index, yet nobody has it: not a race we know how to resolve
        raise RuntimeError(f"The domain {domain} was refused by the database but belongs to no company.")
    return owner


def _company_by_domain(session: Session, domain: str) -> Company | None:
    candidates = company_domains(domain)
    rows = session.execute(
        select(CompanyDomain.domain, Company)
        .join(Company, Company.id == CompanyDomain.company_id)
        # The most specific domain wins: "eu.acme.com" before "acme.com".
        .where(CompanyDomain.domain.in_(candidates))
    ).all()
    ranked = sorted(rows, key=lambda row: candidates.index(row[0]))
    return ranked[0][1] if ranked else None


def _claim_domain(session: Session, company: Company, domain: str, now: datetime) -> bool:
    """Writes the company (new or not) with the email's registrable domain in a savepoint; False (and nothing
    written) when another company owns that domain."""
    main = company_domains(domain)[-1]
    session.flush()
    try:
        with session.begin_nested():
            company.domain = main
            company.name = company.name or company_name(main)
            company.updated_at = now
            session.add(company)
            session.flush()
            session.add(CompanyDomain(domain=main, company_id=company.id))
            session.flush()
    except IntegrityError:
        return False  # the rollback expunged a new company and expired an existing one: nothing of ours is left
    return True


# --- going back ------------------------------------------------------------------------------------------------


def restore(session: Session, person: Person, before: CompanyBefore, now: datetime) -> None:
    """Puts the person's company back as it was before their email changed it: no company; or their own company,
    without the domain and name the email gave it; or, once merged away, made again from its values (the domain's
    company gives back the fields the merge filled, when they are still as given)."""
    if before.id is None:
        person.company_id = None
        return
    company = session.get(Company, before.id)
    if company is None:
        current = session.get(Company, person.company_id) if person.company_id is not None else None
        if current is not None:
            _give_back_filled(current, before, now)
        company = _made_from(session, before.values, now)
    elif company.domain is not None:
        if _others_on(session, company, person):
            company = _made_from(session, before.values, now)  # others joined it by the domain: it keeps it
        else:
            _give_back_domain(session, company, before, now)
    person.company_id = company.id


def _give_back_filled(company: Company, before: CompanyBefore, now: datetime) -> None:
    known = company_values(company)
    for name in before.filled:
        if name in known and known[name] == before.values.get(name):
            set_company_field(company, name, None, now)


def _give_back_domain(session: Session, company: Company, before: CompanyBefore, now: datetime) -> None:
    session.execute(delete(CompanyDomain).where(CompanyDomain.company_id == company.id))
    company.domain = None
    company.name = before.values.get("company.name")
    company.updated_at = now


def _made_from(session: Session, values: dict[str, Any], now: datetime) -> Company:
    company = Company(fields={}, created_at=now, updated_at=now)
    for name, value in values.items():
        set_company_field(company, name, value, now)
    session.add(company)
    session.flush()
    return company
