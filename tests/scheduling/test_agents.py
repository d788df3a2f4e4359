"""Agents against the real database: who is an agent and who manages whom, the availability settings (every
mistake named with its field, nothing half-written), and what the availability computation reads back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from overture.calendars import connections
from overture.db import Database
from overture.errors import Forbidden, InvalidInput, NotFound
from overture.scheduling import agents, attention
from overture.scheduling.hours import DateOverride, DateRange, Hours
from overture.scheduling.models import Agent
from overture.scheduling.schedules import schedule_of
from overture.users import service as users

from support import PASSWORD, Personas

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def bob_agent(db: Database, personas: Personas) -> int:
    with db.write() as session:
        return agents.ensure_agent(session, users.get_user(session, personas.bob.id)).id


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        agents.parse_settings(data)
    assert refused.value.message.startswith("The settings are not saved.")
    return {problem.path: problem.message for problem in refused.value.problems}


# --- agents and who manages them -----------------------------------------------------------------------------------


def test_a_user_with_the_agent_role_gets_one_profile(db: Database, personas: Personas) -> None:
    first = bob_agent(db, personas)
    assert bob_agent(db, personas) == first
    with db.read() as session:
        agent = session.get(Agent, first)
        assert agent is not None and agent.name == "Bob" and agent.email == personas.bob.email
        assert agent.notice_minutes == 24 * 60  # Dynamic Chat's default: a day's notice


def test_admins_and_sales_admins_are_not_agents(db: Database, personas: Personas) -> None:
    with db.write() as session:
        for persona in (personas.alice, personas.sam, personas.mark):
            user = users.get_user(session, persona.id)
            with pytest.raises(InvalidInput) as refused:
                agents.ensure_agent(session, user)
            assert "only users with the agent role" in refused.value.message
            assert agents.agent_of(session, user) is None


def test_an_agent_manages_their_own_profile_and_managers_every_profile(db: Database, personas: Personas) -> None:
    bob = bob_agent(db, personas)
    with db.write() as session:
        dana = agents.ensure_agent(session, users.create_user(session, "dana@example.com", "agent", "Dana", PASSWORD))
        bob_user, alice, sam = (users.get_user(session, p.id) for p in (personas.bob, personas.alice, personas.sam))

        assert agents.agent_for(session, bob_user, bob).id == bob
        with pytest.raises(Forbidden):
            agents.agent_for(session, bob_user, dana.id)
        assert agents.agent_for(session, alice, dana.id) is dana
        assert agents.agent_for(session, sam, dana.id) is dana
        with pytest.raises(NotFound):
            agents.agent_for(session, alice, 999_999)
        with pytest.raises(Forbidden):
            agents.user_to_set_up(session, bob_user, dana.user_id)
        assert agents.user_to_set_up(session, sam, dana.user_id).email == "dana@example.com"


def test_the_list_shows_each_active_agent_with_the_state_of_their_calendar(db: Database, personas: Personas) -> None:
    bob = bob_agent(db, personas)
    with db.write() as session:
        dana_user = users.create_user(session, "dana@example.com", "agent", "Dana", PASSWORD)
        dana = agents.ensure_agent(session, dana_user)
        agents.connect(session, dana, connections.Account("builtin", {}), secret_key="k" * 40, now=NOW)
        users.create_user(session, "erin@example.com", "agent", "Erin", PASSWORD)  # no profile yet
        bob_row = session.get(Agent, bob)
        assert bob_row is not None
        agents.connect(session, bob_row, connections.Account("google", {}, {"refresh_token": "r"}), secret_key="k" * 40,
                       now=NOW)  # fmt: skip
        attention.mark(session, bob_row, "Google refused the token.", NOW, "https://chat.example.com")

    with db.read() as session:
        rows = {row.user.email: row for row in agents.listing(session)}

    # carol is deactivated: not listed.
    assert sorted(rows) == ["bob@example.com", "dana@example.com", "erin@example.com"]
    assert rows["bob@example.com"].status == "needs_attention"
    assert rows["dana@example.com"].status == "connected"
    assert rows["erin@example.com"].status == "not_connected" and rows["erin@example.com"].agent is None


# --- settings --------------------------------------------------------------------------------------------------------


def test_each_mistake_in_the_settings_names_its_field_and_says_why() -> None:
    found = problems_of(
        {
            "time_zone": "Europe/Pariss",
            "weekly_hours": {"mon": ["09:00-12:00", "13:00-25:00"], "fri": ["9h-5h"], "someday": []},
            "date_overrides": [{"date": "2026-02-30"}, {"date": "2026-12-24", "hours": ["10:00-09:00"]}],
            "out_of_office": [{"start": "2026-08-15", "end": "2026-08-01"}],
            "duration_minutes": 3,
            "buffer_after_minutes": "ten",
            "notice_minutes": -1,
            "daily_max": 0,
            "photo_url": "javascript:alert(1)",
            "meeting_link": "meet.example.com/bob",
            "display_name": "Bob\x00",
            "colour": "blue",
        }
    )

    assert found == {
        "time_zone": "'Europe/Pariss' is not a time zone: use an IANA name such as Europe/Paris.",
        "weekly_hours.mon": "13:00-25:00 does not end after it starts, within 00:00-24:00.",
        "weekly_hours.fri": "'9h-5h' is not a range of hours such as 09:00-12:00.",
        "weekly_hours.someday": "Use a weekday: mon, tue, wed, thu, fri, sat or sun.",
        "date_overrides.0.date": "Write the date as YYYY-MM-DD, e.g. 2026-12-24.",
        "date_overrides.1.hours": "10:00-09:00 does not end after it starts, within 00:00-24:00.",
        "out_of_office.0": "The last day (2026-08-01) is before the first (2026-08-15).",
        "duration_minutes": "The meeting duration (minutes) must be a whole number from 5 to 480.",
        "buffer_after_minutes": "The buffer after meetings (minutes) must be a whole number.",
        "notice_minutes": "The minimum notice (minutes) must be a whole number from 0 to 129600.",
        "daily_max": "The daily maximum of meetings must be a whole number from 1 to 100.",
        "photo_url": "Enter a full address starting with https://.",
        "meeting_link": "Enter a full address starting with https://.",
        "display_name": "Remove the invisible control characters.",
        "colour": "'colour' is not an agent setting.",
    }


def test_a_date_given_twice_is_refused() -> None:
    found = problems_of({"date_overrides": [{"date": "2026-12-24"}, {"date": "2026-12-24", "hours": ["10:00-12:00"]}]})
    assert found == {"date_overrides": "2026-12-24 is given twice: give each date once."}


def test_bad_settings_change_nothing(db: Database, personas: Personas) -> None:
    bob = bob_agent(db, personas)
    with db.write() as session:
        agent = session.get(Agent, bob)
        assert agent is not None
        with pytest.raises(InvalidInput) as refused:
            agents.changed_settings(agent, {"display_name": "Robert", "duration_minutes": 1000})
    assert [problem.path for problem in refused.value.problems] == ["duration_minutes"]
    with db.read() as session:
        agent = session.get(Agent, bob)
        assert agent is not None and agent.display_name == "" and agent.duration_minutes == 30


def test_saved_settings_are_what_availability_reads(db: Database, personas: Personas) -> None:
    bob = bob_agent(db, personas)
    changes = {
        "display_name": " Robert B. ",
        "time_zone": "America/New_York",
        "weekly_hours": {"fri": ["13:00-17:30", "9:00-12:00"], "mon": ["08:30-12:00"]},
        "date_overrides": [
            {"date": "2026-12-28", "hours": ["18:00-20:00"], "replace": False},
            {"date": "2026-12-24"},
        ],
        "out_of_office": [{"start": "2026-08-01", "end": "2026-08-15"}],
        "duration_minutes": 45,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 10,
        "notice_minutes": 120,
        "horizon_days": 14,
        "step_minutes": 15,
        "daily_max": 4,
        "weekly_max": 12,
        "meeting_link": "https://meet.example.com/bob",
    }
    with db.write() as session:
        agent = session.get(Agent, bob)
        assert agent is not None
        agents.update_settings(session, agent, agents.changed_settings(agent, changes))

    with db.read() as session:
        agent = session.get(Agent, bob)
        assert agent is not None
        # Stored normalised: ranges written HH:MM-HH:MM in order, weekdays in order, overrides by date.
        assert agent.display_name == "Robert B." and agent.name == "Robert B."
        assert agent.weekly_hours == {"mon": ["08:30-12:00"], "fri": ["09:00-12:00", "13:00-17:30"]}
        assert agent.date_overrides == [
            {"date": "2026-12-24", "hours": [], "replace": True},
            {"date": "2026-12-28", "hours": ["18:00-20:00"], "replace": False},
        ]
        schedule = schedule_of(agent)
    assert schedule.zone == "America/New_York"
    assert schedule.weekly.fri == (Hours(540, 720), Hours(780, 1050)) and schedule.weekly.tue == ()
    assert schedule.overrides == (
        DateOverride(date(2026, 12, 24), (), True),
        DateOverride(date(2026, 12, 28), (Hours(1080, 1200),), False),
    )
    assert schedule.out_of_office == (DateRange(date(2026, 8, 1), date(2026, 8, 15)),)
    assert schedule.duration == timedelta(minutes=45) and schedule.notice == timedelta(hours=2)
    assert (schedule.daily_max, schedule.weekly_max, schedule.horizon_days) == (4, 12, 14)


def test_changing_some_settings_keeps_the_others(db: Database, personas: Personas) -> None:
    bob = bob_agent(db, personas)
    with db.write() as session:
        agent = session.get(Agent, bob)
        assert agent is not None
        agents.update_settings(session, agent, agents.changed_settings(agent, {"duration_minutes": 60}))
        agents.update_settings(session, agent, agents.changed_settings(agent, {"time_zone": "Asia/Tokyo"}))
    with db.read() as session:
        agent = session.scalar(select(Agent).where(Agent.id == bob))
        assert agent is not None and (agent.duration_minutes, agent.time_zone) == (60, "Asia/Tokyo")
        assert agents.settings_of(agent).weekly_hours["mon"] == ["09:00-17:00"]
