"""The Conversations inbox against a hand-built fixture: visitors run dialogues through the widget API on a pinned
clock, and the list, one conversation and the CSV are read through the admin API and the admin pages as a marketer
would (docs/conversations.md has the definitions)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from analytics.reports import Chat, offer
from overture.conversations import inbox
from overture.conversations import service as conversations
from overture.conversations.models import Conversation
from overture.db import Database, downgrade, migrate
from overture.people import directory
from overture.people.models import Company, Person
from overture.people.service import set_field
from overture.scheduling.models import Meeting
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking

from support import Personas, publish, sign_in, token_for

API = "/api/v1/admin/conversations"
T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, personas.mark)}"}


@dataclass
class Fixture:
    """Who had which conversation: name -> public id."""

    ids: dict[str, str]

    def names(self, items: list[dict[str, Any]]) -> list[str]:
        by_id = {public_id: name for name, public_id in self.ids.items()}
        return [by_id.get(item["public_id"], item["public_id"]) for item in items]


def _name(db: Database, public_id: str, first: str, last: str, company: str | None = None) -> None:
    """Gives the conversation's person a name (and a company), as a CRM import would."""
    with db.write() as session:
        person_id = session.scalar(select(Conversation.person_id).where(Conversation.public_id == public_id))
        person = session.get_one(Person, person_id)
        person.first_name, person.last_name = first, last
        if company:
            found = Company(name=company, domain=f"{company.split()[0].lower()}.example")
            session.add(found)
            session.flush()
            person.company_id = found.id


@pytest.fixture
def world(client: TestClient, db: Database, clock: time_machine.Traveller) -> Fixture:
    """Seven conversations started ten minutes apart from T0 (each answered ten minutes after it started), each
    with a known outcome:

    ada    offer /pricing    engaged, completed, goal (gave ada@acme.example), named Ada Lovelace of Acme Corp
    ben    offer /Features   engaged, completed ("No thanks")
    cat    offer /pricing    closed without answering: no outcome
    dan    other /blog       engaged, then closed at the email question: dropped
    eve    other /pricing    engaged, then silent for a visitor session: dropped
    gus    demo  (no page)   engaged, completed, meeting (gus@globex.example)
    fay    offer /pricing    23:30 UTC (00:30 in Paris on the 17th), still open: no outcome
    """
    publish(db, offer())
    publish(db, offer("other"))
    make_agents(db, 1)
    publish_booking(db)
    ids: dict[str, str] = {}

    def chat(name: str, dialogue: str, page: str) -> Chat:
        visitor = Chat(client)
        visitor.open(dialogue, page=page)
        ids[name] = visitor.conversation_id
        clock.shift(timedelta(minutes=10))
        return visitor

    ada = chat("ada", "offer", "https://example.com/pricing")
    ada.choose("0")
    ada.type("ada@acme.example")
    chat("ben", "offer", "https://example.com/Features?utm_source=ads").choose("1")
    chat("cat", "offer", "https://example.com/pricing").close()
    dan = chat("dan", "other", "https://example.com/blog/launch")
    dan.choose("0")
    dan.close()
    chat("eve", "other", "https://example.com/pricing").choose("0")
    gus = Visitor(client, zone="UTC")
    offered = gus.to_the_slots("gus@globex.example")
    gus.pick(first_time(offered))
    ids["gus"] = gus.conversation_id
    clock.shift(timedelta(minutes=40))
    with db.write() as session:  # eve's silence: the periodic job drops her conversation
        assert conversations.drop_abandoned(session, datetime.now(UTC)) == 1
    clock.move_to(datetime(2026, 3, 16, 23, 30, tzinfo=UTC))
    chat("fay", "offer", "https://example.com/pricing")
    _name(db, ids["ada"], "Ada", "Lovelace", "Acme Corp")
    _name(db, ids["ben"], "Ben", "Okafor")
    return Fixture(ids)


