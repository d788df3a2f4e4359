"""Compare-and-set on a conversation's row (STYLE.md habit 4): taking a step, ending the conversation.

Of the calls that answer one step, or end one conversation, at the same moment, only the one whose UPDATE still
finds the row as it read it goes on; the others match nothing and are refused. This holds across transactions and
processes: on PostgreSQL a loser waits on the winner's row lock, then its WHERE no longer matches. A read alone
(`require_active`) gives a refusal its message but decides nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from overture.conversations.models import Conversation
from overture.errors import Conflict, Problem

# Built once: this runs at every reply.
_TAKE_STEP = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("conversation_id"),
        Conversation.step == bindparam("step"),
        Conversation.status == "active",
    )
    .values(step=Conversation.step + 1)
    .execution_options(synchronize_session=False)
)


def require_active(conversation: Conversation, step: int) -> None:
    """Raises Conflict, saying why, when the conversation as read has ended or is not at `step`."""
    if conversation.status != "active":
        raise Conflict(f"This conversation has ended ({conversation.status}). Start a new one to chat again.")
    if step != conversation.step:
        raise _stale_step(step, conversation.step)


def take_step(session: Session, conversation: Conversation, step: int) -> None:
    """Moves the conversation from `step` to step + 1 for this call alone. Raises Conflict when it has ended or is
    not at `step`, also when another call took the step since it was read."""
    require_active(conversation, step)
    taken = session.execute(_TAKE_STEP, {"conversation_id": conversation.id, "step": step})
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise _stale_step(step, "a later step")
    set_committed_value(conversation, "step", step + 1)


def end(
    session: Session, conversation: Conversation, status: str, now: datetime, *, silent_since: datetime | None = None
) -> bool:
    """Ends the active conversation with `status` (with `silent_since`: only if it had no reply since then). False,
    with the conversation read again, when another call ended or answered it first."""
    ending = update(Conversation).where(Conversation.id == conversation.id, Conversation.status == "active")
    if silent_since is not None:
        ending = ending.where(Conversation.updated_at < silent_since)
    ended = session.execute(ending.values(status=status, ended_at=now).execution_options(synchronize_session=False))
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(conversation)
        return False
    set_committed_value(conversation, "status", status)
    set_committed_value(conversation, "ended_at", now)
    return True


def _stale_step(step: int, current: int | str) -> Conflict:
    return Conflict(
        f"This reply answers step {step}, but the conversation is at step {current}: it was sent twice or out of "
        "order. Nothing was changed.",
        [Problem("step", f"Expected {current}.")],
    )
