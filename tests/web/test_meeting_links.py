"""The pages behind the links in meeting emails: the visitor's cancel and reschedule links and the agent's one-click
held / no-show links. Opening a link only shows; a button (with the link's token in the form) does the change."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database
from overture.scheduling import links
from overture.scheduling.models import Meeting
from scheduling.meetingfactory import SECRET_KEY, at, make_agent, make_meeting, make_person

from support import Personas

NOW = at(3, 12)  # Tuesday noon


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def public_id(db: Database, personas: Personas) -> str:
    """Bob's meeting with Chloé on Thursday 10:00-10:30 UTC (11:00 in Paris, her zone). Bob works weekdays 09-17 UTC
    on the built-in calendar and has another meeting on Thursday at 14:00."""
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        make_meeting(session, bob, at(5, 14))
        return make_meeting(session, bob, at(5, 10), person=chloe).public_id


def link(public_id: str, action: links.Action) -> str:
    return f"/meetings/link/{links.token(SECRET_KEY, public_id, action)}"


def stored(db: Database, public_id: str) -> Meeting:
    with db.read() as session:
        found = session.scalar(select(Meeting).where(Meeting.public_id == public_id))
        assert found is not None
        return found


def activity_types(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(Activity.type).order_by(Activity.id)))


def confirm(client: TestClient, path: str, **fields: str) -> object:
    return client.post(path, data={"link": path.rsplit("/", 1)[1], **fields})


def test_a_tampered_link_is_refused(client: TestClient, public_id: str, clock: object) -> None:
    path = link(public_id, "cancel")
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    for response in (client.get(tampered), confirm(client, tampered)):
        assert response.status_code == 400  # type: ignore[attr-defined]
        assert "This meeting link is not valid" in response.text  # type: ignore[attr-defined]


def test_a_link_signed_with_another_key_is_refused(client: TestClient, public_id: str, clock: object) -> None:
    forged = f"/meetings/link/{links.token('another-key-' + 'y' * 40, public_id, 'cancel')}"
    assert client.get(forged).status_code == 400


def test_the_cancel_link_shows_the_meeting_on_the_visitors_clock(
    client: TestClient, db: Database, public_id: str, clock: object
) -> None:
    page = client.get(link(public_id, "cancel"))
    assert page.status_code == 200
    assert "Thursday 5 March 2026 at 11:00 CET (Europe/Paris)" in page.text
    assert "<dt>With</dt><dd>Bob</dd>" in page.text
    assert "Yes, cancel the meeting" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Opening the link changed nothing (mail scanners open links).
    assert stored(db, public_id).status == "booked"


def test_confirming_cancels_once(client: TestClient, db: Database, public_id: str, clock: object) -> None:
    path = link(public_id, "cancel")
    done = confirm(client, path)
    assert done.status_code == 200  # type: ignore[attr-defined]
    assert "Your meeting is cancelled" in done.text  # type: ignore[attr-defined]
    assert stored(db, public_id).status == "cancelled"
    assert activity_types(db) == ["meeting.cancelled"]
    assert "This meeting is already cancelled." in client.get(path).text
    again = confirm(client, path)
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert activity_types(db) == ["meeting.cancelled"]


def test_a_form_without_the_links_token_is_refused(
    client: TestClient, db: Database, public_id: str, clock: object
) -> None:
    path = link(public_id, "cancel")
    for data in ({}, {"link": "something-else"}):
        response = client.post(path, data=data)
        assert response.status_code == 400
    assert stored(db, public_id).status == "booked"


def test_a_past_meeting_cannot_be_cancelled(client: TestClient, db: Database, public_id: str) -> None:
    with time_machine.travel(at(5, 10, 5), tick=False):
        page = client.get(link(public_id, "cancel"))
        assert "already taken place" in page.text
        assert "Yes, cancel" not in page.text
        assert confirm(client, link(public_id, "cancel")).status_code == 409  # type: ignore[attr-defined]
    assert stored(db, public_id).status == "booked"


def test_an_unknown_meeting_says_so(client: TestClient, clock: object) -> None:
    response = client.get(link("m_gone", "cancel"))
    assert response.status_code == 404
    assert "no longer exists" in response.text


# --- reschedule ---------------------------------------------------------------------------------------------------


def offered(html: str) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', html)


def test_the_reschedule_link_offers_free_times_on_the_visitors_clock(
    client: TestClient, public_id: str, clock: object
) -> None:
    page = client.get(link(public_id, "reschedule"))
    assert page.status_code == 200
    times = offered(page.text)
    # From Wednesday 12:00 UTC (24 hours' notice), in Bob's hours, never over his other meeting.
    assert times[0] == "2026-03-04T12:00:00+00:00"
    assert "2026-03-05T14:00:00+00:00" not in times
    assert "2026-03-05T13:30:00+00:00" in times  # back to back is fine
    assert "2026-03-05T10:00:00+00:00" in times  # its own time does not block it
    assert "Free times, on your clock (Europe/Paris)" in page.text
    assert "<legend>Wednesday 4 March 2026</legend>" in page.text
    assert 'value="2026-03-04T12:00:00+00:00" required> 13:00</label>' in page.text  # 13:00 in Paris


def test_picking_a_time_moves_the_meeting(client: TestClient, db: Database, public_id: str, clock: object) -> None:
    done = confirm(client, link(public_id, "reschedule"), start="2026-03-06T15:00:00+00:00")
    assert done.status_code == 200  # type: ignore[attr-defined]
    assert "Your meeting is moved" in done.text  # type: ignore[attr-defined]
    assert "Friday 6 March 2026 at 16:00 CET (Europe/Paris)" in done.text  # type: ignore[attr-defined]
    moved = stored(db, public_id)
    assert (moved.starts_at, moved.ends_at, moved.status, moved.sequence) == (
        at(6, 15), at(6, 15, 30), "rescheduled", 1,
    )  # fmt: skip
    assert activity_types(db) == ["meeting.rescheduled"]


def test_a_time_that_is_not_offered_is_refused_with_fresh_times(
    client: TestClient, db: Database, public_id: str, clock: object
) -> None:
    taken = confirm(client, link(public_id, "reschedule"), start="2026-03-05T14:00:00+00:00")
    assert taken.status_code == 409  # type: ignore[attr-defined]
    assert "no longer free" in taken.text  # type: ignore[attr-defined]
    assert offered(taken.text)  # type: ignore[attr-defined]
    assert stored(db, public_id).starts_at == at(5, 10)
    assert activity_types(db) == []


# --- the agent's one-click outcome links --------------------------------------------------------------------------


def test_the_outcome_link_waits_for_the_end(client: TestClient, db: Database, public_id: str, clock: object) -> None:
    page = client.get(link(public_id, "held"))
    assert "has not ended yet" in page.text
    assert "mark it held" not in page.text
    assert confirm(client, link(public_id, "held")).status_code == 422  # type: ignore[attr-defined]
    assert stored(db, public_id).status == "booked"


def test_the_outcome_link_marks_after_the_end(client: TestClient, db: Database, public_id: str) -> None:
    with time_machine.travel(at(5, 11), tick=False):
        assert "Mark it a no-show" in client.get(link(public_id, "no_show")).text
        done = confirm(client, link(public_id, "no_show"))
        assert "The meeting is marked no-show." in done.text  # type: ignore[attr-defined]
        assert "already marked no-show" in client.get(link(public_id, "held")).text
    assert stored(db, public_id).status == "no_show"
    assert activity_types(db) == ["meeting.outcome"]
