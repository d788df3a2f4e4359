"""iCalendar invitations: built by scheduling.invites, read back by the icalendar parser as a calendar client would."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from overture.errors import InvalidInput
from overture.scheduling.invites import PRODID, MeetingInvite, cancel, new_uid, request, reschedule

NOW = datetime(2026, 3, 1, 9, 15, 42, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
MEETING = MeetingInvite(
    uid="5f0c2a2e-8d1b-4a55-9f5e-1d2a3b4c5d6e@overture.example.com",
    sequence=0,
    start=datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
    end=datetime(2026, 3, 10, 15, 30, tzinfo=UTC),
    agent_zone="America/New_York",
    agent_name="Rita Rep",
    agent_email="rita@example.com",
    visitor_name="Lee Lead",
    visitor_email="lee@customer.example",
    title="Product demo",
    description="A look at Overture's routing.",
    meeting_link="https://meet.example.com/rita-rep",
)


def parsed(ics: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_a_request_carries_every_property_the_itip_reference_requires() -> None:
    calendar, event = parsed(request(MEETING, NOW).ics)

    assert (str(calendar["PRODID"]), str(calendar["VERSION"]), str(calendar["METHOD"])) == (PRODID, "2.0", "REQUEST")
    assert str(event["UID"]) == MEETING.uid
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["SUMMARY"]) == "Product demo"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "A look at Overture's routing." in str(event["DESCRIPTION"])
    assert "https://meet.example.com/rita-rep" in str(event["DESCRIPTION"])
    assert str(event["LOCATION"]) == str(event["URL"]) == "https://meet.example.com/rita-rep"
    assert "DURATION" not in event  # DTEND or DURATION, never both


def test_the_organizer_is_the_agent_and_the_attendee_is_the_visitor_asked_to_answer() -> None:
    _, event = parsed(request(MEETING, NOW).ics)

    organizer, attendee = event["ORGANIZER"], event["ATTENDEE"]
    assert str(organizer) == "mailto:rita@example.com"
    assert organizer.params["CN"] == "Rita Rep"
    assert str(attendee) == "mailto:lee@customer.example"
    assert dict(attendee.params) == {
        "CN": "Lee Lead",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
        "CUTYPE": "INDIVIDUAL",
    }


def test_times_are_in_the_agent_zone_with_a_matching_vtimezone_and_dtstamp_in_utc() -> None:
    ics = request(MEETING, NOW).ics
    calendar, event = parsed(ics)

    assert b"DTSTART;TZID=America/New_York:20260310T110000\r\n" in ics
    assert b"DTEND;TZID=America/New_York:20260310T113000\r\n" in ics
    assert b"DTSTAMP:20260301T091542Z\r\n" in ics
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    assert event.decoded("DTSTART") == MEETING.start
    assert event.decoded("DTEND") == MEETING.end


@pytest.mark.parametrize(
    ("start_utc", "local_start", "offset_hours"),
    [
        (datetime(2026, 3, 7, 15, 0, tzinfo=UTC), "20260307T100000", -5),  # the Saturday before: EST
        (datetime(2026, 3, 8, 15, 0, tzinfo=UTC), "20260308T110000", -4),  # the day clocks go forward: EDT
        (datetime(2026, 11, 1, 15, 0, tzinfo=UTC), "20261101T100000", -5),  # the day clocks go back: EST again
    ],
)
def test_the_vtimezone_alone_places_the_meeting_right_on_both_sides_of_a_dst_change(
    start_utc: datetime, local_start: str, offset_hours: int
) -> None:
    meeting = dataclasses.replace(MEETING, start=start_utc, end=start_utc + timedelta(minutes=30))

    ics = request(meeting, NOW).ics
    calendar, event = parsed(ics)

    assert f"DTSTART;TZID=America/New_York:{local_start}\r\n".encode() in ics
    # A client without our tz database reads the offset from the VTIMEZONE we sent: it must be the real one.
    (vtimezone,) = calendar.walk("VTIMEZONE")
    local = datetime.strptime(local_start, "%Y%m%dT%H%M%S").replace(tzinfo=vtimezone.to_tz())
    assert local.utcoffset() == timedelta(hours=offset_hours)
    assert local == start_utc
    assert event.decoded("DTSTART") == start_utc


def test_a_meeting_across_the_night_the_clocks_change_keeps_its_real_length() -> None:
    # 01:30 to 03:30 by the wall clock in Paris on 29 March 2026 is one hour: 02:00 does not exist that night.
    paris = ZoneInfo("Europe/Paris")
    meeting = dataclasses.replace(
        MEETING,
        agent_zone="Europe/Paris",
        start=datetime(2026, 3, 29, 1, 30, tzinfo=paris),
        end=datetime(2026, 3, 29, 3, 30, tzinfo=paris),
    )

    ics = request(meeting, NOW).ics
    _, event = parsed(ics)

    assert b"DTSTART;TZID=Europe/Paris:20260329T013000\r\n" in ics
    assert b"DTEND;TZID=Europe/Paris:20260329T033000\r\n" in ics
    # Compared in UTC: Python subtracts two times of one zone by the wall clock.
    assert event.decoded("DTEND").astimezone(UTC) - event.decoded("DTSTART").astimezone(UTC) == timedelta(hours=1)


def test_a_utc_agent_gets_utc_times_and_no_vtimezone() -> None:
    ics = request(dataclasses.replace(MEETING, agent_zone="UTC"), NOW).ics
    calendar, _ = parsed(ics)

    assert b"DTSTART:20260310T150000Z\r\n" in ics
    assert calendar.walk("VTIMEZONE") == []


def test_lines_end_with_crlf_and_are_folded_at_75_octets_even_in_the_middle_of_accented_text() -> None:
    description = "Démonstration complète, café; prix \\ options\n" * 12
    meeting = dataclasses.replace(MEETING, description=description, visitor_name="Zoë Ångström-Ørsted")

    ics = request(meeting, NOW).ics
    _, event = parsed(ics)

    assert ics.endswith(b"\r\n")
    assert b"\n" not in ics.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))
    assert b"\r\n " in ics  # folded
    assert str(event["DESCRIPTION"]).startswith(description.strip())
    assert event["ATTENDEE"].params["CN"] == "Zoë Ångström-Ørsted"
    # TEXT escaping as the reference says: \\ \; \, and \n.
    assert b"caf\xc3\xa9\\; prix \\\\ options\\n" in ics.replace(b"\r\n ", b"")


def test_names_with_quotes_separators_or_line_breaks_stay_one_valid_parameter() -> None:
    meeting = dataclasses.replace(MEETING, visitor_name='Lee "The Lead"; Acme, Inc.\r\nBCC:x', agent_name="Rita: Rep")

    _, event = parsed(request(meeting, NOW).ics)

    assert event["ATTENDEE"].params["CN"] == "Lee The Lead; Acme, Inc.BCC:x"
    assert str(event["ATTENDEE"]) == "mailto:lee@customer.example"
    assert event["ORGANIZER"].params["CN"] == "Rita: Rep"


def test_a_reschedule_keeps_the_uid_increments_the_sequence_and_moves_the_times() -> None:
    later = datetime(2026, 3, 12, 18, 0, tzinfo=UTC)

    first = request(MEETING, NOW)
    moved = reschedule(first.meeting, later, later + timedelta(minutes=45), NOW + timedelta(days=1))
    moved_again = reschedule(moved.meeting, later, later + timedelta(hours=1), NOW + timedelta(days=2))

    _, event = parsed(moved.ics)
    assert moved.method == "REQUEST" and str(Calendar.from_ical(moved.ics)["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == MEETING.uid
    assert event["SEQUENCE"] == 1 and moved.meeting.sequence == 1
    assert event.decoded("DTSTART") == later
    assert event.decoded("DTEND") == later + timedelta(minutes=45)
    assert event.decoded("DTSTAMP") == NOW + timedelta(days=1)
    assert parsed(moved_again.ics)[1]["SEQUENCE"] == 2


def test_a_cancel_has_the_same_uid_the_next_sequence_and_status_cancelled() -> None:
    booked = reschedule(MEETING, MEETING.start, MEETING.end + timedelta(minutes=15), NOW)

    cancelled = cancel(booked.meeting, NOW + timedelta(hours=3))

    calendar, event = parsed(cancelled.ics)
    assert str(calendar["METHOD"]) == "CANCEL" and cancelled.method == "CANCEL"
    assert str(event["UID"]) == MEETING.uid
    assert event["SEQUENCE"] == 2 and cancelled.meeting.sequence == 2
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("DTSTAMP") == NOW + timedelta(hours=3)
    assert str(event["ORGANIZER"]) == "mailto:rita@example.com"
    assert str(event["ATTENDEE"]) == "mailto:lee@customer.example"


def test_new_uids_are_unique_and_on_our_domain() -> None:
    first, second = new_uid("overture.example.com"), new_uid("overture.example.com")

    assert first != second
    assert first.endswith("@overture.example.com")


def test_a_meeting_with_floating_times_a_wrong_order_or_an_unknown_zone_is_refused_by_field() -> None:
    floating = dataclasses.replace(MEETING, start=datetime(2026, 3, 10, 15, 0), end=datetime(2026, 3, 10, 16, 0))
    backwards = dataclasses.replace(MEETING, end=MEETING.start - timedelta(minutes=1))
    nowhere = dataclasses.replace(MEETING, agent_zone="Mars/Olympus_Mons")

    with pytest.raises(InvalidInput) as no_zone:
        request(floating, NOW)
    with pytest.raises(InvalidInput) as wrong_order:
        request(backwards, NOW)
    with pytest.raises(InvalidInput) as unknown:
        request(nowhere, NOW)

    assert [p.path for p in no_zone.value.problems] == ["start", "end"]
    assert [p.path for p in wrong_order.value.problems] == ["end"]
    assert [(p.path, p.message) for p in unknown.value.problems] == [
        ("agent_zone", "“Mars/Olympus_Mons” is not a known time zone.")
    ]
