"""The visit call over HTTP: it records the page view and the visitor's visit, and chooses the dialogue to show
(or the engaged conversation that goes on), honouring the site's allowed origins and switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from overture import signals
from overture.db import Database
from overture.people import service as people
from overture.people.models import PageView, Person
from overture.settings import Settings
from overture.sites.models import Site
from overture.web.app import create_app

from support import publish

T0 = datetime(2026, 3, 17, 10, 0, tzinfo=UTC)  # a Tuesday
PAGE = "https://www.example.com/pricing?utm_source=ads&utm_campaign=spring"


def dialogue(key: str = "pricing", priority: int = 0, **targeting: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": key.title(),
        "priority": priority,
        "site": "www",
        **targeting,
        "flow": {
            "start": "hi",
            "cards": {
                "hi": {"say": "Hi!", "buttons": [{"label": "Go", "goto": "ask"}, {"label": "No", "goto": "bye"}]},
                "ask": {"ask": "Your name?", "capture": "person.first_name", "goto": "bye"},
                "bye": {"say": "Bye.", "end": True},
            },
        },
    }


def visit(client: TestClient, url: str = PAGE, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/widget/visit", json={"site": "www", "url": url, **body})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def visitor(db: Database, visitor_id: str) -> Person:
    with db.read() as session:
        person = people.by_visitor_id(session, visitor_id)
        assert person is not None
        return person


def page_views(db: Database) -> list[tuple[str, int]]:
    with db.read() as session:
        return [(v.url, v.session_number) for v in session.scalars(select(PageView).order_by(PageView.id))]


def stop_the_clock(client: TestClient) -> None:
    """Holds the app's selector clock still: until a_second_later, it never looks at the signal again."""
    cache = client.app.state.context.selector_cache  # type: ignore[attr-defined]
    now = cache.clock()
    cache.clock = lambda: now


def a_second_later(client: TestClient) -> None:
    """Moves the app's selector clock on by more than a second (its signal check is at most once a second)."""
    cache = client.app.state.context.selector_cache  # type: ignore[attr-defined]
    later = cache.clock() + 1.01
    cache.clock = lambda: later


@pytest.fixture(autouse=True)
def _tuesday_morning() -> Any:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_a_first_visit_makes_a_visitor_records_the_page_and_where_they_came_from(
    client: TestClient, db: Database
) -> None:
    answer = visit(client, referrer="https://search.example/?q=overture", page_language="fr")
    assert answer["visitor_id"].startswith("v_") and answer["dialogue"] is None
    person = visitor(db, answer["visitor_id"])
    assert (person.visit_count, person.session_number, person.email) == (1, 1, None)
    assert person.source == {
        "landing_page": PAGE,
        "referrer": "https://search.example/?q=overture",
        "utm_source": "ads",
        "utm_campaign": "spring",
    }
    assert person.visit["language"] == "fr" and person.visit["device"] == "desktop"
    assert page_views(db) == [(PAGE, 1)]


def test_pages_within_thirty_minutes_are_one_visit_and_a_later_page_starts_the_next(
    client: TestClient, db: Database, _tuesday_morning: Any
) -> None:
    first = visit(client)["visitor_id"]
    _tuesday_morning.shift(timedelta(minutes=29))
    visit(client, "https://www.example.com/docs", visitor_id=first)
    assert visitor(db, first).visit_count == 1
    _tuesday_morning.shift(timedelta(minutes=31))
    visit(client, "https://www.example.com/blog", visitor_id=first)
    person = visitor(db, first)
    assert (person.visit_count, person.session_number) == (2, 2)
    assert person.visit["landing_page"] == "https://www.example.com/blog"
    assert person.source["landing_page"] == PAGE, "the first touch is kept"
    assert [n for _, n in page_views(db)] == [1, 1, 2]


def test_the_matching_dialogue_is_chosen_with_its_trigger(client: TestClient, db: Database) -> None:
    publish(
        db,
        dialogue(
            pages={"include": [{"url": "https://www.example.com/pricing*"}]},
            trigger={"on": "time_on_page", "seconds": 20},
        ),
    )
    chosen = visit(client)["dialogue"]
    assert chosen == {"key": "pricing", "version": 1, "trigger": {"on": "time_on_page", "seconds": 20}}
    assert visit(client, "https://www.example.com/blog")["dialogue"] is None


