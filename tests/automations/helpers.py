"""Shared by the automations tests: a person of a company, a program, a list, an automation saved through the
service, and one run of the job at a pinned time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from overture.activities.service import ActivityType, record
from overture.automations import runner
from overture.automations import service as automations
from overture.automations.models import AutomationRun
from overture.automations.schemas import AutomationIn
from overture.db import Database
from overture.people.models import Company, Person
from overture.programs import lists
from overture.programs import service as programs
from overture.programs.schemas import StatusIn

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
BASE_URL = "https://overture.example.com"


def person(db: Database, **fields: Any) -> int:
    """Ada Lovelace of Acme (500 employees, owned by olga@example.com) unless told otherwise."""
    company_fields = {"name": "Acme", "owner": "olga@example.com", "employees": 500}
    company_fields.update(fields.pop("company", {}))
    with db.write() as session:
        company = Company(**company_fields, fields={}, created_at=T0, updated_at=T0)
        session.add(company)
        session.flush()
        values = {"email": "ada@acme.example", "first_name": "Ada", "last_name": "Lovelace", **fields}
        row = Person(**values, company_id=company.id)
        session.add(row)
        session.flush()
        return row.id


def program(db: Database, name: str = "Spring chat") -> int:
    with db.write() as session:
        statuses = [StatusIn(name=s) for s in ("Invited", "Engaged", "Meeting booked", "Attended")]
        return programs.create_program(session, name, "chat", statuses, T0).id


def static_list(db: Database, name: str = "Hot leads") -> int:
    with db.write() as session:
        return lists.create_list(session, name, T0).id


def automation(db: Database, at: datetime = T0, **given: Any) -> int:
    with db.write() as session:
        return automations.create(session, AutomationIn.model_validate(given), at).id


def activity(db: Database, person_id: int, kind: ActivityType, at: datetime, **attributes: Any) -> None:
    with db.write() as session:
        found = session.get(Person, person_id)
        assert found is not None
        record(session, found, kind, at, attributes)


def run_job(db: Database, at: datetime, *, again: bool = False) -> int:
    with time_machine.travel(at, tick=False):
        return runner.run_due(db, at, BASE_URL, again=again)


def runs(db: Database) -> list[AutomationRun]:
    with db.read() as session:
        return list(session.scalars(select(AutomationRun).order_by(AutomationRun.id)))


def goal_automation(program_id: int, list_id: int, **extra: Any) -> dict[str, Any]:
    """When a demo_requested goal is reached by someone of a company of 200 people or more: Engaged in the
    program, on the list, and the account owner emailed."""
    return {
        "name": "Demo requests to sales",
        "trigger": {
            "activity": "goal.reached",
            "attributes": [{"name": "goal", "op": "equals", "value": "demo_requested"}],
            "where": {"field": "company.employees", "op": "gte", "value": 200},
        },
        "actions": [
            {"type": "program_status", "program": program_id, "status": "Engaged"},
            {"type": "add_to_list", "list": list_id},
            {"type": "notify", "to": "account_owner", "note": "A demo was asked for."},
        ],
        **extra,
    }


LATER = T0 + timedelta(minutes=5)