def listed(client: TestClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(API, params=params, headers=auth)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def names(client: TestClient, auth: dict[str, str], world: Fixture, **params: Any) -> list[str]:
    return world.names(listed(client, auth, **params)["items"])


def test_every_conversation_is_listed_newest_first_including_one_still_open(
    client: TestClient, auth: dict[str, str], world: Fixture
) -> None:
    answer = listed(client, auth)
    assert world.names(answer["items"]) == ["fay", "gus", "eve", "dan", "cat", "ben", "ada"]
    assert answer["next"] is None
    fay = answer["items"][0]
    assert (fay["status"], fay["outcomes"], fay["page_url"]) == ("active", [], "https://example.com/pricing")


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("engaged", ["gus", "eve", "dan", "ben", "ada"]),
        ("completed", ["gus", "ben", "ada"]),
        ("goal", ["ada"]),
        ("meeting", ["gus"]),
        ("dropped", ["eve", "dan"]),
    ],
)
def test_each_outcome_lists_exactly_the_conversations_that_came_to_it(
    client: TestClient, auth: dict[str, str], world: Fixture, outcome: str, expected: list[str]
) -> None:
    assert names(client, auth, world, outcome=outcome) == expected


def test_each_row_says_every_outcome_it_came_to(client: TestClient, auth: dict[str, str], world: Fixture) -> None:
    items = listed(client, auth)["items"]
    outcomes = {name: item["outcomes"] for name, item in zip(world.names(items), items, strict=True)}
    assert outcomes == {
        "fay": [],
        "gus": ["engaged", "completed", "meeting"],
        "eve": ["engaged", "dropped"],
        "dan": ["engaged", "dropped"],
        "cat": [],
        "ben": ["engaged", "completed"],
        "ada": ["engaged", "completed", "goal"],
    }


def test_the_dialogue_filter_lists_one_dialogues_conversations(
    client: TestClient, auth: dict[str, str], world: Fixture
) -> None:
    assert names(client, auth, world, dialogue="other") == ["eve", "dan"]
    assert names(client, auth, world, dialogue="offer", outcome="engaged") == ["ben", "ada"]


def test_the_page_filter_matches_any_part_of_the_address_in_any_case(
    client: TestClient, auth: dict[str, str], world: Fixture
) -> None:
    assert names(client, auth, world, page="/pricing") == ["fay", "eve", "cat", "ada"]
    assert names(client, auth, world, page="features") == ["ben"]
    assert names(client, auth, world, page="utm_source=ads") == ["ben"]  # an underscore is no wildcard
    assert names(client, auth, world, page="100%") == []


def test_the_days_are_counted_in_the_viewers_zone(client: TestClient, auth: dict[str, str], world: Fixture) -> None:
    # fay started at 23:30 UTC on the 16th: 00:30 on the 17th in Paris.
    assert names(client, auth, world, **{"from": "2026-03-17", "to": "2026-03-17", "zone": "Europe/Paris"}) == ["fay"]
    assert names(client, auth, world, **{"from": "2026-03-17", "zone": "UTC"}) == []
    assert len(names(client, auth, world, **{"to": "2026-03-16", "zone": "UTC"})) == 7
    assert names(client, auth, world, **{"to": "2026-03-16", "zone": "Europe/Paris"})[0] == "gus"


def test_the_search_finds_a_person_by_name_email_or_company(
    client: TestClient, auth: dict[str, str], world: Fixture
) -> None:
    assert names(client, auth, world, q="lovelace") == ["ada"]
    assert names(client, auth, world, q="Ada") == ["ada"]
    assert names(client, auth, world, q="gus@globex") == ["gus"]
    assert names(client, auth, world, q="acme") == ["ada"]  # the company's name
    assert names(client, auth, world, q="ben okafor") == ["ben"]  # every word matches
    assert names(client, auth, world, q="ben lovelace") == []


