"""Rules of the users service that no page reaches alone."""

from __future__ import annotations

import pytest

from overture.db import Database
from overture.errors import Conflict
from overture.users import service as users

from support import Personas


def test_the_last_active_admin_cannot_be_deactivated_from_anywhere(db: Database, personas: Personas) -> None:
    with db.write() as session, pytest.raises(Conflict, match="last active admin and cannot be deactivated"):
        users.set_active(session, users.get_user(session, personas.alice.id), False)


def test_emails_are_stored_in_lower_case_and_found_in_any_case(db: Database) -> None:
    with db.write() as session:
        users.create_user(session, "  Zoe@Example.COM ", "agent")
    with db.read() as session:
        assert users.get_user_by_email(session, "ZOE@example.com").email == "zoe@example.com"