def test_the_highest_priority_wins(client: TestClient, db: Database) -> None:
    publish(db, dialogue("low", priority=1))
    publish(db, dialogue("high", priority=9))
    assert visit(client)["dialogue"]["key"] == "high"


def test_the_audience_anonymous_visitors_only(client: TestClient, db: Database) -> None:
    publish(db, dialogue(audience={"field": "person.email", "op": "is_empty"}))
    anonymous = visit(client)
    assert anonymous["dialogue"]["key"] == "pricing"
    with db.write() as session:
        person = people.by_visitor_id(session, anonymous["visitor_id"])
        assert person is not None
        person.email = "ada@example.com"
    assert visit(client, visitor_id=anonymous["visitor_id"])["dialogue"] is None


def test_the_audience_reads_the_company_and_the_visit(client: TestClient, db: Database) -> None:
    publish(
        db,
        dialogue(
            audience={
                "all": [
                    {"field": "company.employees", "op": "gte", "value": 200},
                    {"field": "visit.utm_source", "op": "equals", "value": "ads"},
                ]
            }
        ),
    )
    first = visit(client)
    assert first["dialogue"] is None, "no company known yet"
    with db.write() as session:
        person = people.by_visitor_id(session, first["visitor_id"])
        assert person is not None
        people.set_field(session, person, "company.employees", 500, T0)
    assert visit(client, visitor_id=first["visitor_id"])["dialogue"]["key"] == "pricing"


def test_a_completed_dialogue_is_not_shown_again(client: TestClient, db: Database) -> None:
    publish(db, dialogue())
    visitor_id = visit(client)["visitor_id"]
    started = client.post(
        "/api/v1/widget/conversations", json={"dialogue": "pricing", "visitor_id": visitor_id, "page_url": PAGE}
    ).json()
    client.post(
        f"/api/v1/widget/conversations/{started['conversation_id']}/replies",
        json={"step": started["step"], "choice": "1"},
        headers={"X-Conversation-Token": started["token"]},
    )
    assert visit(client, visitor_id=visitor_id)["dialogue"] is None


def test_an_engaged_conversation_goes_on_instead_of_a_new_dialogue(client: TestClient, db: Database) -> None:
    publish(db, dialogue("first", priority=1))
    visitor_id = visit(client)["visitor_id"]
    started = client.post(
        "/api/v1/widget/conversations", json={"dialogue": "first", "visitor_id": visitor_id, "page_url": PAGE}
    ).json()
    client.post(
        f"/api/v1/widget/conversations/{started['conversation_id']}/replies",
        json={"step": started["step"], "choice": "0"},
        headers={"X-Conversation-Token": started["token"]},
    )
    publish(db, dialogue("second", priority=9))
    answer = visit(client, "https://www.example.com/docs", visitor_id=visitor_id)
    assert answer["dialogue"] is None
    assert answer["conversation"] == {"conversation_id": started["conversation_id"], "dialogue": "first"}


def test_a_trigger_met_in_an_earlier_visit_shows_at_once_on_the_return(
    client: TestClient, db: Database, _tuesday_morning: Any
) -> None:
    publish(db, dialogue(trigger={"on": "time_on_page", "seconds": 30}))
    visitor_id = visit(client)["visitor_id"]
    client.post(  # the trigger fired: the widget showed the dialogue; the visitor left without answering
        "/api/v1/widget/conversations", json={"dialogue": "pricing", "visitor_id": visitor_id, "page_url": PAGE}
    )
    _tuesday_morning.shift(timedelta(hours=3))
    assert visit(client, visitor_id=visitor_id)["dialogue"]["trigger"] == {"on": "page_load", "carried_over": True}


