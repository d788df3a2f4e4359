"""An agent whose calendar failed or was disconnected "needs attention": routing skips them (nothing is booked on a
calendar that cannot be checked), the admin pages show why, and the agent gets one email saying what to do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from overture.calendars import connections
from overture.mail import service as mail
from overture.mail.schemas import NewMessage
from overture.scheduling.models import Agent


def mark(session: Session, agent: Agent, problem: str, now: datetime, base_url: str) -> bool:
    """Marks the agent (and their connection) as needing attention for `problem`, a sentence a person can act on.
    Emails the agent the first time only; returns whether this is new."""
    problem = problem[:500]
    connection = connections.connection_of(session, agent.id)
    if connection is not None:
        connection.problem = problem
    new = agent.attention is None
    agent.attention = problem
    if new:
        agent.attention_since = now
        text = (
            f"Hello {agent.name},\n\nOverture cannot use your calendar: {problem}\n\n"
            "Until it is fixed you get no new meetings. Open your Calendar page to connect it again:\n"
            f"{base_url.rstrip('/')}/admin/calendar\n"
        )
        mail.enqueue(
            session,
            NewMessage(to=[agent.email], subject="Your calendar needs attention", text_body=text,
                       kind="calendar_attention"),
        )  # fmt: skip
    session.flush()
    return new


def clear(session: Session, agent: Agent) -> None:
    """The calendar works again: the agent is back in routing."""
    agent.attention = None
    agent.attention_since = None
    connection = connections.connection_of(session, agent.id)
    if connection is not None:
        connection.problem = None
    session.flush()
