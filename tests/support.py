"""Helpers the tests share: personas, signing in, posting forms with their CSRF token, API tokens.

Imported as `from support import ...` (fixtures stay in conftest.py, which pytest loads by itself).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.db import Database, utcnow
from overture.dialogues import service as dialogues
from overture.dialogues.document import DocumentKind
from overture.dialogues.yaml_io import load_yaml
from overture.people.fields import FieldSchema
from overture.sites.models import Site
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


# --- dialogues ----------------------------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "dialogues"
PUBLISHED_AT = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def example(name: str) -> dict[str, Any]:
    """An example document of examples/dialogues (e.g. "newsletter.yaml", "flows/qualify.yaml") as plain data."""
    data, problems = load_yaml((EXAMPLES / name).read_text())
    assert problems == [] and isinstance(data, dict)
    return data


def ensure_site(session: Session, key: str, origins: list[str] | None = None) -> Site:
    site = session.scalar(select(Site).where(Site.key == key))
    if site is None:
        site = Site(key=key, name=key.title(), origins=origins or [], blocked_email_domains=[])
        session.add(site)
        session.flush()
    return site


def publish(db: Database, data: dict[str, Any], kind: DocumentKind = "dialogue", now: datetime = PUBLISHED_AT) -> int:
    """Creates the dialogue (or updates its draft) and publishes it; returns the new version's number. The site it
    names is added first when missing, as an admin would."""
    with db.write() as session:
        if kind == "dialogue":
            ensure_site(session, data.get("site", "default"))
        dialogue = dialogues.find(session, data["key"])
        if dialogue is None:
            dialogue = dialogues.create(session, data, kind, now)
        else:
            dialogues.update_draft(session, dialogue, data, now)
        return dialogues.publish(session, dialogue, fields=FieldSchema.builtin(), now=now).number


def publish_qualify_lead(db: Database) -> None:
    """The qualify-lead dialogue, live, with the reusable flow it calls."""
    publish(db, example("flows/qualify.yaml"), "flow")
    publish(db, example("qualify-lead.yaml"))
