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
from overture.sites import appearance, avatars
from overture.sites.models import Site
from scheduling.rows import SECRET_KEY, at, make_agent, make_meeting, make_person

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


GIF = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


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
    assert "2026-03-05T10:30:00+00:00" in times  # its own time does not block the next one
    assert "Free times on your clock: <strong>Europe/Paris</strong>" in page.text
    assert '<h2 id="day-0-name">Wednesday 4 March 2026</h2>' in page.text
    assert 'data-short="Wed 4 Mar"' in page.text
    # 13:00 in Paris, a button that submits the time
    assert (
        '<button type="submit" class="slot" name="start" value="2026-03-04T12:00:00+00:00" '
        'aria-label="Wednesday 4 March 2026, 13:00">13:00</button>'
    ) in page.text


def test_the_reschedule_page_never_offers_the_meetings_own_time(
    client: TestClient, db: Database, public_id: str, clock: object
) -> None:
    assert "2026-03-05T10:00:00+00:00" not in offered(client.get(link(public_id, "reschedule")).text)

    same = confirm(client, link(public_id, "reschedule"), start="2026-03-05T10:00:00+00:00")

    assert same.status_code == 409  # type: ignore[attr-defined]
    assert "no longer free" in same.text  # type: ignore[attr-defined]
    assert (stored(db, public_id).status, stored(db, public_id).sequence) == ("booked", 0)
    assert activity_types(db) == []


def test_the_reschedule_page_wears_the_sites_colours_font_bot_name_and_avatar(
    client: TestClient, db: Database, public_id: str, clock: object
) -> None:
    look = {
        "bot_name": "Fernbot",
        "colors": {"header": "#0b3d2e", "buttons": "#ffd166", "text": "#1b2330", "launcher": "#0b3d2e"},
        "font": {"family": "web", "name": "Fira Sans", "url": "https://fonts.example.com/fira.css"},
        "corner_radius": 4,
    }
    with db.write() as session:
        site = Site(key="fern", name="Fern", origins=[], blocked_email_domains=[])
        session.add(site)
        session.flush()
        appearance.save(session, site, look)
        sha = avatars.upload(session, site, GIF, NOW).sha256
        found = session.scalar(select(Meeting).where(Meeting.public_id == public_id))
        assert found is not None
        found.site_key = "fern"

    page = client.get(link(public_id, "reschedule"))

    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce is not None
    (style,) = re.findall(rf'<style nonce="{re.escape(nonce.group(1))}">(.*?)</style>', page.text)
    # The site's header and buttons, with text that reads on each: white on the dark green header.
    for variable in ("--ov-header:#0b3d2e;", "--ov-header-text:#ffffff;", "--ov-buttons:#ffd166;",
                     "--ov-buttons-text:#1b2330;", "--ov-radius:4px;", '--ov-font:"Fira Sans", system-ui'):  # fmt: skip
        assert variable in style
    assert '<span class="bot">Fernbot</span>' in page.text
    assert f'<img class="avatar" src="{avatars.url_path("fern", sha)}"' in page.text
    assert '<script src="/admin/static/meeting_link.js" defer></script>' in page.text
    assert "script-src 'self';" in page.headers["content-security-policy"]


def test_a_meeting_without_a_site_shows_the_default_look(client: TestClient, public_id: str, clock: object) -> None:
    page = client.get(link(public_id, "cancel"))

    defaults = appearance.defaults()
    assert f"--ov-header:{defaults.colors.header};" in page.text
    assert f'<span class="bot">{defaults.bot_name}</span>' in page.text


def test_the_visitor_may_see_the_times_in_another_zone_and_the_meeting_then_keeps_it(
    client: TestClient, db: Database, public_id: str, clock: object
) -> None:
    page = client.get(link(public_id, "reschedule"), params={"zone": "America/New_York"})

    assert "Free times on your clock: <strong>America/New_York</strong>" in page.text
    assert "<option selected>America/New_York</option>" in page.text
    assert "Thursday 5 March 2026 at 05:00 EST (America/New_York)" in page.text  # the meeting, on that clock
    assert 'value="2026-03-04T12:00:00+00:00" aria-label="Wednesday 4 March 2026, 07:00">07:00</button>' in page.text
    assert '<input type="hidden" name="zone" value="America/New_York">' in page.text

    done = confirm(client, link(public_id, "reschedule"), start="2026-03-06T15:00:00+00:00", zone="America/New_York")

    assert "Friday 6 March 2026 at 10:00 EST (America/New_York)" in done.text  # type: ignore[attr-defined]
    assert stored(db, public_id).visitor_zone == "America/New_York"


def test_an_unknown_zone_is_named_and_the_meetings_own_zone_used(
    client: TestClient, public_id: str, clock: object
) -> None:
    page = client.get(link(public_id, "reschedule"), params={"zone": "Mars/Olympus"})

    assert page.status_code == 200
    assert "“Mars/Olympus” is not a time zone we know: times are shown in Europe/Paris." in page.text
    assert "Free times on your clock: <strong>Europe/Paris</strong>" in page.text


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
