"""Meeting types against the real database: created with their values, changed one value at a time, every bad
value named, the team by key, and what booking reads from them (schedules.meeting_type_of)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.scheduling import meeting_types, schedules, teams


def test_a_meeting_type_is_created_changed_and_read_by_booking(db: Database) -> None:
    with db.write() as session:
        teams.create(session, "sales", "Sales")
        meeting_types.create(
            session,
            "demo",
            {"name": "Product demo", "duration_minutes": 45, "buffer_after_minutes": 15, "team": "sales"},
        )
    with db.write() as session:
        demo = meeting_types.get(session, "demo")
        meeting_types.update(session, demo, {"notice_minutes": 120, "daily_max": 3, "buffer_after_minutes": None})
    with db.read() as session:
        demo = meeting_types.get(session, "demo")
        assert meeting_types.team_key(session, demo) == "sales"
        booked = schedules.meeting_type_of(demo)
    assert (booked.name, booked.duration, booked.buffer_after, booked.notice, booked.daily_max) == (
        "demo",
        timedelta(minutes=45),
        None,
        timedelta(minutes=120),
        3,
    ), "a cleared value is the agent's own again"
    with db.write() as session:
        meeting_types.update(session, meeting_types.get(session, "demo"), {"team": None, "name": "Demo"})
    with db.read() as session:
        demo = meeting_types.get(session, "demo")
        assert (demo.name, meeting_types.team_key(session, demo)) == ("Demo", None)
        assert [t.key for t in meeting_types.list_types(session)] == ["demo"]


def test_every_bad_value_is_named_and_nothing_is_written(db: Database) -> None:
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        meeting_types.create(
            session,
            "Demo!",
            {
                "name": " ",
                "duration_minutes": 0,
                "buffer_before_minutes": -5,
                "step_minutes": 1000,
                "horizon_days": True,
                "daily_max": 0,
                "team": "nowhere",
                "colour": "red",
            },
        )
    assert [p.path for p in refused.value.problems] == [
        "key",
        "name",
        "duration_minutes",
        "buffer_before_minutes",
        "step_minutes",
        "horizon_days",
        "daily_max",
        "team",
        "colour",
    ]
    messages = {p.path: p.message for p in refused.value.problems}
    assert messages["duration_minutes"] == "The duration (minutes) is a whole number from 5 to 480."
    assert messages["team"] == "There is no team 'nowhere'."
    with db.read() as session:
        assert meeting_types.list_types(session) == []

    with db.write() as session:
        meeting_types.create(session, "demo", {"name": "Demo"})
    with db.write() as session, pytest.raises(Conflict):
        meeting_types.create(session, "demo", {"name": "Again"})
    with db.write() as session, pytest.raises(InvalidInput):
        meeting_types.update(session, meeting_types.get(session, "demo"), {"name": "Longer", "horizon_days": 400})
    with db.read() as session:
        demo = meeting_types.get(session, "demo")
        assert (demo.name, demo.horizon_days) == ("Demo", None)


def test_deleting_a_team_leaves_its_meeting_types_without_one_and_a_type_can_be_deleted(db: Database) -> None:
    with db.write() as session:
        teams.create(session, "sales", "Sales")
        meeting_types.create(session, "demo", {"name": "Demo", "team": "sales"})
    with db.write() as session:
        teams.delete(session, teams.get(session, "sales"))
    with db.write() as session:
        demo = meeting_types.get(session, "demo")
        session.refresh(demo)
        assert meeting_types.team_key(session, demo) is None
        meeting_types.delete(session, demo)
    with db.read() as session:
        assert meeting_types.list_types(session) == []
