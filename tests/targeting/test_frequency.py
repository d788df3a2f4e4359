"""Frequency rules (once completed, hidden after a dismissal, once per session) and trigger descriptions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from overture.dialogues.document import Frequency, Trigger
from overture.targeting.facts import ActivityFact
from overture.targeting.frequency import why_held_back
from overture.targeting.triggers import describe

from .facts import NOW, visitor


def held_back(activities: list[ActivityFact], session: int = 2, **frequency: Any) -> str | None:
    return why_held_back(Frequency.model_validate(frequency), "demo", visitor({}, activities, session), NOW)


def test_a_completed_dialogue_is_not_shown_again_by_default() -> None:
    completed = [ActivityFact("dialogue.completed", "demo", NOW - timedelta(days=300))]
    assert held_back(completed) == "completed before; once_completed is on"
    assert held_back(completed, once_completed=False) is None
    other = [ActivityFact("dialogue.completed", "other", NOW - timedelta(days=1))]
    assert held_back(other) is None


@pytest.mark.parametrize(
    ("ago", "days", "expected"),
    [
        (timedelta(days=2), 7, "dismissed 2 days ago; hidden for 7 days"),
        (timedelta(hours=3), 7, "dismissed today; hidden for 7 days"),
        (timedelta(days=1, hours=1), 1, None),
        (timedelta(hours=23), 1, "dismissed today; hidden for 1 day"),
        (timedelta(days=7), 7, None),
        (timedelta(minutes=1), 0, None),
    ],
)
def test_a_dismissed_dialogue_is_hidden_for_some_days(ago: timedelta, days: int, expected: str | None) -> None:
    dismissed = [ActivityFact("dialogue.dismissed", "demo", NOW - ago)]
    assert held_back(dismissed, dismissed_hide_days=days) == expected


def test_the_latest_dismissal_counts() -> None:
    dismissals = [
        ActivityFact("dialogue.dismissed", "demo", NOW - timedelta(days=30)),
        ActivityFact("dialogue.dismissed", "demo", NOW - timedelta(days=1)),
    ]
    assert held_back(dismissals) == "dismissed 1 day ago; hidden for 7 days"


def test_once_per_session_hides_a_dialogue_shown_in_this_session_only() -> None:
    shown_now = [ActivityFact("dialogue.triggered", "demo", NOW - timedelta(minutes=5), session_number=2)]
    shown_before = [ActivityFact("dialogue.triggered", "demo", NOW - timedelta(days=1), session_number=1)]
    assert held_back(shown_now, once_per_session=True) == "already shown in this session; once_per_session is on"
    assert held_back(shown_now) is None
    assert held_back(shown_before, once_per_session=True) is None


@pytest.mark.parametrize(
    ("trigger", "described"),
    [
        ({}, {"on": "page_load"}),
        ({"on": "time_on_page", "seconds": 20}, {"on": "time_on_page", "seconds": 20}),
        ({"on": "time_on_site", "seconds": 60}, {"on": "time_on_site", "seconds": 60}),
        ({"on": "scroll_percent", "percent": 50}, {"on": "scroll_percent", "percent": 50}),
        ({"on": "exit_intent"}, {"on": "exit_intent"}),
        ({"on": "idle", "seconds": 15}, {"on": "idle", "seconds": 15}),
    ],
)
def test_triggers_are_described_for_the_widget(trigger: dict[str, Any], described: dict[str, Any]) -> None:
    assert describe(Trigger.model_validate(trigger), carried_over=False) == described


def test_a_trigger_met_in_an_earlier_visit_shows_at_once() -> None:
    trigger = Trigger.model_validate({"on": "scroll_percent", "percent": 50})
    assert describe(trigger, carried_over=True) == {"on": "page_load", "carried_over": True}
