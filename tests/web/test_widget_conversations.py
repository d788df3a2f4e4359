"""The widget conversation API, driven the way the widget (or any script) drives it: start, then answer each step
with the conversation's token and the step number, and read what to show and what to ask next."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.db import Database
from overture.dialogues import service as dialogues
from overture.people import service as people
from overture.people.fields import FieldSchema
from overture.people.models import Company, Person

from support import example, publish, publish_qualify_lead

URL = "/api/v1/widget/conversations"
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
ERROR_SHAPE = {"ok", "error", "errors", "status"}


class Widget:
    """A scripted widget: keeps the conversation id, token and step, as the real one does."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.conversation_id = ""
        self.token = ""
        self.visitor_id: str | None = None
        self.step = 0

    def start(self, dialogue: str, **body: Any) -> dict[str, Any]:
        payload = {"dialogue": dialogue, "page_url": "https://example.com/blog/a-post", **body}
        if self.visitor_id is not None:
            payload.setdefault("visitor_id", self.visitor_id)
        response = self.client.post(URL, json=payload)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        self.conversation_id, self.token = answer["conversation_id"], answer["token"]
        self.visitor_id, self.step = answer["visitor_id"], answer["step"]
        return answer

    def call(self, action: str, body: dict[str, Any] | None = None, token: str | None = None) -> httpx2.Response:
        headers = {"X-Conversation-Token": token or self.token}
        return self.client.post(f"{URL}/{self.conversation_id}/{action}", json=body, headers=headers)

    def send(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.call(action, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.step = answer["step"]
        return answer

    def choose(self, choice: str) -> dict[str, Any]:
        return self.send("replies", {"step": self.step, "choice": choice})

    def type(self, text: str) -> dict[str, Any]:
        return self.send("replies", {"step": self.step, "text": text})

    def back(self) -> dict[str, Any]:
        return self.send("back", {"step": self.step})

    def restart(self) -> dict[str, Any]:
        return self.send("restart", {"step": self.step})

    def resume(self, token: str | None = None) -> httpx2.Response:
        return self.client.get(f"{URL}/{self.conversation_id}", headers={"X-Conversation-Token": token or self.token})


def texts(answer: dict[str, Any]) -> list[str]:
    return [message["text"] for message in answer["messages"]]


def labels(answer: dict[str, Any]) -> list[str]:
    return [choice["label"] for choice in answer["expected"]["choices"]]


def person(db: Database, visitor_id: str | None) -> Person:
    with db.read() as session:
        found = people.by_visitor_id(session, visitor_id) if visitor_id else None
        assert found is not None
        return found


def company(db: Database, visitor_id: str | None) -> Company:
    with db.read() as session:
        found = people.company_of(session, person(db, visitor_id))
        assert found is not None
        return found


def conversation_row(db: Database, public_id: str) -> dict[str, Any]:
    """What a refused call must leave alone."""
    with db.read() as session:
        row = session.scalar(select(Conversation).where(Conversation.public_id == public_id))
        assert row is not None
        return {
            "step": row.step,
            "status": row.status,
            "state": row.state,
            "updated_at": row.updated_at,
            "token_hash": row.token_hash,
        }


def activities(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with db.read() as session:
        return [(a.type, a.attributes) for a in session.scalars(select(Activity).order_by(Activity.id))]


def assert_refused(response: httpx2.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_SHAPE
    assert body["ok"] is False and body["status"] == status
    assert error in body["error"]
    assert isinstance(body["errors"], list)


# --- whole conversations ---------------------------------------------------------------------------------------


def test_a_scripted_client_runs_the_newsletter_to_its_end(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)

    started = widget.start("newsletter")
    assert started["conversation_id"].startswith("c_")
    assert started["visitor_id"].startswith("v_")
    assert started["token"]
    assert (started["step"], started["status"], started["transcript"]) == (0, "active", None)
    assert started["messages"] == [
        {"text": "Hi there, enjoying the blog?", "card": "offer", "kind": "say", "url": None},
        {"text": "One email a month with our best articles, and no spam.", "card": "offer", "kind": "say", "url": None},
    ]
    assert started["expected"] == {
        "kind": "buttons",
        "card": "offer",
        "flow": None,
        "field": None,
        "choices": [{"id": "0", "label": "Sign me up"}, {"id": "1", "label": "No thanks"}],
        "placeholder": None,
    }

    asked = widget.choose("0")
    assert asked["token"] is None, "the token is given once, at the start"
    assert (asked["conversation_id"], asked["visitor_id"]) == (started["conversation_id"], started["visitor_id"])
    assert (asked["step"], asked["status"]) == (1, "active")
    assert asked["messages"] == [
        {"text": "Where should we send it?", "card": "ask_email", "kind": "question", "url": None}
    ]
    assert asked["expected"] == {
        "kind": "email",
        "card": "ask_email",
        "flow": None,
        "field": "person.email",
        "choices": [],
        "placeholder": "name@company.com",
    }

    done = widget.type("ada@example.com")
    assert (done["step"], done["status"]) == (2, "completed")
    assert done["messages"] == [
        {"text": "Done! Look out for the next issue, friend.", "card": "subscribed", "kind": "say", "url": None},
        {
            "text": "Read the latest issue",
            "card": "subscribed",
            "kind": "link",
            "url": "https://example.com/newsletter/latest",
        },
    ]
    assert done["expected"]["kind"] == "none"

    visitor = person(db, widget.visitor_id)
    assert visitor.email == "ada@example.com"
    assert visitor.consent is True


def test_a_scripted_client_runs_a_dialogue_through_its_reusable_flow_and_back(client: TestClient, db: Database) -> None:
    publish_qualify_lead(db)
    widget = Widget(client)
    started = widget.start("qualify-lead", region="FR")
    assert texts(started) == ["Hello there!", "Which of these describes your company best?"]

    script: list[tuple[str, str, str, list[str]]] = [
        # (choice or text, what is sent, the expected kind of the next question, what the bot says)
        ("choice", "0", "name", ["First, what is your first name?"]),
        ("text", "Ada", "email", ["Thanks Ada! What is your work email?"]),
        ("text", "ada@agency.example", "number", ["How many people work at your company?"]),
        ("text", "1,200", "text", ["What is your role?"]),
        ("text", "Head of Growth", "choice", ["Where is your company based?"]),
    ]
    for how, sent, kind, said in script:
        answer = widget.choose(sent) if how == "choice" else widget.type(sent)
        assert (answer["expected"]["kind"], texts(answer)) == (kind, said)
        assert answer["expected"]["flow"] == "qualify"
    assert labels(answer) == ["France", "Germany", "United Kingdom", "United States"]

    back_in_dialogue = widget.choose("0")
    assert back_in_dialogue["expected"] == {
        "kind": "phone",
        "card": "callback",
        "flow": None,
        "field": "person.phone",
        "choices": [],
        "placeholder": "+1 415 555 0100",
    }
    assert texts(back_in_dialogue) == [
        # No team takes meetings yet: the card goes on at its on_unavailable at once.
        "Great fit! Pick a time for a 30-minute call with our team.",
        "What number can our team call you on?",
    ]
    done = widget.type("01 23 45 67 89")
    assert texts(done) == ["Thanks, we will call you within one working day.", "Anything else? Just ask."]
    # Seven answers, and the step the service took for the meeting nobody could take.
    assert (done["status"], done["step"], done["expected"]["kind"]) == ("completed", 8, "none")

    visitor = person(db, widget.visitor_id)
    assert (visitor.first_name, visitor.email, visitor.phone) == ("Ada", "ada@agency.example", "+33123456789")
    assert visitor.title == "Head of Growth"
    account = company(db, widget.visitor_id)
    assert (account.industry, account.employees, account.country) == ("SEO", 1200, "FR")


def test_each_reply_writes_the_captured_field_in_the_same_request(client: TestClient, db: Database) -> None:
    publish_qualify_lead(db)
    widget = Widget(client)
    widget.start("qualify-lead")
    widget.choose("1")
    assert company(db, widget.visitor_id).industry == "SaaS", "the stored value, not the label"
    widget.type("  Grace ")
    assert person(db, widget.visitor_id).first_name == "Grace"


def test_a_wrong_email_gets_the_error_and_the_same_question_and_writes_nothing(
    client: TestClient, db: Database
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    asked = widget.choose("0")

    wrong = widget.type("ada at example")
    assert wrong["messages"] == [
        {
            "text": "That does not look like an email address; please try again.",
            "card": "ask_email",
            "kind": "error",
            "url": None,
        },
        {"text": "Where should we send it?", "card": "ask_email", "kind": "question", "url": None},
    ]
    assert wrong["expected"] == asked["expected"]
    assert (wrong["step"], wrong["status"]) == (2, "active"), "the reply is taken: the step moves on"
    assert person(db, widget.visitor_id).email is None
    assert "field.captured" not in [kind for kind, _ in activities(db)]

    assert widget.type("ada@example.com")["status"] == "completed"
    assert person(db, widget.visitor_id).email == "ada@example.com"


# --- refused calls change nothing ------------------------------------------------------------------------------


@pytest.fixture
def waiting(client: TestClient, db: Database) -> Widget:
    """A newsletter conversation waiting for its email, at step 1."""
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    widget.choose("0")
    return widget


def test_a_replayed_reply_is_refused_and_changes_nothing(waiting: Widget, db: Database) -> None:
    before = conversation_row(db, waiting.conversation_id)
    response = waiting.call("replies", {"step": 0, "choice": "0"})
    assert_refused(response, 409, "This reply answers step 0, but the conversation is at step 1")
    assert response.json()["errors"] == [{"path": "step", "message": "Expected 1."}]
    assert conversation_row(db, waiting.conversation_id) == before


def test_a_reply_for_a_later_step_is_refused_and_changes_nothing(waiting: Widget, db: Database) -> None:
    before = conversation_row(db, waiting.conversation_id)
    assert_refused(waiting.call("replies", {"step": 5, "text": "ada@example.com"}), 409, "sent twice or out of order")
    assert_refused(waiting.call("back", {"step": 5}), 409, "sent twice or out of order")
    assert_refused(waiting.call("restart", {"step": 0}), 409, "sent twice or out of order")
    assert conversation_row(db, waiting.conversation_id) == before
    assert person(db, waiting.visitor_id).email is None


def test_a_reply_with_another_conversations_token_is_refused(client: TestClient, waiting: Widget, db: Database) -> None:
    other = Widget(client)
    other.start("newsletter")
    before = conversation_row(db, waiting.conversation_id)

    response = waiting.call("replies", {"step": 1, "text": "mallory@example.com"}, token=other.token)
    assert_refused(response, 401, "This conversation does not exist or the token does not match it.")
    assert waiting.resume(token=other.token).status_code == 401
    assert waiting.call("dismiss", token=other.token).status_code == 401
    assert waiting.call("links", {"url": "https://example.com/newsletter/latest"}, token=other.token).status_code == 401
    assert conversation_row(db, waiting.conversation_id) == before
    assert person(db, waiting.visitor_id).email is None
    assert [kind for kind, _ in activities(db)].count("link.clicked") == 0


def test_an_unknown_conversation_is_refused_like_a_wrong_token(client: TestClient, waiting: Widget) -> None:
    response = client.post(
        f"{URL}/c_doesnotexist/replies",
        json={"step": 1, "text": "ada@example.com"},
        headers={"X-Conversation-Token": waiting.token},
    )
    assert_refused(response, 401, "This conversation does not exist or the token does not match it.")


def test_a_call_without_a_token_is_refused(client: TestClient, waiting: Widget) -> None:
    response = client.post(f"{URL}/{waiting.conversation_id}/replies", json={"step": 1, "text": "ada@example.com"})
    assert_refused(response, 422, "Some input is not valid.")
    assert response.json()["errors"][0]["path"] == "header.X-Conversation-Token"


@pytest.mark.parametrize("ending", ["completed", "dismissed"])
def test_a_reply_to_an_ended_conversation_is_refused(waiting: Widget, db: Database, ending: str) -> None:
    if ending == "completed":
        waiting.type("ada@example.com")
    else:
        assert waiting.send("dismiss")["status"] == "dismissed"
    before = conversation_row(db, waiting.conversation_id)

    response = waiting.call("replies", {"step": waiting.step, "text": "again@example.com"})
    assert_refused(response, 409, f"This conversation has ended ({ending}). Start a new one to chat again.")
    assert_refused(waiting.call("back", {"step": waiting.step}), 409, "This conversation has ended")
    assert_refused(waiting.call("restart", {"step": waiting.step}), 409, "This conversation has ended")
    assert conversation_row(db, waiting.conversation_id) == before


def test_a_choice_that_does_not_exist_is_refused_and_changes_nothing(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    before = conversation_row(db, widget.conversation_id)

    for choice in ("2", "-1", "x"):
        response = widget.call("replies", {"step": 0, "choice": choice})
        assert_refused(response, 422, f"There is no choice '{choice}' here.")
        assert response.json()["errors"] == [{"path": "reply", "message": f"There is no choice '{choice}' here."}]
    assert conversation_row(db, widget.conversation_id) == before
    assert [kind for kind, _ in activities(db)] == ["dialogue.triggered"]


def test_text_to_a_buttons_question_is_refused_and_changes_nothing(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    before = conversation_row(db, widget.conversation_id)

    response = widget.call("replies", {"step": 0, "text": "Sign me up"})
    assert_refused(response, 422, "This question takes one of its buttons, not text.")
    assert_refused(widget.call("replies", {"step": 0}), 422, "Send a choice or a text.")
    assert conversation_row(db, widget.conversation_id) == before


def test_a_choice_to_a_typed_question_is_refused(waiting: Widget, db: Database) -> None:
    before = conversation_row(db, waiting.conversation_id)
    assert_refused(
        waiting.call("replies", {"step": 1, "choice": "0"}), 422, "This question takes typed text, not a choice."
    )
    assert conversation_row(db, waiting.conversation_id) == before


# --- reloads, back and restart ---------------------------------------------------------------------------------


def test_resume_after_a_reload_gives_the_transcript_and_the_same_question(waiting: Widget, db: Database) -> None:
    before = conversation_row(db, waiting.conversation_id)
    response = waiting.resume()
    assert response.status_code == 200
    resumed = response.json()
    assert (resumed["step"], resumed["status"], resumed["messages"], resumed["token"]) == (1, "active", [], None)
    assert resumed["expected"]["card"] == "ask_email" and resumed["expected"]["kind"] == "email"
    assert [(e["role"], e["text"], e["retracted"]) for e in resumed["transcript"]] == [
        ("bot", "Hi there, enjoying the blog?", False),
        ("bot", "One email a month with our best articles, and no spam.", False),
        ("visitor", "Sign me up", False),
        ("bot", "Where should we send it?", False),
    ]
    assert conversation_row(db, waiting.conversation_id) == before

    assert waiting.type("ada@example.com")["status"] == "completed", "the conversation goes on after the reload"


def test_starting_again_picks_up_the_running_conversation_with_a_new_token(
    client: TestClient, waiting: Widget, db: Database
) -> None:
    old_token = waiting.token
    again = Widget(client)
    again.visitor_id = waiting.visitor_id
    picked_up = again.start("newsletter")

    assert picked_up["conversation_id"] == waiting.conversation_id
    assert picked_up["token"] not in (None, old_token)
    assert (picked_up["step"], picked_up["messages"]) == (1, [])
    assert picked_up["expected"]["card"] == "ask_email"
    assert [e["text"] for e in picked_up["transcript"]][-1] == "Where should we send it?"
    assert [kind for kind, _ in activities(db)].count("dialogue.triggered") == 1

    assert_refused(waiting.resume(), 401, "the token does not match")
    assert_refused(waiting.call("replies", {"step": 1, "text": "ada@example.com"}), 401, "the token does not match")
    assert again.type("ada@example.com")["status"] == "completed"


def test_back_undoes_the_last_answer_and_keeps_it_retracted_in_the_transcript(client: TestClient, db: Database) -> None:
    publish_qualify_lead(db)
    widget = Widget(client)
    widget.start("qualify-lead")
    widget.choose("0")
    widget.type("Ada")

    undone = widget.back()
    assert (undone["step"], undone["messages"]) == (3, [])
    assert undone["expected"]["card"] == "ask_name" and undone["expected"]["flow"] == "qualify"
    transcript = widget.resume().json()["transcript"]
    assert [(e["text"], e["retracted"]) for e in transcript[-3:]] == [
        ("First, what is your first name?", False),
        ("Ada", True),
        ("Thanks Ada! What is your work email?", True),
    ]

    corrected = widget.type("Grace")
    assert texts(corrected) == ["Thanks Grace! What is your work email?"]
    assert person(db, widget.visitor_id).first_name == "Grace"


def test_an_answer_corrected_after_back_is_the_one_kept(client: TestClient, db: Database) -> None:
    publish_qualify_lead(db)
    widget = Widget(client)
    widget.start("qualify-lead")
    widget.choose("0")
    for text in ("Ada", "ada@agency.example", "120", "CTO"):  # person.title is asked with overwrite: false
        widget.type(text)
    assert widget.back()["expected"]["card"] == "ask_role"
    widget.type("Founder")
    assert person(db, widget.visitor_id).title == "Founder"


def test_restart_goes_back_to_the_first_card(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    widget.choose("0")

    restarted = widget.restart()
    assert (restarted["step"], restarted["status"]) == (2, "active")
    assert texts(restarted) == [
        "Hi there, enjoying the blog?",
        "One email a month with our best articles, and no spam.",
    ]
    assert restarted["expected"]["card"] == "offer"
    transcript = widget.resume().json()["transcript"]
    assert [e["retracted"] for e in transcript] == [True, True, True, True, False, False]
    assert widget.choose("1")["status"] == "completed"


# --- versions --------------------------------------------------------------------------------------------------


def test_a_conversation_keeps_its_version_when_a_new_one_is_published(client: TestClient, db: Database) -> None:
    v1 = example("newsletter.yaml")
    publish(db, v1)
    widget = Widget(client)
    widget.start("newsletter")

    v2 = copy.deepcopy(v1)
    v2["flow"]["cards"]["offer"]["say"] = "Version two: newsletter?"
    v2["flow"]["cards"]["ask_email"]["ask"] = "Version two: your email?"
    assert publish(db, v2) == 2

    assert texts(widget.choose("0")) == ["Where should we send it?"]
    assert widget.type("ada@example.com")["status"] == "completed"

    newcomer = Widget(client)
    assert texts(newcomer.start("newsletter")) == ["Version two: newsletter?"]
    assert texts(newcomer.choose("0")) == ["Version two: your email?"]


def test_a_conversation_keeps_its_flow_version_when_a_new_one_is_published(client: TestClient, db: Database) -> None:
    publish_qualify_lead(db)
    widget = Widget(client)
    widget.start("qualify-lead")

    flow_v2 = example("flows/qualify.yaml")
    flow_v2["flow"]["cards"]["ask_name"]["ask"] = "Version two: who are you?"
    assert publish(db, flow_v2, "flow") == 2

    assert texts(widget.choose("0")) == ["First, what is your first name?"]
    newcomer = Widget(client)
    newcomer.start("qualify-lead")
    assert texts(newcomer.choose("0")) == ["Version two: who are you?"]


# --- what can be started ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "paused", "archived"])
def test_a_dialogue_that_is_not_live_cannot_be_started(client: TestClient, db: Database, status: str) -> None:
    with db.write() as session:
        dialogue = dialogues.create(session, example("newsletter.yaml"), "dialogue", NOW)
        if status != "draft":
            dialogues.publish(session, dialogue, fields=FieldSchema.builtin(), now=NOW)
            (dialogues.pause if status == "paused" else dialogues.archive)(session, dialogue)

    response = client.post(URL, json={"dialogue": "newsletter"})
    assert_refused(response, 409, f"'newsletter' is not live (it is {status}).")
    with db.read() as session:
        assert session.scalars(select(Conversation)).all() == []


def test_an_unknown_dialogue_is_not_found(client: TestClient) -> None:
    assert_refused(
        client.post(URL, json={"dialogue": "nope"}), 404, "There is no dialogue or flow with the key 'nope'."
    )


# --- languages -------------------------------------------------------------------------------------------------


def test_a_french_visitor_gets_the_french_texts(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    started = widget.start("newsletter", language="fr")
    assert texts(started)[1] == "Un e-mail par mois avec nos meilleurs articles, sans spam."
    assert texts(started)[0].startswith("Bonjour")
    assert labels(started) == ["Je m'inscris", "Non merci"]
    assert texts(widget.choose("0")) == ["À quelle adresse l'envoyer ?"]
    assert texts(widget.type("pas une adresse"))[0] == (
        "Cela ne ressemble pas à une adresse e-mail ; merci de réessayer."
    )


def language_of(db: Database, public_id: str) -> str | None:
    with db.read() as session:
        return session.scalar(select(Conversation.language).where(Conversation.public_id == public_id))


@pytest.mark.parametrize(
    ("language", "spoken", "greeting"),
    [("es", "en", "One email a month"), ("fr-CA", "fr", "Un e-mail par mois"), ("fr_CA", "fr", "Un e-mail par mois")],
)
def test_a_language_without_texts_falls_back(
    client: TestClient, db: Database, language: str, spoken: str, greeting: str
) -> None:
    publish(db, example("newsletter.yaml"))
    started = Widget(client).start("newsletter", language=language)
    assert texts(started)[1].startswith(greeting)
    assert language_of(db, started["conversation_id"]) == spoken


def test_the_first_of_the_visitors_languages_the_dialogue_speaks_is_used(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    started = Widget(client).start("newsletter", languages=["es", "de-AT", "fr"])
    assert labels(started) == ["Anmelden", "Nein danke"]
    assert language_of(db, started["conversation_id"]) == "de"


# --- dismiss and links -----------------------------------------------------------------------------------------


def test_dismiss_ends_the_conversation_and_records_it(waiting: Widget, db: Database) -> None:
    dismissed = waiting.send("dismiss")
    assert (dismissed["status"], dismissed["messages"], dismissed["expected"]["kind"]) == (
        "dismissed",
        [],
        "email",
    )
    assert conversation_row(db, waiting.conversation_id)["status"] == "dismissed"
    assert activities(db)[-1] == ("dialogue.dismissed", {"page_url": "https://example.com/blog/a-post", "step": 1})


def test_opening_a_link_the_dialogue_shows_is_recorded(waiting: Widget, db: Database) -> None:
    waiting.type("ada@example.com")
    response = waiting.call("links", {"url": "https://example.com/newsletter/latest"})
    assert response.status_code == 204
    assert activities(db)[-1] == (
        "link.clicked",
        {"url": "https://example.com/newsletter/latest", "page_url": "https://example.com/blog/a-post"},
    )


def test_a_link_the_dialogue_does_not_show_is_refused(waiting: Widget, db: Database) -> None:
    before = activities(db)
    response = waiting.call("links", {"url": "https://evil.example.com/"})
    assert_refused(response, 422, "This link is not one the conversation showed.")
    assert response.json()["errors"] == [{"path": "url", "message": "Unknown link."}]
    assert activities(db) == before


def test_control_characters_in_ids_and_urls_are_refused_before_reaching_the_database(client: TestClient) -> None:
    started = client.post("/api/v1/widget/conversations", json={"dialogue": "pricing\x00demo"})
    assert started.status_code == 422 and started.json()["errors"][0]["path"] == "dialogue"
    page = client.post("/api/v1/widget/conversations", json={"dialogue": "pricing-demo", "page_url": "https://x/\x00"})
    assert page.status_code == 422 and page.json()["errors"][0]["path"] == "page_url"


# --- events for the host page ----------------------------------------------------------------------------------


def test_each_answer_names_the_goals_fields_and_completion_it_caused_never_a_value(
    client: TestClient, db: Database
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    assert widget.start("newsletter")["events"] == []
    assert widget.choose("0")["events"] == [], "a button that stores nothing captures nothing"

    done = widget.type("ada@example.com")

    # The consent the last card sets silently is not an answer of the visitor's: not reported.
    assert done["events"] == [
        {"type": "field_captured", "goal": None, "field": "person.email"},
        {"type": "goal_reached", "goal": "newsletter_signup", "field": None},
        {"type": "completed", "goal": None, "field": None},
    ]
    assert "ada@example.com" not in str(done["events"]), "the host page never gets a captured value"


def test_going_back_is_not_reported_as_a_captured_field(client: TestClient, db: Database) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    widget = Widget(client)
    widget.start("qualify")
    assert widget.type("Ada")["events"] == [{"type": "field_captured", "goal": None, "field": "person.first_name"}]
    assert widget.back()["events"] == []


# --- reusable flows opened from the host page --------------------------------------------------------------------


def test_a_published_reusable_flow_runs_on_its_own_and_records_its_activities(client: TestClient, db: Database) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    widget = Widget(client)
    started = widget.start("qualify")
    assert texts(started) == ["First, what is your first name?"]
    assert started["expected"]["flow"] is None, "the flow is the conversation's own document, not a called one"

    for answer in ("Ada", "ada@agency.example", "40", "CTO"):
        assert widget.type(answer)["events"][0]["type"] == "field_captured"
    done = widget.choose("1")

    assert done["status"] == "completed"
    assert done["events"] == [
        {"type": "field_captured", "goal": None, "field": "company.country"},
        {"type": "completed", "goal": None, "field": None},
    ]
    assert person(db, widget.visitor_id).email == "ada@agency.example"
    assert company(db, widget.visitor_id).country == "DE"
    with db.read() as session:
        flow_id = dialogues.get(session, "qualify").id
        recorded = [(a.type, a.dialogue_id) for a in session.scalars(select(Activity).order_by(Activity.id))]
    assert recorded[0] == ("dialogue.triggered", flow_id)
    assert recorded[-1] == ("dialogue.completed", flow_id)
    assert [kind for kind, _ in recorded].count("field.captured") == 5


def test_a_flow_opened_on_its_own_and_called_by_a_dialogue_runs_the_same(client: TestClient, db: Database) -> None:
    publish_qualify_lead(db)
    alone, called = Widget(client), Widget(client)
    assert texts(alone.start("qualify")) == ["First, what is your first name?"]
    called.start("qualify-lead")
    assert texts(called.choose("0")) == ["First, what is your first name?"]
    assert called.type("Ada")["expected"]["flow"] == "qualify"
    assert alone.type("Grace")["expected"] == {
        "kind": "email",
        "card": "ask_email",
        "flow": None,
        "field": "person.email",
        "choices": [],
        "placeholder": "name@company.com",
    }


def test_a_flow_that_is_not_published_cannot_be_opened(client: TestClient, db: Database) -> None:
    with db.write() as session:
        dialogues.create(session, example("flows/qualify.yaml"), "flow", NOW)
    response = client.post(URL, json={"dialogue": "qualify"})
    assert_refused(response, 409, "'qualify' is not live")