def test_paging_reads_every_conversation_exactly_once_while_new_ones_arrive(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    before = []
    for _ in range(4):  # four conversations at the same instant: the id orders them
        visitor = Chat(client)
        visitor.open()
        before.append(visitor.conversation_id)
    clock.shift(timedelta(minutes=1))
    for _ in range(3):
        visitor = Chat(client)
        visitor.open()
        before.append(visitor.conversation_id)
        clock.shift(timedelta(minutes=1))

    seen: list[str] = []
    cursor = None
    while True:
        answer = listed(client, auth, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [item["public_id"] for item in answer["items"]]
        Chat(client).open()  # someone starts a conversation between two pages
        clock.shift(timedelta(seconds=5))
        cursor = answer["next"]
        if cursor is None:
            break
    assert seen == list(reversed(before))


def test_a_tampered_cursor_or_one_made_for_other_filters_is_refused(
    client: TestClient, auth: dict[str, str], world: Fixture
) -> None:
    cursor = listed(client, auth, limit=2)["next"]
    assert listed(client, auth, limit=2, cursor=cursor)["items"]
    for tampered, params in (
        (cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), {}),
        ("not-a-cursor", {}),
        (cursor, {"outcome": "engaged"}),
    ):
        response = client.get(API, params={"cursor": tampered, **params}, headers=auth)
        assert response.status_code == 422, tampered
        assert [problem["path"] for problem in response.json()["errors"]] == ["cursor"]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"dialogue": "nope"}, "dialogue"),
        ({"outcome": "won"}, "outcome"),
        ({"zone": "Mars/Olympus"}, "zone"),
        ({"from": "2026-03-17", "to": "2026-03-16"}, "from"),
        ({"from": "2026-13-01"}, "from"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_a_bad_filter_gets_422_naming_the_parameter(
    client: TestClient, auth: dict[str, str], world: Fixture, params: dict[str, str], path: str
) -> None:
    response = client.get(API, params=params, headers=auth)
    assert response.status_code == 422
    assert [problem["path"] for problem in response.json()["errors"]] == [path]


def test_an_agent_and_a_sales_admin_are_refused_the_inbox(
    client: TestClient, db: Database, personas: Personas, world: Fixture
) -> None:
    for persona in (personas.bob, personas.sam):
        headers = {"Authorization": f"Bearer {token_for(db, persona)}"}
        assert client.get(API, headers=headers).status_code == 403
        assert client.get(f"{API}/{world.ids['ada']}", headers=headers).status_code == 403
    sign_in(client, personas.bob)
    assert client.get("/admin/conversations").status_code == 403
    assert client.get(f"/admin/conversations/{world.ids['ada']}").status_code == 403


def test_a_conversation_shows_its_transcript_person_company_fields_and_goals(
    client: TestClient, db: Database, auth: dict[str, str], world: Fixture
) -> None:
    response = client.get(f"{API}/{world.ids['ada']}", headers=auth)
    assert response.status_code == 200, response.text
    ada = response.json()
    with db.read() as session:
        person_id = session.scalar(select(Person.id).where(Person.email == "ada@acme.example"))
    assert ada["person"] == {"id": person_id, "name": "Ada Lovelace", "email": "ada@acme.example"}
    assert ada["company"]["name"] == "Acme Corp"
    assert [(f["name"], f["label"], f["value"]) for f in ada["fields"]] == [
        ("person.email", "Email", "ada@acme.example")
    ]
    assert [(g["name"], g["reached_at"]) for g in ada["goals"]] == [("signed_up", "2026-03-16T10:10:00Z")]
    assert [(line["role"], line["text"]) for line in ada["transcript"]] == [
        ("bot", "Hi!"),
        ("visitor", "Tell me more"),
        ("bot", "Your email?"),
        ("visitor", "ada@acme.example"),
        ("bot", "Thanks!"),
    ]
    assert ada["meetings"] == []


def test_a_conversation_that_booked_shows_its_meeting(
    client: TestClient, db: Database, auth: dict[str, str], world: Fixture
) -> None:
    gus = client.get(f"{API}/{world.ids['gus']}", headers=auth).json()
    with db.read() as session:
        meeting = session.scalars(select(Meeting.public_id)).one()
    assert [(m["public_id"], m["agent_name"], m["status"]) for m in gus["meetings"]] == [(meeting, "Agent 1", "booked")]
    assert client.get(f"{API}/c_unknown", headers=auth).status_code == 404


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_every_conversation_of_the_filter_read_in_batches(
    client: TestClient, auth: dict[str, str], world: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox, "EXPORT_BATCH", 2)  # four batches for seven rows: the export follows the cursor
    rows = _csv(client.get(f"{API}.csv", headers=auth).text)
    assert [row["conversation"] for row in rows] == [world.ids[n] for n in ("fay", "gus", "eve", "dan", "cat",
                                                                           "ben", "ada")]  # fmt: skip
    ada = rows[-1]
    assert (ada["person"], ada["email"], ada["company"], ada["outcomes"], ada["start (UTC)"]) == (
        "Ada Lovelace", "ada@acme.example", "Acme Corp", "engaged; completed; goal", "2026-03-16T10:00:00Z"
    )  # fmt: skip
    dropped = _csv(client.get(f"{API}.csv", params={"outcome": "dropped"}, headers=auth).text)
    assert [row["conversation"] for row in dropped] == [world.ids["eve"], world.ids["dan"]]
    refused = client.get(f"{API}.csv", params={"dialogue": "nope"}, headers=auth)
    assert refused.status_code == 422


def test_the_page_lists_filters_and_opens_a_conversation(
    client: TestClient, personas: Personas, world: Fixture
) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/conversations", params={"outcome": "goal"})
    assert page.status_code == 200
    assert "Ada Lovelace" in page.text and "Ben Okafor" not in page.text
    assert f'href="/admin/conversations/{world.ids["ada"]}"' in page.text
    opened = client.get(f"/admin/conversations/{world.ids['ada']}")
    assert opened.status_code == 200
    assert "signed_up" in opened.text and "/admin/people/" in opened.text and "ada@acme.example" in opened.text
    csv_text = client.get("/admin/conversations.csv", params={"outcome": "goal"}).text
    assert [row["conversation"] for row in _csv(csv_text)] == [world.ids["ada"]]


def test_the_page_shows_a_bad_filter_beside_its_field(client: TestClient, personas: Personas, world: Fixture) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/conversations", params={"from": "2026-02-30", "zone": "Mars/Olympus"})
    assert page.status_code == 422
    assert 'id="from-problem"' in page.text and 'aria-invalid="true"' in page.text
    zone = client.get("/admin/conversations", params={"zone": "Mars/Olympus"})
    assert zone.status_code == 422 and 'id="zone-problem"' in zone.text


def test_a_deleted_persons_conversation_stays_listed_without_who_or_what_they_said(
    client: TestClient, db: Database, auth: dict[str, str], world: Fixture
) -> None:
    with db.read() as session:
        person_id = session.scalar(select(Person.id).where(Person.email == "ada@acme.example"))
    assert client.delete(f"/api/v1/admin/people/{person_id}", headers={**auth}).status_code == 200
    ada = client.get(f"{API}/{world.ids['ada']}", headers=auth).json()
    assert (ada["person"], ada["transcript"], ada["outcomes"]) == (None, [], ["engaged", "completed", "goal"])
    assert [f["value"] for f in ada["fields"]] == [None]


def test_the_upgrade_fills_the_outcomes_of_conversations_of_before(
    client: TestClient, db: Database, auth: dict[str, str], world: Fixture
) -> None:
    with db.read() as session:
        before = session.execute(
            select(
                Conversation.public_id, Conversation.engaged, Conversation.reached_goal, Conversation.booked_meeting
            ).order_by(Conversation.id)  # fmt: skip
        ).all()
    downgrade(db.engine, "0012")
    migrate(db.engine)
    with db.read() as session:
        after = session.execute(
            select(
                Conversation.public_id, Conversation.engaged, Conversation.reached_goal, Conversation.booked_meeting
            ).order_by(Conversation.id)  # fmt: skip
        ).all()
    assert after == before


# --- the search through the name index (people/directory.py) -------------------------------------------------

SEARCHES = ["lovelace", "Ada", "gus@globex", "acme", "globex.ex", "ben okafor", "ben lovelace", "o", "a l", "zz"]


def test_a_search_that_matches_many_people_lists_what_one_that_matches_few_does(
    client: TestClient,
    auth: dict[str, str],
    world: Fixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    few = {q: names(client, auth, world, q=q) for q in SEARCHES}
    assert few["globex.ex"] == ["gus"] and few["a l"] == ["ada"] and few["o"] == ["ben"]
    monkeypatch.setattr(directory, "FEW_PEOPLE", 0)  # every word matches "many": each conversation is checked
    assert {q: names(client, auth, world, q=q) for q in SEARCHES} == few


def test_a_renamed_person_is_found_by_the_new_name_only(
    client: TestClient,
    db: Database,
    auth: dict[str, str],
    world: Fixture,
) -> None:
    with db.write() as session:
        person_id = session.scalar(select(Conversation.person_id).where(Conversation.public_id == world.ids["ben"]))
        set_field(session, session.get_one(Person, person_id), "person.last_name", "Adeyemi", T0)
    assert names(client, auth, world, q="okafor") == []
    assert names(client, auth, world, q="ben adey") == ["ben"]