def test_the_site_switch_turns_every_dialogue_off_within_a_second(client: TestClient, db: Database) -> None:
    publish(db, dialogue())
    stop_the_clock(client)
    assert visit(client)["dialogue"] is not None
    with db.write() as session:
        session.execute(update(Site).where(Site.key == "www").values(chat_enabled=False))
        signals.bump(session, signals.TARGETING)
    assert visit(client)["dialogue"] is not None, "this process looked less than a second ago"
    a_second_later(client)
    assert visit(client)["dialogue"] is None


def test_another_process_sees_a_publication_within_a_second(
    client: TestClient, db: Database, settings: Settings
) -> None:
    other: FastAPI = create_app(settings, start_jobs=False)
    with TestClient(other) as second_process:
        assert visit(second_process)["dialogue"] is None
        publish(db, dialogue())  # as an admin would, from another process
        a_second_later(second_process)
        assert visit(second_process)["dialogue"]["key"] == "pricing"


def test_an_unknown_site_is_named(client: TestClient, db: Database) -> None:
    response = client.post("/api/v1/widget/visit", json={"site": "shop", "url": PAGE})
    assert response.status_code == 404
    assert "There is no site 'shop'" in response.json()["error"]


def test_pages_of_an_origin_the_site_does_not_allow_get_nothing_and_leave_nothing(
    client: TestClient, db: Database
) -> None:
    with db.write() as session:
        session.execute(update(Site).where(Site.key == "www").values(origins=["https://*.example.com"]))
    publish(db, dialogue())
    refused = client.post(
        "/api/v1/widget/visit", json={"site": "www", "url": PAGE}, headers={"Origin": "https://evil.test"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(PageView)) == 0
        assert session.scalar(select(func.count()).select_from(Person)) == 0
    allowed = client.post(
        "/api/v1/widget/visit", json={"site": "www", "url": PAGE}, headers={"Origin": "https://www.example.com"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://www.example.com"


def test_a_browser_may_ask_first_from_a_page_a_site_allows_and_only_that_page_is_named(
    client: TestClient, db: Database
) -> None:
    with db.write() as session:
        session.execute(update(Site).where(Site.key == "www").values(origins=["https://*.example.com"]))
    asked = {"Access-Control-Request-Method": "POST"}
    allowed = client.options("/api/v1/widget/visit", headers={"Origin": "https://www.example.com", **asked})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://www.example.com"
    assert "content-type" in allowed.headers["access-control-allow-headers"].lower()
    other = client.options("/api/v1/widget/visit", headers={"Origin": "https://evil.test", **asked})
    assert other.status_code == 204
    assert "access-control-allow-origin" not in other.headers


def test_an_allowed_page_naming_a_page_address_of_another_origin_gets_nothing_and_leaves_nothing(
    client: TestClient, db: Database
) -> None:
    with db.write() as session:
        session.execute(update(Site).where(Site.key == "www").values(origins=["https://*.example.com"]))
    publish(db, dialogue())
    refused = client.post(
        "/api/v1/widget/visit",
        json={"site": "www", "url": "https://evil.test/pricing"},
        headers={"Origin": "https://www.example.com"},
    )
    assert refused.status_code == 403
    assert "Pages of https://evil.test may not use site 'www'" in refused.json()["error"]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(PageView)) == 0
        assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_the_country_comes_from_the_proxy_header_when_configured(db: Database, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"country_header": "CF-IPCountry"}), start_jobs=False)
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/widget/visit", json={"site": "www", "url": PAGE}, headers={"CF-IPCountry": "fr"}
        )
    assert visitor(db, response.json()["visitor_id"]).visit["country"] == "FR"


def test_bad_input_is_named(client: TestClient) -> None:
    response = client.post("/api/v1/widget/visit", json={"site": "www", "url": "javascript:alert(1)"})
    assert response.status_code == 422
    assert any(problem["path"] == "url" for problem in response.json()["errors"])


@pytest.mark.parametrize("url", ["http://[", "https://[::1/x", "http://host:port/", "https://:80/", "http:///path"])
def test_an_address_that_cannot_be_taken_apart_is_named_not_a_crash(client: TestClient, url: str) -> None:
    response = client.post("/api/v1/widget/visit", json={"site": "www", "url": url})
    assert response.status_code == 422, response.text
    assert [problem["path"] for problem in response.json()["errors"]] == ["url"]
