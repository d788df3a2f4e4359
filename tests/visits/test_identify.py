"""Identify: a signed email links the visitor to that person (merging an anonymous visitor into them); an unsigned
or wrongly signed one is refused and writes nothing; rotating the secret invalidates old signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from overture.db import Database
from overture.errors import InvalidInput, Unauthenticated
from overture.people import service as people
from overture.people.models import Person, PersonMerge, VisitorIdentity
from overture.sites import service as sites
from overture.sites import signing
from overture.visits import identify

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def secret_of(db: Database, key: str = "www") -> str:
    with db.read() as session:
        return sites.get(session, key).identify_secret


def host_signature(secret: str, email: str) -> str:
    """What the host's server computes (written here independently of Overture's code)."""
    return hmac.new(secret.encode(), email.lower().encode(), hashlib.sha256).hexdigest()


def new_visitor(db: Database, **values: object) -> tuple[int, str]:
    with db.write() as session:
        person, visitor_id = people.visitor(session, None, NOW)
        for column, value in values.items():
            setattr(person, column, value)
        session.flush()
        return person.id, visitor_id


def run_identify(db: Database, visitor_id: str | None, email: str, signature: str | None) -> str:
    with db.write() as session:
        return identify.identify(session, sites.get(session, "www"), visitor_id, email, signature, NOW)


def person_of(db: Database, visitor_id: str) -> Person:
    with db.read() as session:
        person = people.by_visitor_id(session, visitor_id)
        assert person is not None
        return person


def test_the_signature_is_the_hex_hmac_sha256_of_the_lower_cased_email(db: Database) -> None:
    secret = secret_of(db)
    assert len(secret) == 64
    assert signing.signature_for(secret, " Ada@Example.COM ") == host_signature(secret, "ada@example.com")
    assert signing.signature_valid(secret, "ada@example.com", host_signature(secret, "ADA@example.com").upper())
    assert not signing.signature_valid(secret, "eve@example.com", host_signature(secret, "ada@example.com"))


def test_a_signed_identify_gives_an_anonymous_visitor_the_email(db: Database) -> None:
    _, visitor_id = new_visitor(db)
    assert run_identify(db, visitor_id, "Ada@Acme.io", host_signature(secret_of(db), "Ada@Acme.io")) == visitor_id
    assert person_of(db, visitor_id).email == "ada@acme.io"


def test_a_signed_identify_merges_an_anonymous_visitor_into_the_known_person(db: Database) -> None:
    known_id, known_visitor = new_visitor(db, email="ada@acme.io", first_name="Ada")
    _, visitor_id = new_visitor(db)
    run_identify(db, visitor_id, "ada@acme.io", host_signature(secret_of(db), "ada@acme.io"))
    assert person_of(db, visitor_id).id == known_id == person_of(db, known_visitor).id
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(PersonMerge)) == 1


def test_a_visitor_known_under_another_email_moves_to_the_vouched_person_without_a_merge(db: Database) -> None:
    bob_id, visitor_id = new_visitor(db, email="bob@acme.io")
    run_identify(db, visitor_id, "ada@acme.io", host_signature(secret_of(db), "ada@acme.io"))
    ada = person_of(db, visitor_id)
    assert ada.email == "ada@acme.io" and ada.id != bob_id
    with db.read() as session:
        bob = session.get(Person, bob_id)
        assert bob is not None and bob.email == "bob@acme.io"
        assert session.scalar(select(func.count()).select_from(PersonMerge)) == 0


@pytest.mark.parametrize("signature", [None, "", "0" * 64, "not-hex"])
def test_an_unsigned_or_wrongly_signed_identify_is_refused_and_writes_nothing(
    db: Database, signature: str | None
) -> None:
    _, visitor_id = new_visitor(db)
    with pytest.raises(Unauthenticated) as caught:
        run_identify(db, visitor_id, "ada@acme.io", signature)
    assert "signature" in caught.value.message and caught.value.status == 401
    assert person_of(db, visitor_id).email is None
    with db.read() as session:
        assert session.scalar(select(Person.id).where(Person.email == "ada@acme.io")) is None


def test_a_signature_of_another_site_is_refused(db: Database) -> None:
    _, visitor_id = new_visitor(db)
    with pytest.raises(Unauthenticated):
        run_identify(db, visitor_id, "ada@acme.io", host_signature(secret_of(db, "default"), "ada@acme.io"))


def test_a_signed_value_that_is_not_an_email_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput):
        run_identify(db, None, "not an email", host_signature(secret_of(db), "not an email"))


def test_an_unknown_visitor_id_gets_a_person_of_its_own(db: Database) -> None:
    visitor_id = run_identify(db, "v_unknown12345", "ada@acme.io", host_signature(secret_of(db), "ada@acme.io"))
    assert visitor_id == "v_unknown12345" and person_of(db, visitor_id).email == "ada@acme.io"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(VisitorIdentity)) == 1


def test_rotating_the_secret_refuses_signatures_made_with_the_old_one(db: Database) -> None:
    old = secret_of(db)
    with db.write() as session:
        new = signing.rotate_secret(session, sites.get(session, "www"))
    assert new != old and len(new) == 64 and secret_of(db) == new
    with pytest.raises(Unauthenticated):
        run_identify(db, None, "ada@acme.io", host_signature(old, "ada@acme.io"))
    assert run_identify(db, None, "ada@acme.io", host_signature(new, "ada@acme.io"))
