"""The busy-time cache when many visitors reach a booking card at the same moment and the agent's calendar has not
been read yet (a new install, a calendar just connected): each visitor gets times, and the agent has one cache row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.calendars.models import BusyCache, CalendarConnection
from overture.db import Database
from racing import lined_up

from .bookings import Visitor, make_agents, publish_booking

VISITORS = 8


def test_visitors_reaching_a_booking_card_at_once_before_any_busy_time_is_cached_all_get_times(
    client: TestClient, db: Database
) -> None:
    [agent_id] = make_agents(db, 1)
    publish_booking(db)
    visitors = [Visitor(client) for _ in range(VISITORS)]
    for visitor in visitors:
        visitor.start()
        assert visitor.choose("0")["expected"]["kind"] == "email"
    at_once = threading.Barrier(VISITORS)

    def give_email(number: int) -> tuple[int, Any]:
        visitor = visitors[number]
        at_once.wait()
        response = visitor.call("replies", {"step": visitor.step, "text": f"visitor{number}@acme.example"})
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=VISITORS) as pool:
        # On PostgreSQL, the agent's calendar connection (each calendar read updates it) is held until every visitor's
        # read waits on a lock: each has looked for a cached answer before any stores one.
        connection = select(CalendarConnection.id).where(CalendarConnection.agent_id == agent_id)
        with lined_up(db, connection, contenders=VISITORS):
            answers = [pool.submit(give_email, number) for number in range(VISITORS)]
        results = [answer.result() for answer in answers]

    assert [status for status, _ in results] == [200] * VISITORS, [body for _, body in results]
    assert all(body["expected"]["kind"] == "meeting" and body["meeting"]["days"] for _, body in results)
    with db.read() as session:
        assert session.scalars(select(BusyCache.agent_id)).all() == [agent_id]
