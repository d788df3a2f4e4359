"""The conversation service against the real database: each call runs in its own writing transaction, as a request
would, with the clock passed in."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.conversations import engine
from overture.conversations import service as conversations
from overture.conversations.models import Conversation
from overture.db import Database
from overture.dialogues import service as dialogues
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import Conflict, InvalidInput, NotFound, OvertureError, Unauthenticated
from overture.people import service as people
from overture.people.fields import FieldSchema
from overture.people.models import Company, CompanyDomain, Person, VisitorIdentity

from support import example, publish, publish_qualify_lead

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@dataclass
class Chat:
    """What a widget keeps between calls."""

    conversation_id: str
    token: str
    visitor_id: str
    step: int = 0


def begin(
    db: Database, key: str, *, visitor_id: str | None = None, language: str | None = None, now: datetime = NOW
) -> tuple[Chat, conversations.View]:
    with db.write() as session:
        view = conversations.start(
            session,
            dialogue_key=key,
            visitor_id=visitor_id,
            page_url="https://example.com/blog/post",
            language=language,
            region="FR",
            now=now,
        )
        assert view.token is not None
        chat = Chat(view.conversation.public_id, view.token, view.conversation.visitor_id, view.conversation.step)
    return chat, view


def say(
    db: Database, chat: Chat, *, choice: str | None = None, text: str | None = None, now: datetime = NOW
) -> conversations.View:
    """Answers the current step and moves the chat to the next one."""
    with db.write() as session:
        view = conversations.reply(
            session, chat.conversation_id, chat.token, chat.step, engine.Reply(choice=choice, text=text), now
        )
    chat.step = view.conversation.step
    return view


def texts(view: conversations.View) -> list[str]:
    return [message.text for message in view.turn.messages]


def stored(db: Database, chat: Chat) -> Conversation:
    with db.read() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.public_id == chat.conversation_id))
        assert conversation is not None
        return conversation


def person_of(db: Database, chat: Chat) -> Person:
    with db.read() as session:
        person = people.by_visitor_id(session, chat.visitor_id)
        assert person is not None
        return person


def version_number(db: Database, conversation: Conversation) -> int:
    with db.read() as session:
        version = session.get(DialogueVersion, conversation.version_id)
        assert version is not None
        return version.number


def activity_types(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(Activity.type).order_by(Activity.id)))


def begin_in(session: Session, key: str) -> conversations.View:
    return conversations.start(
        session, dialogue_key=key, visitor_id=None, page_url="", language=None, region=None, now=NOW
    )


def refused(db: Database, error: type[OvertureError], call: Callable[[Session], object]) -> OvertureError:
    """Runs `call(session)` in a writing transaction that must fail with `error`; returns the error."""
    with pytest.raises(error) as caught, db.write() as session:
        call(session)
    return caught.value


# --- starting --------------------------------------------------------------------------------------------------


def test_start_pins_the_live_version_and_shows_the_first_card(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, view = begin(db, "newsletter")

    assert texts(view) == ["Hi there, enjoying the blog?", "One email a month with our best articles, and no spam."]
    assert view.turn.expected.kind == "buttons"
    assert [c.label for c in view.turn.expected.choices] == ["Sign me up", "No thanks"]
    assert chat.visitor_id.startswith("v_") and chat.conversation_id.startswith("c_")
    conversation = stored(db, chat)
    assert (conversation.step, conversation.status, conversation.region) == (0, "active", "FR")
    assert chat.token not in conversation.token_hash, "only a hash of the token is stored"
    assert version_number(db, conversation) == 1
    assert conversation.flow_version_ids == {}


def test_start_pins_the_versions_of_the_flows_the_dialogue_calls(db: Database) -> None:
    publish_qualify_lead(db)
    chat, _ = begin(db, "qualify-lead")
    with db.read() as session:
        flow = dialogues.get(session, "qualify")
        assert stored(db, chat).flow_version_ids == {"qualify": dialogues.version(session, flow, 1).id}


def test_start_personalises_with_what_is_known_of_the_visitor_and_skips_known_questions(db: Database) -> None:
    publish_qualify_lead(db)
    with db.write() as session:
        agency = Company(name="Agency", employees=200, fields={})
        session.add(agency)
        session.flush()
        ada = Person(first_name="Ada", email="ada@agency.example", company_id=agency.id, fields={})
        session.add(ada)
        session.flush()
        session.add(VisitorIdentity(visitor_id="v_known", person_id=ada.id))
    chat, view = begin(db, "qualify-lead", visitor_id="v_known")
    assert texts(view)[0] == "Hello Ada!"

    after = say(db, chat, choice="0")
    assert texts(after) == ["What is your role?"], "name, email and size are known: skipped"
    assert (after.turn.expected.flow, after.turn.expected.card) == ("qualify", "ask_role")


@pytest.mark.parametrize("status", ["draft", "paused", "archived"])
def test_a_dialogue_that_is_not_live_cannot_be_started(db: Database, status: str) -> None:
    with db.write() as session:
        dialogue = dialogues.create(session, example("newsletter.yaml"), "dialogue", NOW)
        if status != "draft":
            dialogues.publish(session, dialogue, fields=FieldSchema.builtin(), now=NOW)
            (dialogues.pause if status == "paused" else dialogues.archive)(session, dialogue)

    error = refused(db, Conflict, lambda s: begin_in(s, "newsletter"))
    assert error.status == 409
    assert error.message == f"'newsletter' is not live (it is {status})."
    with db.read() as session:
        assert session.scalars(select(Conversation)).all() == []
        assert session.scalars(select(Person)).all() == [], "the refused start created no person"


def test_an_unknown_dialogue_cannot_be_started(db: Database) -> None:
    error = refused(db, NotFound, lambda s: begin_in(s, "nope"))
    assert error.status == 404


def test_starting_again_gives_the_running_conversation_a_new_token(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    first, _ = begin(db, "newsletter")
    say(db, first, choice="0")

    again, view = begin(db, "newsletter", visitor_id=first.visitor_id, now=NOW + timedelta(minutes=2))
    assert again.conversation_id == first.conversation_id
    assert again.token != first.token
    assert view.turn.messages == [], "nothing new is said"
    assert view.turn.expected.card == "ask_email"
    assert stored(db, again).step == 1

    refused(db, Unauthenticated, lambda s: conversations.resume(s, first.conversation_id, first.token))
    with db.read() as session:
        assert conversations.resume(session, again.conversation_id, again.token).turn.expected.card == "ask_email"


def test_a_visitor_who_finished_gets_a_new_conversation(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    first, _ = begin(db, "newsletter")
    say(db, first, choice="1")
    assert stored(db, first).status == "completed"

    again, view = begin(db, "newsletter", visitor_id=first.visitor_id)
    assert again.conversation_id != first.conversation_id
    assert texts(view)[0] == "Hi there, enjoying the blog?"


# --- replies ---------------------------------------------------------------------------------------------------


def test_a_reply_writes_the_state_the_person_and_the_step_in_the_callers_transaction(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    say(db, chat, choice="0")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.write() as session:
        conversations.reply(session, chat.conversation_id, chat.token, 1, engine.Reply(text="ada@example.com"), NOW)
        raise Boom
    assert stored(db, chat).step == 1
    assert person_of(db, chat).email is None
    assert "field.captured" not in activity_types(db)

    view = say(db, chat, text="ada@example.com")
    assert view.conversation.status == "completed"
    person = person_of(db, chat)
    assert person.email == "ada@example.com"
    assert person.consent is True
    conversation = stored(db, chat)
    assert (conversation.step, conversation.status, conversation.ended_at) == (2, "completed", NOW)


def test_a_wrong_email_is_accepted_as_a_step_but_writes_nothing(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    say(db, chat, choice="0")

    view = say(db, chat, text="not an email")
    assert texts(view) == [
        "That does not look like an email address; please try again.",
        "Where should we send it?",
    ]
    assert [m.kind for m in view.turn.messages] == ["error", "question"]
    assert view.turn.expected.card == "ask_email"
    assert view.conversation.step == 2
    assert person_of(db, chat).email is None
    assert "field.captured" not in activity_types(db)
    state = engine.State.model_validate(stored(db, chat).state)
    assert "person.email" not in state.values
    assert state.transcript[-3].text == "not an email", "the wrong answer stays in the transcript"


@pytest.mark.parametrize("step", [0, 2], ids=["replayed", "ahead"])
def test_a_reply_for_another_step_is_refused_and_changes_nothing(db: Database, step: int) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    say(db, chat, choice="0")
    before = stored(db, chat)

    error = refused(
        db,
        Conflict,
        lambda s: conversations.reply(s, chat.conversation_id, chat.token, step, engine.Reply(choice="1"), NOW),
    )
    assert f"This reply answers step {step}, but the conversation is at step 1" in error.message
    assert [p.path for p in error.problems] == ["step"]
    after = stored(db, chat)
    assert (after.step, after.state, after.updated_at) == (before.step, before.state, before.updated_at)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (engine.Reply(choice="7"), "There is no choice '7' here."),
        (engine.Reply(text="Sign me up"), "This question takes one of its buttons, not text."),
        (engine.Reply(choice="0", text="Sign me up"), "Send a choice or a text, not both."),
        (engine.Reply(), "Send a choice or a text."),
    ],
    ids=["unknown-choice", "text-to-buttons", "both", "neither"],
)
def test_a_reply_that_does_not_fit_the_question_is_refused_and_changes_nothing(
    db: Database, reply: engine.Reply, message: str
) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    before = stored(db, chat)

    error = refused(db, InvalidInput, lambda s: conversations.reply(s, chat.conversation_id, chat.token, 0, reply, NOW))
    assert error.status == 422
    assert error.message == message
    after = stored(db, chat)
    assert (after.step, after.state) == (before.step, before.state)
    assert activity_types(db) == ["dialogue.triggered"], "not even dialogue.engaged"


def test_a_choice_to_a_typed_question_is_refused(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    say(db, chat, choice="0")
    error = refused(
        db,
        InvalidInput,
        lambda s: conversations.reply(s, chat.conversation_id, chat.token, 1, engine.Reply(choice="0"), NOW),
    )
    assert error.message == "This question takes typed text, not a choice."
    assert stored(db, chat).step == 1


def test_another_conversations_token_or_an_unknown_id_gets_the_same_refusal(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    mine, _ = begin(db, "newsletter")
    theirs, _ = begin(db, "newsletter")

    foreign = refused(
        db,
        Unauthenticated,
        lambda s: conversations.reply(s, mine.conversation_id, theirs.token, 0, engine.Reply(choice="0"), NOW),
    )
    unknown = refused(
        db,
        Unauthenticated,
        lambda s: conversations.reply(s, "c_unknown", mine.token, 0, engine.Reply(choice="0"), NOW),
    )
    assert foreign.message == unknown.message
    assert stored(db, mine).step == 0


@pytest.mark.parametrize("ending", ["completed", "dismissed"])
def test_a_reply_to_an_ended_conversation_is_refused(db: Database, ending: str) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    if ending == "completed":
        say(db, chat, choice="1")
    else:
        with db.write() as session:
            conversations.dismiss(session, chat.conversation_id, chat.token, NOW)
    step = stored(db, chat).step

    error = refused(
        db,
        Conflict,
        lambda s: conversations.reply(s, chat.conversation_id, chat.token, step, engine.Reply(choice="0"), NOW),
    )
    assert error.message == f"This conversation has ended ({ending}). Start a new one to chat again."
    assert stored(db, chat).status == ending
    refused(db, Conflict, lambda s: conversations.back(s, chat.conversation_id, chat.token, step, NOW))
    refused(db, Conflict, lambda s: conversations.restart(s, chat.conversation_id, chat.token, step, NOW))


# --- resume, back, restart -------------------------------------------------------------------------------------


def test_resume_gives_the_transcript_and_the_waiting_question_and_changes_nothing(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    asked = say(db, chat, choice="0")
    before = stored(db, chat)

    with db.read() as session:
        view = conversations.resume(session, chat.conversation_id, chat.token)
    assert view.turn.messages == []
    assert view.turn.expected == asked.turn.expected
    assert [(e.role, e.text) for e in view.turn.state.transcript] == [
        ("bot", "Hi there, enjoying the blog?"),
        ("bot", "One email a month with our best articles, and no spam."),
        ("visitor", "Sign me up"),
        ("bot", "Where should we send it?"),
    ]
    after = stored(db, chat)
    assert (after.step, after.state, after.updated_at) == (before.step, before.state, before.updated_at)


def test_back_returns_to_the_question_answered_and_retracts_the_answer(db: Database) -> None:
    publish_qualify_lead(db)
    chat, _ = begin(db, "qualify-lead")
    say(db, chat, choice="0")

    with db.write() as session:
        view = conversations.back(session, chat.conversation_id, chat.token, 1, NOW)
    assert view.conversation.step == 2, "back is a step too"
    assert view.turn.messages == []
    assert view.turn.expected.card == "welcome"
    assert [c.label for c in view.turn.expected.choices][0] == "Search Engine Optimization"
    transcript = engine.State.model_validate(stored(db, chat).state).transcript
    assert [(e.text, e.retracted) for e in transcript] == [
        ("Hello there!", False),
        ("Which of these describes your company best?", False),
        ("Search Engine Optimization", True),
        ("First, what is your first name?", True),
    ]
    assert "dialogue.engaged" in activity_types(db)


def test_back_undoes_the_value_the_answer_stored_in_the_conversation_state(db: Database) -> None:
    publish_qualify_lead(db)
    chat, _ = begin(db, "qualify-lead")
    say(db, chat, choice="0")
    assert engine.State.model_validate(stored(db, chat).state).values["company.industry"] == "SEO"

    with db.write() as session:
        conversations.back(session, chat.conversation_id, chat.token, 1, NOW)
    assert "company.industry" not in engine.State.model_validate(stored(db, chat).state).values


def test_an_answer_corrected_after_back_replaces_the_undone_one(db: Database) -> None:
    publish_qualify_lead(db)
    chat, _ = begin(db, "qualify-lead")
    say(db, chat, choice="0")
    for text in ("Ada", "ada@agency.example", "120", "CTO"):  # person.title is asked with overwrite: false
        say(db, chat, text=text)
    with db.write() as session:
        view = conversations.back(session, chat.conversation_id, chat.token, chat.step, NOW)
    chat.step = view.conversation.step
    assert view.turn.expected.card == "ask_role"

    say(db, chat, text="Founder")
    assert person_of(db, chat).title == "Founder"
    assert engine.State.model_validate(stored(db, chat).state).values["person.title"] == "Founder"


def test_back_with_nothing_to_undo_is_refused(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    error = refused(db, InvalidInput, lambda s: conversations.back(s, chat.conversation_id, chat.token, 0, NOW))
    assert error.message == "There is no answer to undo."
    assert stored(db, chat).step == 0


def test_restart_goes_back_to_the_first_card_and_keeps_what_was_captured(db: Database) -> None:
    publish_qualify_lead(db)
    chat, _ = begin(db, "qualify-lead")
    say(db, chat, choice="0")
    say(db, chat, text="Ada")

    with db.write() as session:
        view = conversations.restart(session, chat.conversation_id, chat.token, 2, NOW)
    assert view.conversation.step == chat.step + 1 == 3
    chat.step = view.conversation.step
    assert texts(view) == ["Hello Ada!", "Which of these describes your company best?"]
    assert view.turn.expected.card == "welcome"
    state = engine.State.model_validate(stored(db, chat).state)
    assert all(entry.retracted for entry in state.transcript[:-2])
    assert state.values["person.first_name"] == "Ada"

    after = say(db, chat, choice="1")
    assert texts(after) == ["Thanks Ada! What is your work email?"], "the known first name is not asked again"


# --- versions --------------------------------------------------------------------------------------------------


def test_a_running_conversation_finishes_on_the_version_it_started_on(db: Database) -> None:
    v1 = example("newsletter.yaml")
    publish(db, v1)
    chat, _ = begin(db, "newsletter")

    v2 = copy.deepcopy(v1)
    cards = v2["flow"]["cards"]
    cards["offer"]["say"] = "Version two says hello."
    cards["offer"]["buttons"][0]["goto"] = "bye"
    del cards["ask_email"], cards["subscribed"], v2["tests"]
    assert publish(db, v2, now=NOW + timedelta(minutes=1)) == 2

    asked = say(db, chat, choice="0")
    assert texts(asked) == ["Where should we send it?"], "version 1's card, gone from version 2"
    done = say(db, chat, text="ada@example.com")
    assert done.conversation.status == "completed"
    assert person_of(db, chat).email == "ada@example.com"

    newcomer, view = begin(db, "newsletter")
    assert texts(view) == ["Version two says hello."]
    assert version_number(db, stored(db, newcomer)) == 2
    assert version_number(db, stored(db, chat)) == 1


def test_a_running_conversation_keeps_the_flow_version_it_started_with(db: Database) -> None:
    publish_qualify_lead(db)
    chat, _ = begin(db, "qualify-lead")

    flow_v2 = example("flows/qualify.yaml")
    flow_v2["flow"]["cards"]["ask_name"]["ask"] = "Version two: your name?"
    assert publish(db, flow_v2, "flow", now=NOW + timedelta(minutes=1)) == 2

    assert texts(say(db, chat, choice="0")) == ["First, what is your first name?"]
    newcomer, _ = begin(db, "qualify-lead")
    assert texts(say(db, newcomer, choice="0")) == ["Version two: your name?"]


@pytest.mark.parametrize("retire", [dialogues.pause, dialogues.archive], ids=["paused", "archived"])
def test_a_running_conversation_finishes_after_its_dialogue_is_paused_or_archived(
    db: Database, retire: Callable[[Session, Dialogue], None]
) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    with db.write() as session:
        retire(session, dialogues.get(session, "newsletter"))

    say(db, chat, choice="0")
    assert say(db, chat, text="ada@example.com").conversation.status == "completed"


# --- dismiss and links -----------------------------------------------------------------------------------------


def test_dismiss_ends_the_conversation_once(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    later = NOW + timedelta(minutes=1)
    with db.write() as session:
        view = conversations.dismiss(session, chat.conversation_id, chat.token, later)
    assert view.conversation.status == "dismissed"
    with db.write() as session:
        conversations.dismiss(session, chat.conversation_id, chat.token, later + timedelta(minutes=1))
    conversation = stored(db, chat)
    assert (conversation.status, conversation.ended_at) == ("dismissed", later)
    assert activity_types(db) == ["dialogue.triggered", "dialogue.dismissed"]


def test_dismissing_a_completed_conversation_changes_nothing(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    say(db, chat, choice="1")
    with db.write() as session:
        assert conversations.dismiss(session, chat.conversation_id, chat.token, NOW).conversation.status == "completed"
    assert "dialogue.dismissed" not in activity_types(db)


def test_a_link_of_the_dialogue_is_recorded_and_another_is_refused(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    chat, _ = begin(db, "newsletter")
    error = refused(
        db,
        InvalidInput,
        lambda s: conversations.link_clicked(s, chat.conversation_id, chat.token, "https://evil.example/", NOW),
    )
    assert [p.path for p in error.problems] == ["url"]
    with db.write() as session:
        conversations.link_clicked(
            session, chat.conversation_id, chat.token, "https://example.com/newsletter/latest", NOW
        )
    assert activity_types(db) == ["dialogue.triggered", "link.clicked"]


def test_a_link_of_a_called_flow_counts_as_shown(db: Database) -> None:
    flow = example("flows/qualify.yaml")
    flow["flow"]["cards"]["done"]["link"] = {"label": "Our pricing", "url": "https://example.com/pricing"}
    publish(db, flow, "flow")
    publish(db, example("qualify-lead.yaml"))
    chat, _ = begin(db, "qualify-lead")
    with db.write() as session:
        conversations.link_clicked(session, chat.conversation_id, chat.token, "https://example.com/pricing", NOW)
    assert activity_types(db)[-1] == "link.clicked"


# --- going back over an email: the company ------------------------------------------------------------------------

# Asks about the company before the email, then a name to go back from.
COMPANY_FIRST = {
    "key": "company-first",
    "name": "Company first",
    "flow": {
        "start": "ask_size",
        "cards": {
            "ask_size": {"ask": "How many people work there?", "capture": "company.employees", "goto": "ask_email"},
            "ask_email": {"ask": "Your work email?", "capture": "person.email", "goto": "ask_name"},
            "ask_name": {"ask": "And your first name?", "capture": "person.first_name", "goto": "done"},
            "done": {"say": "Thanks!", "end": True},
        },
    },
}
# Asks the email first.
EMAIL_FIRST = {
    "key": "email-first",
    "name": "Email first",
    "flow": {
        "start": "ask_email",
        "cards": {
            "ask_email": {"ask": "Your work email?", "capture": "person.email", "goto": "ask_name"},
            "ask_name": {"ask": "And your first name?", "capture": "person.first_name", "goto": "done"},
            "done": {"say": "Thanks!", "end": True},
        },
    },
}


def add_acme(db: Database) -> int:
    with db.write() as session:
        acme = Company(name="Acme Corporation", domain="acme.com", industry="Manufacturing", fields={})
        session.add(acme)
        session.flush()
        session.add(CompanyDomain(domain="acme.com", company_id=acme.id))
        return acme.id


def go_back(db: Database, chat: Chat) -> conversations.View:
    with db.write() as session:
        view = conversations.back(session, chat.conversation_id, chat.token, chat.step, NOW)
    chat.step = view.conversation.step
    return view


def company_rows(db: Database) -> list[tuple[int, str | None, str | None, int | None]]:
    with db.read() as session:
        rows = session.scalars(select(Company).order_by(Company.id))
        return [(c.id, c.name, c.domain, c.employees) for c in rows]


def test_back_over_the_email_leaves_the_visitor_without_the_company_its_domain_gave(db: Database) -> None:
    acme_id = add_acme(db)
    publish(db, EMAIL_FIRST)
    chat, _ = begin(db, "email-first")
    say(db, chat, text="ada@acme.com")
    assert person_of(db, chat).company_id == acme_id

    view = go_back(db, chat)

    assert view.turn.expected.card == "ask_email"
    person = person_of(db, chat)
    assert (person.email, person.company_id) == (None, None)
    assert "company.name" not in view.turn.state.values, "the question no longer knows Acme"


def test_back_over_the_email_gives_the_visitors_company_back_its_answers_without_the_domain(db: Database) -> None:
    publish(db, COMPANY_FIRST)
    chat, _ = begin(db, "company-first")
    say(db, chat, text="40")
    own_id = person_of(db, chat).company_id
    say(db, chat, text="ada@globex.com")
    assert company_rows(db) == [(own_id, "Globex", "globex.com", 40)]

    go_back(db, chat)

    assert person_of(db, chat).company_id == own_id
    assert company_rows(db) == [(own_id, None, None, 40)]
    with db.read() as session:
        assert list(session.scalars(select(CompanyDomain.domain))) == []
    say(db, chat, text="ada@initech.com")
    assert company_rows(db) == [(own_id, "Initech", "initech.com", 40)], "a corrected email names it again"


def test_back_over_an_email_that_joined_a_known_company_takes_the_visitor_out_of_it(db: Database) -> None:
    acme_id = add_acme(db)
    publish(db, COMPANY_FIRST)
    chat, _ = begin(db, "company-first")
    say(db, chat, text="250")
    say(db, chat, text="ada@acme.com")
    assert person_of(db, chat).company_id == acme_id
    assert company_rows(db) == [(acme_id, "Acme Corporation", "acme.com", 250)]

    view = go_back(db, chat)

    own_id = person_of(db, chat).company_id
    assert own_id not in (None, acme_id)
    # The visitor has their answers back on a company of their own; Acme no longer holds them.
    assert company_rows(db) == [(acme_id, "Acme Corporation", "acme.com", None), (own_id, None, None, 250)]
    assert (view.turn.state.values["company.employees"], "company.industry" in view.turn.state.values) == (250, False)
