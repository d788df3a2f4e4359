"""`Overture.identify({email, signature})`: a site that knows who its visitor is tells us, with proof.

The proof is the signature: hex HMAC-SHA256 of the lower-cased email, keyed with the site's identify secret, which
only the site's server knows. Without it anyone could claim any email and see that person's personalization, so
an unsigned or wrongly signed call is refused and writes nothing.

A good call links the visitor to the person with that email (`capture_email`, proven): an anonymous visitor is
merged into the known person, or given the email. An email typed in chat, unproven, is only a claim (see
`people/identity.py`). A visitor already known under another email (say, a shared computer) is moved to the person
the site vouches for; the two people are never merged. The secret and its signatures are the site's
(`sites/signing.py`).
"""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from overture.errors import InvalidInput, Problem, Unauthenticated
from overture.people import service as people
from overture.people.email_domains import normalize_email
from overture.people.identity import capture_email
from overture.people.models import Person, VisitorIdentity
from overture.sites.models import Site
from overture.sites.signing import signature_valid


def identify(
    session: Session, site: Site, visitor_id: str | None, email: str, signature: str | None, now: datetime
) -> str:
    """Links the visitor to the person with `email`; returns the visitor id (a new one when none or an unknown one
    was given). Raises Unauthenticated, writing nothing, when the signature is missing or wrong; InvalidInput when
    the email is not an email address."""
    if not signature or not signature.strip():
        raise Unauthenticated(
            "identify needs a signature: compute it on your server as the hex HMAC-SHA256 of the lower-cased email "
            f"with the identify secret of the site '{site.key}' (Configuration > Sites), and pass it with the email."
        )
    if not signature_valid(site.identify_secret, email, signature):
        raise Unauthenticated(
            f"The signature does not match this email for the site '{site.key}'. Compute it with the site's current "
            "identify secret (it changes when rotated) over the lower-cased email."
        )
    address = normalize_email(email)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"'{address}' is not an email address: {exc}", [Problem("email", str(exc))]) from None
    person, visitor_id = people.visitor(session, visitor_id, now)
    if person.email is not None and person.email != address:
        # A known person with another email (a shared computer): the site vouches that this browser is now
        # someone else. Renaming the known person, as a captured email would, would be wrong; so is merging.
        _move_visitor(session, visitor_id, _person_with_email(session, address, now))
    else:
        where = f"through identify on site {site.key}"
        capture_email(session, person, address, now, where=where, proven=True)
    return visitor_id


def _person_with_email(session: Session, email: str, now: datetime) -> Person:
    owner = session.scalar(select(Person).where(Person.email == email))
    if owner is not None:
        return owner
    person = Person(fields={}, source={}, visit={}, created_at=now, last_seen_at=now)
    session.add(person)
    session.flush()
    # Merged into the owner if another call made it first.
    return capture_email(session, person, email, now, where="through identify", proven=True)


def _move_visitor(session: Session, visitor_id: str, person: Person) -> None:
    session.execute(update(VisitorIdentity).where(VisitorIdentity.visitor_id == visitor_id).values(person_id=person.id))
    session.flush()
