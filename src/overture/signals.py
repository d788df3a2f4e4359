"""Change signals between processes: a named counter bumped in the transaction of a change (e.g. a dialogue was
published). Every process polls the counters it caches things by, at most once a second, so N web processes on
PostgreSQL and one process on SQLite notice a change the same way, within a second, with no extra service."""

from __future__ import annotations

from sqlalchemy import Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from overture.db import Base

TARGETING = "targeting"  # published dialogues, sites or custom fields changed: rebuild the selector


class Signal(Base):
    __tablename__ = "signals"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


def bump(session: Session, name: str) -> None:
    """Counts one change of `name`, in the caller's transaction (the row is created by the migration)."""
    result = session.execute(update(Signal).where(Signal.name == name).values(generation=Signal.generation + 1))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(Signal(name=name, generation=1))
        session.flush()


def generation(session: Session, name: str) -> int:
    return session.scalar(select(Signal.generation).where(Signal.name == name)) or 0
