"""Automations run by the job: each action on the activity that triggers it, filtered on its attributes and on the
person's company, once per (automation, activity) however often the feed is read, never on the past, never on
their own doing, and an action that fails is logged while the others still run."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from overture.activities.service import ActivityType
from overture.automations import service as automations
from overture.db import Database
from overture.mail.models import OutboxMessage
from overture.people.models import Person
from overture.programs import lists as program_lists
from overture.programs import service as programs
from overture.programs.models import (
    ListMember,
    Program,
    ProgramMember,
    ProgramMemberChange,
    ProgramStatus,
    StaticList,
)
from overture.programs.source import Source
from overture.webhooks.delivery import Outbound, deliver_due
from scheduling.rows import make_agent, make_meeting
from webhooks.helpers import endpoint
from webhooks.receiver import receiving

from .helpers import LATER, T0, activity, automation, goal_automation, person, program, run_job, runs, static_list
from support import Personas


def status_of(db: Database, program_id: int, person_id: int) -> str | None:
    with db.read() as session:
        return session.scalar(
            select(ProgramStatus.name)
            .join(ProgramMember, ProgramMember.status_id == ProgramStatus.id)
            .where(ProgramMember.program_id == program_id, ProgramMember.person_id == person_id)
        )


def on_list(db: Database, list_id: int, person_id: int) -> bool:
    with db.read() as session:
        return (
            session.scalar(
                select(ListMember.id).where(ListMember.list_id == list_id, ListMember.person_id == person_id)
            )
            is not None
        )


def outbox(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_goal_sets_the_program_status_adds_to_the_list_and_emails_the_account_owner(db: Database) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    automation(db, **goal_automation(spring, hot))
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")

    assert run_job(db, LATER) == 1
    assert status_of(db, spring, ada) == "Engaged"
    assert on_list(db, hot, ada)
    [mail] = outbox(db)
    assert mail.to == ["olga@example.com"]
    assert mail.subject == "Demo requests to sales: Ada Lovelace (Acme)"
    assert mail.text_body.startswith("A demo was asked for.\nPerson: Ada Lovelace <ada@acme.example>\nCompany: Acme")
    assert f"Their page: https://overture.example.com/admin/people/{ada}" in mail.text_body
    [run] = runs(db)
    assert run.status == "done" and run.activity_id > 0
    assert [result["said"] for result in run.results] == [
        "Spring chat: joined (Engaged).",
        "Hot leads: added.",
        "Emailed olga@example.com.",
    ]


def test_the_attributes_and_the_company_condition_filter_what_triggers_it(db: Database) -> None:
    spring, hot = program(db), static_list(db)
    small = person(db, email="bob@small.example", first_name="Bob", company={"name": "Small", "employees": 20})
    ada = person(db)
    automation(db, **goal_automation(spring, hot))
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="newsletter")
    activity(db, small, ActivityType.goal_reached, T0 + timedelta(minutes=2), goal="demo_requested")
    activity(db, ada, ActivityType.link_clicked, T0 + timedelta(minutes=3), url="https://x.example")

    assert run_job(db, LATER) == 0, "another goal, a company of 20, another activity: none triggers it"
    assert runs(db) == [] and status_of(db, spring, ada) is None and status_of(db, spring, small) is None


def test_reading_the_feed_again_runs_nothing_twice(db: Database) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    automation(db, **goal_automation(spring, hot))
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")
    run_job(db, LATER)
    assert run_job(db, LATER + timedelta(minutes=1), again=True) == 0  # the periodic run reads the last 20 minutes
    assert run_job(db, LATER + timedelta(minutes=30), again=True) == 0
    with db.read() as session:
        changes = session.scalars(select(ProgramMemberChange).where(ProgramMemberChange.person_id == ada)).all()
    assert len(runs(db)) == 1 and len(outbox(db)) == 1 and len(changes) == 1


def test_an_automation_acts_on_what_happens_after_it_is_made(db: Database) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    activity(db, ada, ActivityType.goal_reached, T0 - timedelta(minutes=1), goal="demo_requested")
    automation(db, **goal_automation(spring, hot))
    assert run_job(db, LATER, again=True) == 0
    assert status_of(db, spring, ada) is None


def test_a_failing_action_is_logged_and_the_others_still_run(db: Database) -> None:
    ada, spring, hot = person(db, company={"owner": None}), program(db), static_list(db)
    automation(db, **goal_automation(spring, hot))
    with db.write() as session:
        gone = session.get(Program, spring)
        assert gone is not None
        session.delete(gone)
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")

    run_job(db, LATER)
    [run] = runs(db)
    assert run.status == "failed"
    assert [(r["status"], r["said"]) for r in run.results] == [
        ("failed", f"There is no program with id {spring} (deleted?)."),
        ("done", "Hot leads: added."),
        ("failed", "Ada Lovelace has no account owner (company.owner is empty)."),
    ]
    assert on_list(db, hot, ada) and outbox(db) == []


def test_an_automation_is_not_triggered_by_its_own_doing(db: Database) -> None:
    ada, spring = person(db), program(db)
    automation(
        db,
        name="Engaged then booked",
        trigger={"activity": "program.status_changed"},
        actions=[{"type": "program_status", "program": spring, "status": "Meeting booked"}],
    )
    with db.write() as session:  # a user sets Engaged: the automation moves Ada on, and stops there
        found, chat = session.get(Person, ada), session.get(Program, spring)
        assert found is not None and chat is not None
        programs.set_program_status(session, chat, found, "Engaged", Source.user(1), T0 + timedelta(minutes=1))
    assert run_job(db, LATER) == 1
    assert run_job(db, LATER + timedelta(minutes=1)) == 0, "its own status change does not run it again"
    assert status_of(db, spring, ada) == "Meeting booked"


def test_a_webhook_action_reaches_the_receiver_signed_and_once(db: Database) -> None:
    ada = person(db)
    with receiving() as receiver:
        hook = endpoint(db, receiver, [], T0)
        automation(
            db,
            name="Goals to the CRM",
            trigger={"activity": "goal.reached"},
            actions=[{"type": "webhook", "endpoint": hook}, {"type": "chat", "endpoint": hook, "note": "New goal"}],
        )
        activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")
        run_job(db, LATER)
        run_job(db, LATER + timedelta(minutes=1), again=True)
        outbound = Outbound()
        try:
            deliver_due(db, outbound)
        finally:
            outbound.close()
    event, post = receiver.verified()
    assert event.payload["type"] == "automation.triggered"
    assert event.payload["data"]["automation"]["name"] == "Goals to the CRM"
    assert event.payload["data"]["person"]["email"] == "ada@acme.example"
    assert post.payload["text"].startswith("*Goals to the CRM: Ada Lovelace (Acme)*\nNew goal\nPerson: Ada Lovelace")
    assert event.id != post.id


def test_the_runs_are_listed_per_automation_and_per_person(db: Database) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    bob = person(db, email="bob@acme.example", first_name="Bob")
    first = automation(db, **goal_automation(spring, hot))
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")
    activity(db, bob, ActivityType.goal_reached, T0 + timedelta(minutes=2), goal="demo_requested")
    run_job(db, LATER)
    with db.read() as session:
        of_automation = automations.runs(session, automation_id=first, limit=1)
        older = automations.runs(session, automation_id=first, cursor=of_automation.next_cursor)
        of_ada = automations.runs(session, person_id=ada)
    assert [run.person_id for run in of_automation.items + older.items] == [bob, ada]
    assert older.next_cursor is None
    assert [run.inputs["person"]["name"] for run in of_ada.items] == ["Ada Lovelace"]
    assert of_ada.items[0].inputs["activity"]["summary"] == "goal.reached goal demo_requested"


def test_a_field_is_set_a_list_left_and_the_booked_agent_and_a_user_are_emailed(
    db: Database, personas: Personas
) -> None:
    from overture.people.models import Person
    from overture.programs.source import Source

    ada, hot = person(db), static_list(db)
    with db.write() as session:
        found, row = session.get(Person, ada), session.get(StaticList, hot)
        assert found is not None and row is not None
        program_lists.add_to_list(session, row, found, Source.user(1), T0)
        make_meeting(session, make_agent(session, "agnes@example.com", "Agnes"), T0 + timedelta(days=1), person=found)
    automation(
        db,
        name="Booked",
        trigger={"activity": "goal.reached"},
        actions=[
            {"type": "set_field", "field": "person.title", "value": "Head of sales"},
            {"type": "remove_from_list", "list": hot},
            {"type": "notify", "to": "booked_agent"},
            {"type": "notify", "to": "user", "user": personas.mark.id},
        ],
    )
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_booked")

    run_job(db, LATER)
    [run] = runs(db)
    assert [result["said"] for result in run.results] == [
        "person.title set to 'Head of sales'.",
        "Hot leads: removed.",
        "Emailed agnes@example.com.",
        f"Emailed {personas.mark.email}.",
    ]
    with db.read() as session:
        found = session.get(Person, ada)
        assert found is not None and found.title == "Head of sales"
    assert not on_list(db, hot, ada)
    assert [mail.to for mail in outbox(db) if mail.kind == "automation"] == [
        ["agnes@example.com"],
        [personas.mark.email],
    ]
