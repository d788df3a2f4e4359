"""What a merge of two people (people/identity.py) does to their programs and lists, before it moves every row of
the merged person to the survivor. A person is in a program once and on a list once, so where both are, one row
must go first (the unique indexes would refuse the move):

- a program both are in: the survivor keeps the later step of the two (progression, as Marketo keeps the furthest
  status), and the earlier join time; when that changes the survivor's status, a history row says so, with the
  source "merge". The merged person's own history rows move to the survivor afterwards, like every other row.
- a list both are on: the survivor stays on it, added at the earlier time.

Called through the tables' `info["on_merge"]` (models.py) as f(session, merged_id, survivor_id, now).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased

from overture.programs.models import ListMember, ProgramMember, ProgramMemberChange, ProgramStatus
from overture.programs.source import Source


def program_members(session: Session, merged_id: int, survivor_id: int, now: datetime) -> None:
    theirs, ours = aliased(ProgramMember), aliased(ProgramMember)
    their_status, our_status = aliased(ProgramStatus), aliased(ProgramStatus)
    both = session.execute(
        select(theirs, ours, their_status, our_status)
        .join(ours, (ours.program_id == theirs.program_id) & (ours.person_id == survivor_id))
        .join(their_status, their_status.id == theirs.status_id)
        .join(our_status, our_status.id == ours.status_id)
        .where(theirs.person_id == merged_id)
    )
    source = Source.merged(merged_id)
    for merged, survivor, merged_status, survivor_status in list(both):
        values: dict[str, object] = {"joined_at": min(merged.joined_at, survivor.joined_at)}
        if merged_status.step > survivor_status.step:
            values |= {"status_id": merged_status.id, "changed_at": merged.changed_at}
            session.add(
                ProgramMemberChange(
                    program_id=survivor.program_id,
                    person_id=survivor_id,
                    from_status=survivor_status.name,
                    from_step=survivor_status.step,
                    to_status=merged_status.name,
                    to_step=merged_status.step,
                    changed_at=now,
                    source_kind=source.kind.value,
                    source_ref=source.ref,
                )
            )
        session.execute(delete(ProgramMember).where(ProgramMember.id == merged.id))
        session.execute(update(ProgramMember).where(ProgramMember.id == survivor.id).values(values))
        session.expunge(merged)
        session.expire(survivor)
    session.flush()


def list_members(session: Session, merged_id: int, survivor_id: int, now: datetime) -> None:
    theirs, ours = aliased(ListMember), aliased(ListMember)
    both = session.execute(
        select(theirs, ours)
        .join(ours, (ours.list_id == theirs.list_id) & (ours.person_id == survivor_id))
        .where(theirs.person_id == merged_id)
    )
    for merged, survivor in list(both):
        session.execute(delete(ListMember).where(ListMember.id == merged.id))
        added = min(merged.added_at, survivor.added_at)
        session.execute(update(ListMember).where(ListMember.id == survivor.id).values(added_at=added))
        session.expunge(merged)
        session.expire(survivor)
    session.flush()
