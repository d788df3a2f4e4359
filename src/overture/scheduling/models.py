"""Tables of routing: agents (users who take meetings), teams with their rotation pointer, the members of each
team in rotation order, and the ledger of routing decisions (who got the meeting, who was skipped and why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from overture.db import Base, UTCDateTime, utcnow
from overture.users.models import User

TEAM_MODES = ("strict", "availability")


class Agent(Base):
    """The meeting-taking profile of a user with the agent role."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Team(Base):
    """A group of agents with its own rotation. `last_agent_id` is the rotation pointer: the agent who took the
    last meeting; the next one goes to the first free member after them. `version` rises with every change of the
    pointer, so a writer that did not hold the row lock cannot overwrite a newer pointer (compare-and-set)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(20), default="strict")
    last_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    """An agent's place in a team's rotation (lower `position` comes first). A paused member is skipped and keeps
    their place."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "agent_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)


class RoutingDecision(Base):
    """One routing of one booking, kept to explain it: the agent chosen (none when nobody was free), the pointer
    before and after (agent ids, kept even if the agent is gone), and the skipped agents as
    `[{"agent_id": 4, "reason": "no free slot"}, ...]`."""

    __tablename__ = "routing_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    pointer_before: Mapped[int | None] = mapped_column(Integer, default=None)
    pointer_after: Mapped[int | None] = mapped_column(Integer, default=None)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
