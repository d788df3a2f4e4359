"""When agents are busy according to their own calendars, read through each provider and kept briefly.

Reading a calendar is a network call: it happens here, outside any writing transaction, in parallel for a team.
An answer is kept in `calendar_busy_cache` for `settings.busy_cache_seconds` (default 60 s) so that showing slots
to many visitors does not call the provider for each; booking reads the chosen agent's calendar again (`fresh`).
Overture's own meetings are not part of this: booking adds them from the meetings table, in its transaction.

An agent whose calendar cannot be checked is not offered (None): a calendar that refuses our credentials or is
gone marks the agent "needs attention" (scheduling/attention.py); a passing failure (throttling, a 5xx) only skips
the agent this time.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from overture.calendars.connections import open_calendar
from overture.calendars.models import BusyCache, CalendarConnection
from overture.calendars.provider import CalendarError
from overture.calendars.world import CalendarWorld
from overture.scheduling import attention
from overture.scheduling.availability import Busy
from overture.scheduling.models import Agent

log = structlog.get_logger(__name__)

# Failures only the agent can fix: routing skips them until they reconnect.
LASTING_FAILURES = frozenset({"credentials", "gone", "rejected"})
MAX_PARALLEL_READS = 8

BusyTimes = dict[int, list[Busy] | None]


def read_busy(
    world: CalendarWorld,
    agent_ids: Sequence[int],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    fresh: bool = False,
) -> BusyTimes:
    """Each agent's busy times overlapping [start, end): from the cache when it covers the range and is recent
    (unless `fresh`), else from their calendar. None for an agent with no calendar connected or whose calendar
    could not be read."""
    ttl = timedelta(seconds=world.settings.busy_cache_seconds)
    with world.db.read() as session:
        connections = {c.agent_id: c for c in session.scalars(
            select(CalendarConnection).where(CalendarConnection.agent_id.in_(agent_ids)))}  # fmt: skip
        cached = {c.agent_id: c for c in session.scalars(select(BusyCache).where(BusyCache.agent_id.in_(agent_ids)))}
        session.expunge_all()
    found: BusyTimes = {}
    to_read: list[CalendarConnection] = []
    for agent_id in agent_ids:
        connection = connections.get(agent_id)
        entry = cached.get(agent_id)
        if connection is None:
            found[agent_id] = None
        elif not fresh and entry is not None and _covers(entry, start, end, now - ttl):
            found[agent_id] = _overlapping(entry, start, end)
        else:
            to_read.append(connection)
    if to_read:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_READS, len(to_read))) as pool:
            answers = list(pool.map(lambda c: _read_calendar(world, c, start, end), to_read))
        _remember(world, to_read, answers, start, end, now)
        for connection, answer in zip(to_read, answers, strict=True):
            found[connection.agent_id] = answer if isinstance(answer, list) else None
    return found


def _covers(entry: BusyCache, start: datetime, end: datetime, oldest: datetime) -> bool:
    return entry.fetched_at >= oldest and entry.range_start <= start and entry.range_end >= end


def _overlapping(entry: BusyCache, start: datetime, end: datetime) -> list[Busy]:
    times = [Busy(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in entry.intervals]
    return [busy for busy in times if busy.start < end and busy.end > start]


def _read_calendar(
    world: CalendarWorld, connection: CalendarConnection, start: datetime, end: datetime
) -> list[Busy] | CalendarError:
    try:
        provider = open_calendar(world, connection)
        return [Busy(item.start, item.end) for item in provider.busy(start, end)]
    except CalendarError as exc:
        log.warning("calendar.read_failed", agent_id=connection.agent_id, reason=exc.reason, error=exc.message)
        return exc


def _remember(
    world: CalendarWorld,
    connections: Sequence[CalendarConnection],
    answers: Sequence[list[Busy] | CalendarError],
    start: datetime,
    end: datetime,
    now: datetime,
) -> None:
    """Stores the answers read and the state of each calendar (working again, or needing attention)."""
    with world.db.write() as session:
        for connection, answer in zip(connections, answers, strict=True):
            agent = session.get(Agent, connection.agent_id)
            if agent is None:
                continue
            if isinstance(answer, CalendarError):
                if answer.reason in LASTING_FAILURES:
                    attention.mark(session, agent, answer.message, now, world.settings.base_url)
                continue
            intervals = [[busy.start.isoformat(), busy.end.isoformat()] for busy in answer]
            _store(session, connection.agent_id, start, end, now, intervals)
            live = session.get(CalendarConnection, connection.id)
            if live is not None:
                live.checked_at = now
            if agent.attention is not None:
                attention.clear(session, agent)


def _store(
    session: Session, agent_id: int, start: datetime, end: datetime, now: datetime, intervals: list[list[str]]
) -> None:
    """Writes the agent's cache row whether or not one exists: an upsert, because visitors reaching a booking card
    at the same moment all find no row and all store one (a get-or-create would break on the primary key)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {"range_start": start, "range_end": end, "fetched_at": now, "intervals": intervals}
    statement = insert(BusyCache).values(agent_id=agent_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=[BusyCache.agent_id], set_=values))
