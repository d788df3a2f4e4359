"""An agent's profile is made on their first change; two first changes at once (two tabs connecting a calendar)
make one profile and both go on. On PostgreSQL the second transaction inserts while the first has not committed:
it waits, is refused by the unique user id, and takes the first's profile (before the fix, a 500)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from overture.db import Database
from overture.scheduling import agents
from overture.scheduling.models import Agent
from overture.users.models import User
from racing import waiting_on_locks

from support import ENGINE, Personas

second_waits = threading.Event()


def ensure(db: Database, user_id: int, wrote: threading.Event | None = None) -> int:
    with db.write() as session:
        user = session.get(User, user_id)
        assert user is not None
        agent = agents.ensure_agent(session, user)
        if wrote is not None:
            wrote.set()
            assert second_waits.wait(timeout=30)  # held open until the other transaction waits on our row
        return agent.id


def test_two_first_changes_of_one_agent_at_once_make_one_profile(db: Database, personas: Personas) -> None:
    first_wrote = threading.Event()
    second_waits.clear()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(ensure, db, personas.bob.id, first_wrote)
        assert first_wrote.wait(timeout=30)
        second = pool.submit(ensure, db, personas.bob.id)
        if ENGINE == "postgresql":
            while waiting_on_locks(db) < 1 and not second.done():
                threading.Event().wait(0.05)  # polling the other transaction's progress (bounded by the timeout)
        second_waits.set()
        made, taken = first.result(timeout=30), second.result(timeout=30)

    assert made == taken
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Agent).where(Agent.user_id == personas.bob.id)) == 1
