"""At least once, never twice: a worker killed (SIGKILL, no cleanup) after an automation's actions were done and
before their run was acknowledged leaves nothing done, and the next run does everything once."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

from sqlalchemy import select

from overture.activities.service import ActivityType
from overture.db import Database
from overture.mail.models import OutboxMessage
from overture.programs.models import ListMember, ProgramMemberChange

from .helpers import (
    BASE_URL,
    LATER,
    T0,
    activity,
    automation,
    goal_automation,
    person,
    program,
    run_job,
    runs,
    static_list,
)

# The job, in a process of its own that kills itself the moment the actions are done, before the feed's checkpoint
# moves and the transaction commits: as `kill -9` of the worker would at the worst moment.
KILLED_AT_THE_ACKNOWLEDGEMENT = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime
    from overture.activities import feed
    from overture.automations import runner
    from overture.db import Database

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    feed.advance = killed
    runner.run_due(Database.from_url(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3])
    """
)


def done(db: Database) -> tuple[int, int, int, int]:
    """Runs, status changes, list members and mails written so far."""
    with db.read() as session:
        return (
            len(runs(db)),
            len(session.scalars(select(ProgramMemberChange)).all()),
            len(session.scalars(select(ListMember)).all()),
            len(session.scalars(select(OutboxMessage)).all()),
        )


def test_a_worker_killed_between_the_actions_and_their_acknowledgement_does_them_once_on_the_next_run(
    db: Database, database_url: str
) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    automation(db, **goal_automation(spring, hot))
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT_THE_ACKNOWLEDGEMENT, database_url, LATER.isoformat(), BASE_URL],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert done(db) == (0, 0, 0, 0), "nothing of a run that was not acknowledged"

    assert run_job(db, LATER + timedelta(minutes=1), again=True) == 1
    assert run_job(db, LATER + timedelta(minutes=2), again=True) == 0
    assert done(db) == (1, 1, 1, 1), "each action once"
