"""The steps of a conversation around a meeting card, in order: offer times (or go on without them), then book the
time the visitor picks.

Reading calendars is a network call, so no step that reads them runs inside a writing transaction: the caller
hands in `read` and `write`, which run a function of a session in a transaction of their own (the web edge's
shared transaction, a test's plain one), and each step opens one only around its database work.

- `with_times`: after any call that leaves the conversation waiting for a meeting time, the times to offer; with
  none (nobody free, a calendar unreadable), the dialogue goes on at the card's on_unavailable in a second step.
- `pick_time`: the visitor's pick is read again from the calendars of the agents who may take it (outside any
  transaction), then booked in the writing transaction; a time just taken answers with fresh times. A booking that
  fails for any reason other than the visitor's own mistake is reported to the agents and admins, then raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import structlog
from sqlalchemy.orm import Session

from overture.calendars.world import CalendarWorld
from overture.conversations import service
from overture.errors import OvertureError
from overture.scheduling import booking

log = structlog.get_logger(__name__)
T = TypeVar("T")
# Runs a function of a session in a transaction of its own and returns what it returned.
Transaction = Callable[[Callable[[Session], T]], T]
# The longest failure reason a report carries.
REASON_LIMIT = 500


@dataclass(frozen=True)
class Answered:
    """What a call answers: the view, the times to offer when it waits for one, and the step taken just before in
    the same call (whose messages come first) when it went on without times."""

    view: service.View
    offer: booking.Offer | None = None
    earlier: service.View | None = None


def with_times(
    world: CalendarWorld, write: Transaction[service.View], view: service.View, token: str, now: datetime
) -> Answered:
    """`view` with the times to offer when it waits for a meeting time (see the module doc)."""
    if view.offer_for is None:
        return Answered(view)
    try:
        offer = booking.offer(world, view.offer_for, now)
    except OvertureError as exc:
        log.warning("meeting.offer_failed", conversation=view.conversation.public_id, error=exc.message)
        offer = booking.Offer((), timedelta(0), reason=exc.message)
    if offer.slots:
        return Answered(view, offer=offer)
    public_id, step = view.conversation.public_id, view.conversation.step
    after = write(lambda session: service.no_times(session, public_id, token, step, now))
    return Answered(after, earlier=view)


def pick_time(
    world: CalendarWorld,
    read: Transaction[booking.BookingRequest],
    write: Transaction[service.View],
    public_id: str,
    token: str,
    step: int,
    start: datetime,
    now: datetime,
    time_zone: str | None = None,
) -> Answered:
    """Books the time the visitor picked at `step` and goes on (see the module doc)."""
    wanted = read(lambda session: service.awaiting_time(session, public_id, token, step))
    try:
        prepared = booking.prepare(world, wanted, start, now)
        view = write(lambda session: service.book(session, world, public_id, token, step, prepared, now, time_zone))
    except OvertureError:
        raise  # the visitor's own mistake (a time not offered, a stale step): said to them, nothing failed
    except Exception as exc:
        reason = f"The booking could not be saved ({type(exc).__name__}: {exc})"[:REASON_LIMIT]
        booking.report_failure(world, wanted, start, reason, now)
        raise
    return with_times(world, write, view, token, now)
