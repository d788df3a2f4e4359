"""The People and Companies pages and their admin API, as marketers, admins and agents meet them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.conversations import engine
from overture.conversations import service as conversations
from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import Company, CompanyDomain, PageView, Person, PrivacyAction, VisitorIdentity

from support import Personas, csrf_from, publish, sign_in, token_for

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
SCRIPT = "<script>alert('owned')</script>"

ASK_TITLE = {
    "key": "ask-title",
    "name": "Ask the job title",
    "flow": {
        "start": "ask",
        "cards": {
            "ask": {"ask": "What is your job title?", "capture": "person.title", "goto": "bye"},
            "bye": {"say": "Thanks!", "end": True},
        },
    },
}


def make_people(db: Database) -> dict[str, int]:
    """Jane (Acme, seen last), John (Globex) and an anonymous visitor."""
    with db.write() as session:
        acme = Company(name="Acme Corp", domain="acme.com", industry="Software", owner="bob@example.com", fields={})
        globex = Company(name="Globex", domain="globex.com", fields={})
        session.add_all([acme, globex])
        session.flush()
        session.add_all(
            [
                CompanyDomain(domain="acme.com", company_id=acme.id),
                CompanyDomain(domain="globex.com", company_id=globex.id),
            ]
        )
        people = {
            "jane": Person(
                email="jane.doe@acme.com", first_name="Jane", last_name="Doe", company_id=acme.id, visit_count=3,
                source={"utm_source": "newsletter"}, last_seen_at=NOW,
            ),
            "john": Person(
                email="john@globex.com", first_name="John", last_name="Smith", company_id=globex.id,
                last_seen_at=NOW - timedelta(hours=1),
            ),
            "anon": Person(last_seen_at=NOW - timedelta(hours=2)),
        }  # fmt: skip
        for person in people.values():
            person.created_at = NOW - timedelta(days=2)
            person.fields, person.visit = {}, {}
            person.source = person.source or {}
        session.add_all(people.values())
        session.flush()
        jane = people["jane"].id
        session.add(VisitorIdentity(visitor_id="v_jane_laptop", person_id=jane, created_at=NOW))
        session.add(PageView(person_id=jane, url="https://example.com/pricing", session_number=1, occurred_at=NOW))
        return {key: person.id for key, person in people.items()}


def chat_with_script(db: Database, person_id: int) -> int:
    """A conversation of the person in which they typed markup as their job title; returns its id."""
    publish(db, ASK_TITLE)
    with db.write() as session:
        session.add(VisitorIdentity(visitor_id="v_chatting_browser", person_id=person_id, created_at=NOW))
    with db.write() as session:
        view = conversations.start(
            session,
            dialogue_key="ask-title",
            visitor_id="v_chatting_browser",
            page_url="https://example.com/pricing",
            region=None,
            now=NOW,
        )
        assert view.token is not None and view.person.id == person_id
        conversations.reply(session, view.conversation.public_id, view.token, 0, engine.Reply(text=SCRIPT), NOW)
        session.add(
            Activity(person_id=person_id, type="meeting.booked", occurred_at=NOW, session_number=1, attributes={})
        )
        return view.conversation.id


def rows_of(text: str) -> list[str]:
    """The names linked from the people table, in order."""
    return re.findall(r'<td><a href="/admin/people/\d+">([^<]+)</a></td>', text)


@pytest.fixture
def marked(client: TestClient, personas: Personas) -> TestClient:
    sign_in(client, personas.mark)
    return client


def api(db: Database, personas: Personas, who: str = "mark") -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, getattr(personas, who))}"}


# --- pages ---------------------------------------------------------------------------------------------------------


def test_the_people_area_is_a_list_now_not_a_promise(marked: TestClient, db: Database) -> None:
    make_people(db)
    page = marked.get("/admin/people")
    assert page.status_code == 200
    assert rows_of(page.text) == ["Jane Doe", "John Smith", "Anonymous visitor"]
    assert "Visitors and the people they became" not in page.text


def test_a_marketer_searches_people_by_email_name_and_company(marked: TestClient, db: Database) -> None:
    make_people(db)
    assert rows_of(marked.get("/admin/people", params={"q": "jane.doe@"}).text) == ["Jane Doe"]
    assert rows_of(marked.get("/admin/people", params={"q": "SMITH"}).text) == ["John Smith"]
    assert rows_of(marked.get("/admin/people", params={"q": "globex"}).text) == ["John Smith"]
    nobody = marked.get("/admin/people", params={"q": "initech"})
    assert rows_of(nobody.text) == [] and "Nobody matches this search." in nobody.text


def test_the_filter_shows_known_people_or_anonymous_visitors_only(marked: TestClient, db: Database) -> None:
    make_people(db)
    assert rows_of(marked.get("/admin/people", params={"known": "anonymous"}).text) == ["Anonymous visitor"]
    assert rows_of(marked.get("/admin/people", params={"known": "known"}).text) == ["Jane Doe", "John Smith"]


def test_the_list_pages_with_an_older_link(marked: TestClient, db: Database) -> None:
    with db.write() as session:
        for n in range(55):
            session.add(Person(email=f"p{n:02}@example.com", fields={}, source={}, visit={},
                               last_seen_at=NOW - timedelta(minutes=n)))  # fmt: skip
    first = marked.get("/admin/people", params={"q": "p"})
    assert len(rows_of(first.text)) == 50
    older = re.search(r'<a href="\?([^"]+)">Older</a>', first.text)
    assert older is not None
    second = marked.get("/admin/people?" + older.group(1).replace("&amp;", "&"))
    assert rows_of(second.text) == [f"p{n:02}@example.com" for n in range(50, 55)]
    assert "Back to the newest" in second.text


def test_a_profile_shows_fields_company_visits_conversations_and_activities(marked: TestClient, db: Database) -> None:
    people = make_people(db)
    chat_with_script(db, people["jane"])
    page = marked.get(f"/admin/people/{people['jane']}")
    assert page.status_code == 200
    text = page.text
    for expected in (
        '<dt title="person.email">Email</dt><dd>jane.doe@acme.com</dd>',
        '<a href="/admin/companies/',
        "Acme Corp",
        "v_jane_laptop",
        "https://example.com/pricing",
        "newsletter",
        "Ask the job title",
        "Completed",
        "meeting.booked",
        "Export data (JSON)",
        "Delete person",
    ):
        assert expected in text, expected


def test_a_transcript_shows_what_the_visitor_typed_escaped(marked: TestClient, db: Database) -> None:
    people = make_people(db)
    conversation_id = chat_with_script(db, people["jane"])
    profile = marked.get(f"/admin/people/{people['jane']}")
    link = f"/admin/people/{people['jane']}/conversations/{conversation_id}"
    assert f'href="{link}"' in profile.text
    # The job title was captured from the chat: the profile shows it escaped too.
    assert SCRIPT not in profile.text and "&lt;script&gt;" in profile.text

    page = marked.get(link)
    assert page.status_code == 200
    assert "What is your job title?" in page.text
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page.text
    assert SCRIPT not in page.text


def test_another_persons_transcript_is_not_found_under_this_person(marked: TestClient, db: Database) -> None:
    people = make_people(db)
    conversation_id = chat_with_script(db, people["jane"])
    assert marked.get(f"/admin/people/{people['john']}/conversations/{conversation_id}").status_code == 404


def test_an_unknown_person_is_a_404_page(marked: TestClient) -> None:
    page = marked.get("/admin/people/424242")
    assert page.status_code == 404
    assert "There is no person with id 424242" in page.text


def test_companies_are_listed_searched_and_opened(marked: TestClient, db: Database) -> None:
    people = make_people(db)
    listing = marked.get("/admin/companies")
    assert listing.status_code == 200
    assert "Acme Corp" in listing.text and "Globex" in listing.text
    found = marked.get("/admin/companies", params={"q": "acme.c"})
    assert "Acme Corp" in found.text and "Globex" not in found.text

    with db.read() as session:
        acme = session.scalar(select(Company).where(Company.name == "Acme Corp"))
        assert acme is not None
    page = marked.get(f"/admin/companies/{acme.id}")
    assert page.status_code == 200
    assert "Software" in page.text and "bob@example.com" in page.text and "acme.com" in page.text
    assert f'href="/admin/people/{people["jane"]}"' in page.text
    assert f'href="/admin/people/{people["john"]}"' not in page.text


def test_export_downloads_everything_about_the_person_and_is_logged(
    marked: TestClient, db: Database, personas: Personas
) -> None:
    people = make_people(db)
    jane = people["jane"]
    answer = marked.post(
        f"/admin/people/{jane}/export", data={"csrf_token": csrf_from(marked, f"/admin/people/{jane}")}
    )
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="person-{jane}.json"'
    data = json.loads(answer.content)
    assert data["person"]["fields"]["person.email"] == "jane.doe@acme.com"
    assert data["visitor_ids"] == ["v_jane_laptop"]
    with db.read() as session:
        logged = session.scalars(select(PrivacyAction)).all()
    assert [(a.action, a.person_id, a.actor) for a in logged] == [("export", jane, personas.mark.email)]
    assert "data exported by mark@example.com" in marked.get(f"/admin/people/{jane}").text


def test_export_without_the_forms_token_is_refused(marked: TestClient, db: Database) -> None:
    people = make_people(db)
    assert marked.post(f"/admin/people/{people['jane']}/export").status_code == 403


def test_deleting_asks_for_confirmation_then_deletes_and_says_what_was_deleted(
    marked: TestClient, db: Database
) -> None:
    people = make_people(db)
    jane = people["jane"]
    chat_with_script(db, jane)
    confirm = marked.get(f"/admin/people/{jane}/delete")
    assert confirm.status_code == 200
    assert "Delete Jane Doe?" in confirm.text and "cannot be undone" in confirm.text
    with db.read() as session:
        assert session.get(Person, jane) is not None  # opening the confirmation deletes nothing

    done = marked.post(
        f"/admin/people/{jane}/delete", data={"csrf_token": csrf_from(marked, f"/admin/people/{jane}/delete")}
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/people"
    listing = marked.get("/admin/people")
    assert (
        f"Jane Doe (person {jane}) is deleted, with 1 page view, 2 visitor ids. "
        "Kept anonymised for reports: 5 activities, 1 conversation."
    ) in listing.text
    assert rows_of(listing.text) == ["John Smith", "Anonymous visitor"]
    with db.read() as session:
        assert session.get(Person, jane) is None
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.person_id is None
    assert marked.get(f"/admin/people/{jane}").status_code == 404


# --- API -----------------------------------------------------------------------------------------------------------


def test_the_api_searches_people_and_pages_with_a_cursor(client: TestClient, db: Database, personas: Personas) -> None:
    people = make_people(db)
    headers = api(db, personas)
    first = client.get("/api/v1/admin/people", params={"limit": 2}, headers=headers).json()
    assert [p["id"] for p in first["items"]] == [people["jane"], people["john"]]
    rest = client.get("/api/v1/admin/people", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    assert [p["id"] for p in rest.json()["items"]] == [people["anon"]] and rest.json()["next_cursor"] is None
    found = client.get("/api/v1/admin/people", params={"q": "acme"}, headers=headers).json()
    assert [(p["name"], p["company"]["name"]) for p in found["items"]] == [("Jane Doe", "Acme Corp")]
    anonymous = client.get("/api/v1/admin/people", params={"known": "false"}, headers=headers).json()
    assert [p["known"] for p in anonymous["items"]] == [False]


def test_the_api_refuses_a_made_up_cursor_with_the_error_shape(
    client: TestClient, db: Database, personas: Personas
) -> None:
    answer = client.get("/api/v1/admin/people", params={"cursor": "99-99-99"}, headers=api(db, personas))
    assert answer.status_code == 422
    assert set(answer.json()) == {"ok", "error", "errors", "status"}


def test_the_api_gives_a_profile_a_transcript_and_companies(
    client: TestClient, db: Database, personas: Personas
) -> None:
    people = make_people(db)
    conversation_id = chat_with_script(db, people["jane"])
    headers = api(db, personas)
    profile: dict[str, Any] = client.get(f"/api/v1/admin/people/{people['jane']}", headers=headers).json()
    assert {f["name"]: f["value"] for f in profile["fields"]}["person.title"] == SCRIPT
    assert profile["company"]["name"] == "Acme Corp"
    assert [c["id"] for c in profile["conversations"]] == [conversation_id]
    transcript = client.get(
        f"/api/v1/admin/people/{people['jane']}/conversations/{conversation_id}", headers=headers
    ).json()
    assert [line["text"] for line in transcript["transcript"] if line["role"] == "visitor"] == [SCRIPT]

    companies = client.get("/api/v1/admin/companies", params={"q": "glob"}, headers=headers).json()
    assert [(c["name"], c["people_count"]) for c in companies["items"]] == [("Globex", 1)]
    company = client.get(f"/api/v1/admin/companies/{companies['items'][0]['id']}", headers=headers).json()
    assert company["domains"] == ["globex.com"] and [p["id"] for p in company["people"]] == [people["john"]]
    assert client.get("/api/v1/admin/companies/424242", headers=headers).status_code == 404


def test_the_api_exports_and_deletes_a_person(client: TestClient, db: Database, personas: Personas) -> None:
    people = make_people(db)
    headers = api(db, personas, "alice")
    exported = client.get(f"/api/v1/admin/people/{people['jane']}/export", headers=headers)
    assert exported.status_code == 200 and exported.json()["person"]["id"] == people["jane"]

    deleted = client.delete(f"/api/v1/admin/people/{people['jane']}", headers=headers)
    assert deleted.status_code == 200
    assert deleted.json()["deleted"]["people"] == 1 and deleted.json()["deleted"]["page_views"] == 1
    assert client.get(f"/api/v1/admin/people/{people['jane']}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/admin/people/{people['jane']}", headers=headers).status_code == 404
    with db.read() as session:
        actions = [(a.action, a.actor) for a in session.scalars(select(PrivacyAction).order_by(PrivacyAction.id))]
    assert actions == [("export", "alice@example.com"), ("delete", "alice@example.com")]


@pytest.mark.parametrize("who", ["bob", "sam"])
def test_agents_and_sales_admins_may_not_see_or_delete_people(
    client: TestClient, db: Database, personas: Personas, who: str
) -> None:
    people = make_people(db)
    jane = people["jane"]
    headers = api(db, personas, who)
    assert client.get("/api/v1/admin/people", headers=headers).status_code == 403
    assert client.get(f"/api/v1/admin/people/{jane}/export", headers=headers).status_code == 403
    assert client.delete(f"/api/v1/admin/people/{jane}", headers=headers).status_code == 403
    sign_in(client, getattr(personas, who))
    assert client.get("/admin/people").status_code == 403
    assert client.get("/admin/companies").status_code == 403
    refused = client.post(f"/admin/people/{jane}/delete", data={"csrf_token": csrf_from(client, "/admin")})
    assert refused.status_code == 403
    with db.read() as session:
        assert session.get(Person, jane) is not None
