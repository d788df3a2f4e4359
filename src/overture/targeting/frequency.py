"""How often a dialogue may show to one visitor (`frequency: {once_completed, dismissed_hide_days,
once_per_session}`), read from the visitor's activities whose name is the dialogue's key.

- `once_completed` (default on): a dialogue the visitor completed is not shown again.
- `dismissed_hide_days: N` (default 7): hidden for N days after the visitor dismissed it; 0 shows it again at once.
- `once_per_session` (default off): once shown (triggered) in a session, not shown again in that session.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from overture.dialogues.document import Frequency
from overture.targeting.facts import COMPLETED, DISMISSED, TRIGGERED, VisitorFacts


def why_held_back(frequency: Frequency, key: str, visitor: VisitorFacts, now: datetime) -> str | None:
    """None when the frequency rules let dialogue `key` show to `visitor` at `now`; else why not, in a sentence."""
    if frequency.once_completed and any(fact.name == key for fact in visitor.of_type(COMPLETED)):
        return "completed before; once_completed is on"
    if frequency.dismissed_hide_days > 0:
        # Newest first, so the first dismissal of this dialogue is the latest one.
        dismissed = next((fact for fact in visitor.of_type(DISMISSED) if fact.name == key), None)
        hidden = timedelta(days=frequency.dismissed_hide_days)
        if dismissed is not None and now - dismissed.at < hidden:
            return f"dismissed {_ago(now - dismissed.at)}; hidden for {_days(frequency.dismissed_hide_days)}"
    if frequency.once_per_session and triggered_in_session(key, visitor, visitor.session_number):
        return "already shown in this session; once_per_session is on"
    return None


def triggered_in_session(key: str, visitor: VisitorFacts, session_number: int) -> bool:
    return any(fact.name == key and fact.session_number == session_number for fact in visitor.of_type(TRIGGERED))


def triggered_before(key: str, visitor: VisitorFacts) -> bool:
    """True when the dialogue was shown to the visitor in an earlier session."""
    return any(fact.name == key and fact.session_number < visitor.session_number for fact in visitor.of_type(TRIGGERED))


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _ago(elapsed: timedelta) -> str:
    days = max(elapsed.days, 0)
    return "today" if days == 0 else f"{_days(days)} ago"
