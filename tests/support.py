"""Helpers the tests share: personas, signing in, posting forms with their CSRF token, API tokens.

Imported as `from support import ...` (fixtures stay in conftest.py, which pytest loads by itself).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from fastapi.testclient import TestClient

from overture.db import Database, utcnow
from overture.users import service as users

PASSWORD = "correct horse battery"
TEST_DATABASE_VARIABLE = "OVERTURE_TEST_DATABASE_URL"
ENGINE = "postgresql" if os.environ.get(TEST_DATABASE_VARIABLE) else "sqlite"


@dataclass(frozen=True)
class Persona:
    id: int
    email: str
    role: str
    password: str = PASSWORD


@dataclass(frozen=True)
class Personas:
    alice: Persona  # admin
    mark: Persona  # marketer
    sam: Persona  # sales admin
    bob: Persona  # agent
    carol: Persona  # deactivated agent

    def by_role(self, role: str) -> Persona:
        return next(p for p in (self.alice, self.mark, self.sam, self.bob) if p.role == role)


def csrf_from(client: TestClient, path: str = "/admin/login") -> str:
    """The CSRF token of the client's session, read from a form on `path`."""
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def sign_in(client: TestClient, persona: Persona) -> None:
    response = client.post(
        "/admin/login",
        data={"email": persona.email, "password": persona.password, "csrf_token": csrf_from(client)},
    )
    assert response.status_code == 303, response.text


def post_form(client: TestClient, path: str, data: dict[str, str], page: str = "/admin") -> object:
    """POSTs a form the way a browser does: with the CSRF token of a page the user has open."""
    return client.post(path, data={**data, "csrf_token": csrf_from(client, page)})


def token_for(db: Database, persona: Persona) -> str:
    with db.write() as session:
        _, secret = users.create_token(session, users.get_user(session, persona.id), "test", utcnow())
    return secret
